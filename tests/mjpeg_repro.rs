//! The MJPEG frames the decoder once answered wrongly (tests/data/mjpeg/README.md, `repro/`),
//! through the camera's conversion path (`source::v4l2::Converter`), decoding at once and (as
//! cameras use it) lazily; the decoder's own tests (`repro::*` in src/convert/jpeg/mod.rs) hold
//! every path to libjpeg.

use mst::convert::jpeg::{Decoded, Decoder};
use mst::frame::{Frame, VideoPixelFormat};
use mst::source::v4l2::{CameraFormat, Converter};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mjpeg/repro/");

fn file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn converter(lazy: bool) -> Converter {
    let mut c = Converter::new(CameraFormat::Mjpeg, 640, 480, 0).expect("libturbojpeg.so.0 (scripts/deps.sh)");
    c.set_lazy(lazy);
    c
}

/// The three planes of a frame, tightly packed.
fn planes(f: &Frame) -> Vec<Vec<u8>> {
    (0..3)
        .map(|p| {
            let (w, h) = if p == 0 { (640, 480) } else { (320, 240) };
            let (data, stride) = f.plane(p).unwrap();
            (0..h).flat_map(|y| data[y * stride..y * stride + w].to_vec()).collect()
        })
        .collect()
}

/// A frame that fails to decode after a good one, into the same pooled buffers and decoder:
/// no frame at all, decoding at once or lazily (its decode would fail as it starts: a table
/// libjpeg refuses).
#[test]
fn a_failed_decode_never_delivers_the_frame_before() {
    let good = file("1-s420-dqtA.jpg");
    for bad in ["sos-al-bogus-dht-420.jpg", "sos-al-bogus-dht-422.jpg", "sos-al-bogus-dht-444.jpg"] {
        let bad = &file(bad);
        for lazy in [false, true] {
            let mut c = converter(lazy);
            let before = c.frame(&good, 0, None, None).unwrap().expect("the good frame");
            assert!(!planes(&before)[0].is_empty());
            // The good frame's buffer is back in the pool: the bad one would get it.
            drop(before);
            assert!(c.frame(bad, 1, None, None).unwrap().is_none(), "a failed frame is dropped (lazy {lazy})");
            // The good frame has no DHT: after this one it takes its bogus DC table, and fails
            // as it does in one libjpeg decoder given the two (the table history is the stream's).
            assert!(c.frame(&good, 2, None, None).unwrap().is_none(), "lazy {lazy}");
        }
    }
}

/// A lazy frame whose decode fails only once under way (an unknown marker after its scan:
/// libjpeg fails reading on to EOI) already exists when it fails: it is black, never the
/// pixels of the frame whose buffer it reuses.
#[test]
fn a_lazy_frame_that_fails_under_way_is_black() {
    let good = file("1-s420-dqtA.jpg");
    let bad = [&good[..good.len() - 2], &[0xFF, 0x02, 0xFF, 0xD9][..]].concat();
    assert!(converter(false).frame(&bad, 0, None, None).unwrap().is_none(), "it fails decoding at once");
    let mut lazy = converter(true);
    let f = lazy.frame(&good, 0, None, None).unwrap().unwrap();
    assert!(planes(&f)[0].iter().any(|&y| y != 0));
    drop(f);
    let f = lazy.frame(&bad, 1, None, None).unwrap().expect("made before it is decoded");
    let got = planes(&f);
    assert!(got[0].iter().all(|&y| y == 0), "black luma");
    assert!(got[1..].iter().flatten().all(|&c| c == 128), "neutral chroma");
}

/// One table history per stream whatever the path and order: frames 1 (4:2:0, tables A),
/// 2 (4:2:2, tables B) and 3 (4:2:0, no DQT), decoded lazily in the reverse order, are the
/// frames decoded at once in order, where frame 3 takes tables B.
#[test]
fn lazy_frames_keep_their_streams_tables_in_any_order() {
    let frames = [file("1-s420-dqtA.jpg"), file("2-s422-dqtB.jpg"), file("3-s420-no-dqt.jpg")];
    let mut now = converter(false);
    let expected: Vec<_> = frames.iter().map(|f| planes(&now.frame(f, 0, None, None).unwrap().unwrap())).collect();
    let mut lazy = converter(true);
    let made: Vec<Frame> = frames.iter().map(|f| lazy.frame(f, 0, None, None).unwrap().unwrap()).collect();
    for (i, f) in made.iter().enumerate().rev() {
        assert!(planes(f) == expected[i], "frame {}", i + 1);
    }
    // Frame 3 after frame 1 only (tables A) is another picture: the order matters.
    let mut a = converter(false);
    a.frame(&frames[0], 0, None, None).unwrap().unwrap();
    let with_a = planes(&a.frame(&frames[2], 0, None, None).unwrap().unwrap());
    assert!(with_a != expected[2]);
}

/// One decode of `jpeg` by `d` into a new frame: its report, and its planes when it decoded.
fn decode(d: &mut Decoder, jpeg: &[u8]) -> (String, Option<Vec<Vec<u8>>>) {
    let mut report = String::new();
    let f = Frame::video_with(VideoPixelFormat::I420, 640, 480, 0, None, |img| {
        report = match d.decode_i420(jpeg, img) {
            Ok(Decoded::Clean) => "clean".into(),
            Ok(Decoded::Damaged) => "damaged".into(),
            Err(e) => format!("error: {}", e.message),
        }
    })
    .unwrap();
    let ok = !report.starts_with("error");
    (report, ok.then(|| planes(&f)))
}

/// Every repro frame, as one stream, decodes the same on one thread and on two (4:2:2 frames of
/// 640x480 and more are Huffman-decoded on two threads when kernels may split).
#[test]
fn one_and_two_threads_agree_on_every_repro_frame() {
    let names = [
        "1-s420-dqtA.jpg",
        "2-s422-dqtB.jpg",
        "3-s420-no-dqt.jpg",
        "gray-junk-before-eoi.jpg",
        "sos-al-bogus-dht-420.jpg",
        "sos-al-bogus-dht-422.jpg",
        "sos-al-bogus-dht-444.jpg",
        "2-s422-dqtB.jpg",
    ];
    let run = |two: bool| {
        mst::convert::parallel::set_enabled(two);
        let mut d = Decoder::new().unwrap();
        names.iter().map(|n| decode(&mut d, &file(n))).collect::<Vec<_>>()
    };
    let (one, two) = (run(false), run(true));
    mst::convert::parallel::set_enabled(true);
    for (i, name) in names.iter().enumerate() {
        assert_eq!(one[i].0, two[i].0, "{name}");
        assert!(one[i].1 == two[i].1, "{name}: pixels differ");
    }
    // The last frame has no DHT: it takes the bogus DC table the frames before it defined, and
    // fails as it does after them in one libjpeg decoder (the table history is the stream's).
    let reports: Vec<&str> = one.iter().map(|r| r.0.split(':').next().unwrap()).collect();
    assert_eq!(reports, ["clean", "clean", "clean", "damaged", "error", "error", "error", "error"]);
}
