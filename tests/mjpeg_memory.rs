//! An MJPEG stream's decoders (their scratch: about 5 MB each at 1080p) are freed when the
//! stream ends and its last frame is freed: the camera's conversion path
//! (`source::v4l2::Converter`, which the capture thread owns and drops when the track ends),
//! decoding at once and lazily (the frames hold their stream's decoders until decoded), and
//! through a camera track (a fake MJPEG camera) that ends. One
//! test in this binary: the counts (`mst::convert::jpeg::live_decoders`) are the process's.

use mst::convert::jpeg::live_decoders;
use mst::frame::Frame;
use std::time::{Duration, Instant};

use mst::source::fake::{FakeDevice, FakeInit, FakeMedia, FakeVideo, Pacing};
use mst::source::v4l2::{camera, CameraFormat, CameraOptions, Converter};
use mst::{Processor, VideoConstraints, Wait};

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

    // Through a camera track (a fake one: the same capture path after the read): once the
    // track has ended and its frames are freed, its decoders are gone.
    let dev = FakeDevice::add(FakeInit {
        name: "mjpeg-memory".into(),
        label: String::new(),
        media: FakeMedia::Video(FakeVideo {
            width: 640,
            height: 480,
            format: CameraFormat::Mjpeg,
            stride: 0,
            frame_rate: 30.0,
            jpeg_frames: frames.clone(),
        }),
        pacing: Pacing::Lossless,
        frame_count: 0,
        faults: Vec::new(),
    })
    .unwrap();
    let track = camera("fake:mjpeg-memory", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    let p = Processor::new(&track, 2);
    let read: Vec<Frame> = (0..6)
        .map(|_| p.read(Wait::For(Duration::from_secs(30))).unwrap().frame)
        .inspect(|f| assert!(!f.data().is_empty()))
        .collect();
    assert!(live_decoders().0 >= 1, "a running MJPEG camera decodes with at least one decoder");
    track.stop();
    drop(p);
    drop(read);
    // The capture thread drops the stream's converter as it sees the end: wait for it (the
    // bound only tells a leak from a busy machine).
    let deadline = Instant::now() + Duration::from_secs(30);
    while live_decoders() != (0, 0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(live_decoders(), (0, 0), "an ended camera track's decoders are freed");
    dev.remove();
}
