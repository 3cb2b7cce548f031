//! MJPEG through the camera's own conversion path (`source::v4l2::Converter`, what the capture
//! thread calls for every V4L2 buffer), on real JPEG frames (tests/data/mjpeg/README.md): vivid
//! has no MJPEG, so the frames come from files. The expected values are the JFIF YCbCr of the
//! colours the images were made from, not any decoder's output.

use mst::frame::{Frame, VideoPixelFormat};
use mst::source::v4l2::{CameraFormat, Converter};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mjpeg/");

fn jpeg(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// JFIF's full-range BT.601 YCbCr of an RGB colour.
fn ycbcr((r, g, b): (f64, f64, f64)) -> (f64, f64, f64) {
    let y = 0.299 * r + 0.587 * g + 0.114 * b;
    let cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    let cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b;
    (y, cb, cr)
}

const QUADRANTS: [(f64, f64, f64); 4] =
    [(200.0, 40.0, 40.0), (40.0, 180.0, 60.0), (30.0, 60.0, 200.0), (128.0, 128.0, 128.0)];
/// Flat 8x8 blocks keep only their DC term, which quality 95 quantises finely; the colour
/// conversion rounds once in the encoder and once here.
const TOLERANCE: f64 = 1.5;

fn sample(f: &Frame, plane: usize, x: usize, y: usize) -> u8 {
    let (data, stride) = f.plane(plane).unwrap();
    data[y * stride + x]
}

fn check(f: &Frame, w: usize, h: usize, colour: impl Fn(usize, usize) -> (f64, f64, f64), grey: bool, what: &str) {
    let v = f.video().unwrap();
    assert_eq!((v.format, v.coded_width as usize, v.coded_height as usize), (VideoPixelFormat::I420, w, h), "{what}");
    for y in 0..h {
        for x in 0..w {
            let (ey, _, _) = ycbcr(colour(x, y));
            let got = sample(f, 0, x, y) as f64;
            assert!((got - ey).abs() <= TOLERANCE, "{what}: Y({x},{y}) = {got}, expected {ey:.1}");
        }
    }
    for cy in 0..h.div_ceil(2) {
        for cx in 0..w.div_ceil(2) {
            let (_, ecb, ecr) = if grey { (0.0, 128.0, 128.0) } else { ycbcr(colour(2 * cx, 2 * cy)) };
            let (u, v) = (sample(f, 1, cx, cy) as f64, sample(f, 2, cx, cy) as f64);
            assert!(
                (u - ecb).abs() <= TOLERANCE && (v - ecr).abs() <= TOLERANCE,
                "{what}: U,V({cx},{cy}) = {u},{v}, expected {ecb:.1},{ecr:.1}"
            );
        }
    }
}

fn quadrant(x: usize, y: usize) -> (f64, f64, f64) {
    QUADRANTS[(x >= 32) as usize + 2 * (y >= 16) as usize]
}

/// A converter decoding at once, or (as cameras use it) on first pixel access: each test runs
/// both, and a lazy frame must not have decoded before the check reads it.
fn converters(w: u32, h: u32) -> [(Converter, bool); 2] {
    let make = |lazy| {
        let mut c = Converter::new(CameraFormat::Mjpeg, w, h, 0)
            .expect("libturbojpeg.so.0 (scripts/deps.sh installs libturbojpeg0)");
        c.set_lazy(lazy);
        (c, lazy)
    };
    [make(false), make(true)]
}

fn decoded(
    conv: &mut Converter,
    lazy: bool,
    data: &[u8],
    ts: i64,
    duration: Option<i64>,
    seq: Option<u64>,
    what: &str,
) -> Option<Frame> {
    let f = conv.frame(data, ts, duration, seq).unwrap()?;
    assert_eq!(f.pixels_made(), !lazy, "{what}: decoded before a pixel was read? (lazy {lazy})");
    Some(f)
}

#[test]
fn mjpeg_frames_decode_to_i420_with_and_without_huffman_tables() {
    for (mut conv, lazy) in converters(64, 32) {
        for sub in ["420", "422", "440", "444"] {
            for name in [format!("quad-{sub}.jpg"), format!("quad-{sub}-nodht.jpg")] {
                let f = decoded(&mut conv, lazy, &jpeg(&name), 1000, Some(33_333), Some(7), &name)
                    .unwrap_or_else(|| panic!("{name} did not decode"));
                let v = f.video().unwrap();
                assert_eq!((v.timestamp, v.duration, v.capture_sequence), (1000, Some(33_333), Some(7)), "{name}");
                check(&f, 64, 32, quadrant, false, &name);
                assert!(f.pixels_made());
            }
        }
        let f = decoded(&mut conv, lazy, &jpeg("quad-gray-nodht.jpg"), 0, None, None, "grey").unwrap();
        // A grey JPEG keeps the luma of the colours and has neutral chroma.
        check(&f, 64, 32, quadrant, true, "quad-gray-nodht.jpg");
    }
}

#[test]
fn mjpeg_at_a_size_that_is_not_whole_mcus() {
    // TurboJPEG writes luma padded to whole subsampling blocks (38 or 22): at odd sizes the
    // decode must not reach past the Y plane (into U, which the check would see).
    for (mut conv, lazy) in converters(37, 21) {
        for sub in ["420", "422", "440", "444"] {
            let name = format!("odd-37x21-{sub}-nodht.jpg");
            let f = decoded(&mut conv, lazy, &jpeg(&name), 0, None, None, &name).unwrap();
            check(&f, 37, 21, |_, _| (90.0, 160.0, 220.0), false, &name);
        }
    }
}

#[test]
fn broken_and_mismatched_mjpeg_frames_are_dropped_not_fatal() {
    for (mut conv, lazy) in converters(64, 32) {
        // Not a JPEG, too short, and a JPEG of another size: no frame, and the converter goes
        // on (a lazy converter checks the header before it makes a frame).
        assert!(conv.frame(&[0u8; 64], 0, None, None).unwrap().is_none());
        assert!(conv.frame(&[0xFF, 0xD8], 0, None, None).unwrap().is_none());
        assert!(conv.frame(&jpeg("odd-37x21-422-nodht.jpg"), 0, None, None).unwrap().is_none());
        // An Adobe RGB JPEG's components are R, G, B, not Y, U, V: dropped, not miscoloured.
        assert!(conv.frame(&jpeg("quad-rgb.jpg"), 0, None, None).unwrap().is_none(), "RGB JPEG, lazy {lazy}");
        // A frame cut short (as a camera sends when USB bandwidth runs out) still decodes with a
        // warning: the image is complete, its lost part grey.
        let whole = jpeg("quad-420-nodht.jpg");
        let cut = &whole[..whole.len() - 40];
        let f = decoded(&mut conv, lazy, cut, 0, None, None, "truncated")
            .expect("a truncated frame is repaired and delivered");
        assert_eq!(f.video().unwrap().coded_width, 64);
        // Its top rows arrived whole.
        assert!((sample(&f, 0, 0, 0) as f64 - ycbcr(QUADRANTS[0]).0).abs() <= TOLERANCE, "truncated, lazy {lazy}");
        // And the next good frame decodes exactly.
        let f = decoded(&mut conv, lazy, &whole, 0, None, None, "after errors").unwrap();
        check(&f, 64, 32, quadrant, false, "after errors");
    }
}

/// A lazy MJPEG frame shared by several threads decodes once: every reader sees the same
/// buffer, and frames nobody reads are never decoded.
#[test]
fn a_lazy_mjpeg_frame_decodes_once_for_every_reader() {
    let mut conv = Converter::new(CameraFormat::Mjpeg, 64, 32, 0).unwrap();
    conv.set_lazy(true);
    let data = jpeg("quad-422-nodht.jpg");
    let unread = conv.frame(&data, 0, None, None).unwrap().unwrap();
    let f = conv.frame(&data, 1, None, None).unwrap().unwrap();
    let addrs: Vec<usize> = std::thread::scope(|s| {
        let readers: Vec<_> = (0..4).map(|_| s.spawn(|| f.clone().plane(0).unwrap().0.as_ptr() as usize)).collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(addrs.windows(2).all(|w| w[0] == w[1]), "one decoded buffer for every reader: {addrs:x?}");
    check(&f, 64, 32, quadrant, false, "shared");
    assert!(!unread.pixels_made(), "a frame nobody read was decoded");
}

#[test]
fn rgb24_and_32_bit_rgb_buffers_keep_their_byte_order() {
    // The same conversion path for RGB cameras: RGB3 -> RGBX, BGR3 -> BGRX, XR24 -> BGRX as is.
    let (w, h, stride) = (5u32, 3u32, 17usize);
    let buf: Vec<u8> = (0..stride * h as usize).map(|i| (i * 7) as u8).collect();
    for (format, want) in [(CameraFormat::Rgb24, VideoPixelFormat::Rgbx), (CameraFormat::Bgr24, VideoPixelFormat::Bgrx)]
    {
        let mut conv = Converter::new(format, w, h, stride).unwrap();
        let f = conv.frame(&buf, 0, None, None).unwrap().unwrap();
        assert_eq!(f.video().unwrap().format, want);
        let (data, ds) = f.plane(0).unwrap();
        for y in 0..h as usize {
            for x in 0..w as usize {
                assert_eq!(
                    &data[y * ds + 4 * x..y * ds + 4 * x + 4],
                    &[buf[y * stride + 3 * x], buf[y * stride + 3 * x + 1], buf[y * stride + 3 * x + 2], 255]
                );
            }
        }
    }
    let stride = 24usize;
    let buf: Vec<u8> = (0..stride * h as usize).map(|i| (i * 3) as u8).collect();
    let mut conv = Converter::new(CameraFormat::Bgrx, w, h, stride).unwrap();
    let f = conv.frame(&buf, 0, None, None).unwrap().unwrap();
    let (data, ds) = f.plane(0).unwrap();
    assert_eq!(f.video().unwrap().format, VideoPixelFormat::Bgrx);
    for y in 0..h as usize {
        assert_eq!(&data[y * ds..y * ds + 20], &buf[y * stride..y * stride + 20]);
    }
    // A buffer shorter than the geometry is dropped.
    assert!(conv.frame(&buf[..stride * 2], 0, None, None).unwrap().is_none());
    // A stride shorter than a row is refused up front.
    assert!(Converter::new(CameraFormat::Rgb24, 5, 3, 14).is_err());
}
