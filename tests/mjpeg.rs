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

const QUADRANTS: [(f64, f64, f64); 4] = [(200.0, 40.0, 40.0), (40.0, 180.0, 60.0), (30.0, 60.0, 200.0), (128.0, 128.0, 128.0)];
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
            assert!((u - ecb).abs() <= TOLERANCE && (v - ecr).abs() <= TOLERANCE, "{what}: U,V({cx},{cy}) = {u},{v}, expected {ecb:.1},{ecr:.1}");
        }
    }
}

fn quadrant(x: usize, y: usize) -> (f64, f64, f64) {
    QUADRANTS[(x >= 32) as usize + 2 * (y >= 16) as usize]
}

#[test]
fn mjpeg_frames_decode_to_i420_with_and_without_huffman_tables() {
    let mut conv = Converter::new(CameraFormat::Mjpeg, 64, 32, 0).expect("libturbojpeg.so.0 (scripts/deps.sh installs libturbojpeg0)");
    for sub in ["420", "422", "440", "444"] {
        for name in [format!("quad-{sub}.jpg"), format!("quad-{sub}-nodht.jpg")] {
            let f = conv.frame(&jpeg(&name), 1000, Some(33_333), Some(7)).unwrap().unwrap_or_else(|| panic!("{name} did not decode"));
            check(&f, 64, 32, quadrant, false, &name);
            let v = f.video().unwrap();
            assert_eq!((v.timestamp, v.duration, v.capture_sequence), (1000, Some(33_333), Some(7)), "{name}");
        }
    }
    let f = conv.frame(&jpeg("quad-gray-nodht.jpg"), 0, None, None).unwrap().unwrap();
    // A grey JPEG keeps the luma of the colours and has neutral chroma.
    check(&f, 64, 32, quadrant, true, "quad-gray-nodht.jpg");
}

#[test]
fn mjpeg_at_a_size_that_is_not_whole_mcus() {
    // TurboJPEG writes luma padded to whole subsampling blocks (38 or 22): at odd sizes the
    // decode must not reach past the Y plane (into U, which the check would see).
    let mut conv = Converter::new(CameraFormat::Mjpeg, 37, 21, 0).unwrap();
    for sub in ["420", "422", "440", "444"] {
        let name = format!("odd-37x21-{sub}-nodht.jpg");
        let f = conv.frame(&jpeg(&name), 0, None, None).unwrap().unwrap();
        check(&f, 37, 21, |_, _| (90.0, 160.0, 220.0), false, &name);
    }
}

#[test]
fn broken_and_mismatched_mjpeg_frames_are_dropped_not_fatal() {
    let mut conv = Converter::new(CameraFormat::Mjpeg, 64, 32, 0).unwrap();
    // Not a JPEG, too short, and a JPEG of another size: no frame, and the converter goes on.
    assert!(conv.frame(&[0u8; 64], 0, None, None).unwrap().is_none());
    assert!(conv.frame(&[0xFF, 0xD8], 0, None, None).unwrap().is_none());
    assert!(conv.frame(&jpeg("odd-37x21-422-nodht.jpg"), 0, None, None).unwrap().is_none());
    // A frame cut short (as a camera sends when USB bandwidth runs out) still decodes with a
    // warning: the image is complete, its lost part grey.
    let whole = jpeg("quad-420-nodht.jpg");
    let cut = &whole[..whole.len() - 40];
    let f = conv.frame(cut, 0, None, None).unwrap().expect("a truncated frame is repaired and delivered");
    assert_eq!(f.video().unwrap().coded_width, 64);
    // And the next good frame decodes exactly.
    let f = conv.frame(&whole, 0, None, None).unwrap().unwrap();
    check(&f, 64, 32, quadrant, false, "after errors");
}

#[test]
fn rgb24_and_32_bit_rgb_buffers_keep_their_byte_order() {
    // The same conversion path for RGB cameras: RGB3 -> RGBX, BGR3 -> BGRX, XR24 -> BGRX as is.
    let (w, h, stride) = (5u32, 3u32, 17usize);
    let buf: Vec<u8> = (0..stride * h as usize).map(|i| (i * 7) as u8).collect();
    for (format, want) in [(CameraFormat::Rgb24, VideoPixelFormat::Rgbx), (CameraFormat::Bgr24, VideoPixelFormat::Bgrx)] {
        let mut conv = Converter::new(format, w, h, stride).unwrap();
        let f = conv.frame(&buf, 0, None, None).unwrap().unwrap();
        assert_eq!(f.video().unwrap().format, want);
        let (data, ds) = f.plane(0).unwrap();
        for y in 0..h as usize {
            for x in 0..w as usize {
                assert_eq!(&data[y * ds + 4 * x..y * ds + 4 * x + 4], &[buf[y * stride + 3 * x], buf[y * stride + 3 * x + 1], buf[y * stride + 3 * x + 2], 255]);
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
