//! An MJPEG stream's decoders (their scratch: about 5 MB each at 1080p) are freed when the
//! stream ends and its last frame is freed: the camera's conversion path
//! (`source::v4l2::Converter`, which the capture thread owns and drops when the track ends),
//! decoding at once and lazily (the frames hold their stream's decoders until decoded). One
//! test in this binary: the counts (`mst::convert::jpeg::live_decoders`) are the process's.

use mst::convert::jpeg::live_decoders;
use mst::frame::Frame;
use mst::source::v4l2::{CameraFormat, Converter};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mjpeg/repro/");

#[test]
fn a_streams_decoders_are_freed_with_it_and_its_last_frame() {
    assert_eq!(live_decoders(), (0, 0));
    let frames: Vec<Vec<u8>> = ["1-s420-dqtA.jpg", "2-s422-dqtB.jpg", "3-s420-no-dqt.jpg"]
        .iter()
        .map(|n| std::fs::read(format!("{DIR}{n}")).unwrap())
        .collect();

    // Decoding at once: the converter's decoder, freed with it.
    let mut now = Converter::new(CameraFormat::Mjpeg, 640, 480, 0).unwrap();
    let decoded: Vec<Frame> = frames.iter().map(|f| now.frame(f, 0, None, None).unwrap().unwrap()).collect();
    let (n, bytes) = live_decoders();
    // The 4:2:2 frame's scan went through libmst's Huffman decoder: its scratch is there.
    assert!(n == 1 && bytes > 300_000, "{n} decoders, {bytes} bytes");
    drop(now);
    assert_eq!(live_decoders(), (0, 0), "the frames decoded at once hold no decoder");
    drop(decoded);

    // Lazily: the converter's decoder (headers, tables), and its frames' decoders.
    let mut lazy = Converter::new(CameraFormat::Mjpeg, 640, 480, 0).unwrap();
    lazy.set_lazy(true);
    let made: Vec<Frame> = (0..6).map(|i| lazy.frame(&frames[i % 3], i as i64, None, None).unwrap().unwrap()).collect();
    let unread = lazy.frame(&frames[1], 6, None, None).unwrap().unwrap();
    // Two threads read at once: up to two decoders for the frames.
    std::thread::scope(|s| {
        for half in made.chunks(3) {
            s.spawn(move || half.iter().for_each(|f| assert!(!f.data().is_empty())));
        }
    });
    let (n, bytes) = live_decoders();
    assert!((2..=3).contains(&n) && bytes > 300_000, "{n} decoders, {bytes} bytes");
    drop(lazy);
    // The stream is gone; a frame nobody has read still holds the decoders it will use.
    let (n, _) = live_decoders();
    assert!((1..=2).contains(&n), "{n} decoders");
    drop(made);
    assert_eq!(live_decoders().0, n, "decoded frames hold no decoder");
    drop(unread);
    assert_eq!(live_decoders(), (0, 0));
}
