//! Fake devices from Rust: listed by the device enumeration until removed, and opened through
//! the same entry points as real cameras and microphones.

use std::time::Duration;

use mst::device::{enumerate, DeviceKind};
use mst::source::fake::{FakeDevice, FakeInit, FakeMedia, FakeVideo, Fault, FaultKind, Pacing};
use mst::source::v4l2::{camera, CameraFormat, CameraOptions};
use mst::*;

fn fake_camera(name: &str, faults: Vec<Fault>) -> std::sync::Arc<FakeDevice> {
    FakeDevice::add(FakeInit { faults, ..FakeInit::camera(name) }).unwrap()
}

fn listed(id: &str) -> Vec<DeviceKind> {
    enumerate().unwrap().into_iter().filter(|d| d.device_id == id).map(|d| d.kind).collect()
}

#[test]
fn enumeration_lists_fakes_until_they_are_removed() {
    let cam = fake_camera("rust-enum", Vec::new());
    let mic =
        FakeDevice::add(FakeInit { label: "A microphone".into(), ..FakeInit::microphone("rust-enum-mic") }).unwrap();
    assert_eq!(listed("fake:rust-enum"), [DeviceKind::VideoInput]);
    assert_eq!(listed("fake:rust-enum-mic"), [DeviceKind::AudioInput]);
    let all = enumerate().unwrap();
    let mic_info = all.iter().find(|d| d.device_id == "fake:rust-enum-mic").unwrap();
    assert_eq!(mic_info.label, "A microphone");
    // Last of its kind: every audio input before the fake is real, every one after is fake.
    let at = all.iter().position(|d| d.device_id == "fake:rust-enum-mic").unwrap();
    assert!(all[at + 1..].iter().all(|d| d.kind != DeviceKind::AudioInput || d.device_id.starts_with("fake:")));
    cam.remove();
    assert!(listed("fake:rust-enum").is_empty());
    assert_eq!(listed("fake:rust-enum-mic"), [DeviceKind::AudioInput]);
    mic.remove();
    assert!(listed("fake:rust-enum-mic").is_empty());
}

#[test]
fn a_fake_camera_opens_as_a_camera_and_an_unplug_ends_it() {
    let dev = fake_camera("rust-unplug", vec![Fault { at: 4, kind: FaultKind::Unplug }]);
    let track = camera("fake:rust-unplug", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    let s = track.settings();
    assert_eq!((s.width, s.height, s.frame_rate), (Some(32), Some(16), Some(25.0)));
    let p = Processor::new(&track, 1);
    for n in 0..4u64 {
        let d = p.read(Wait::For(Duration::from_secs(30))).unwrap();
        let v = d.frame.video().unwrap();
        assert_eq!((v.capture_sequence, v.timestamp), (Some(n), n as i64 * 40_000));
    }
    assert_eq!(p.read(Wait::For(Duration::from_secs(30))).unwrap_err().kind, ErrorKind::Ended);
    assert_eq!(track.end_reason(), Some(EndReason::DeviceLost));
    assert!(listed("fake:rust-unplug").is_empty());
    dev.remove();
}

#[test]
fn a_fake_camera_reports_its_rate_exactly_and_stamps_frames_on_its_clock() {
    let dev = FakeDevice::add(FakeInit {
        name: "rust-30fps".into(),
        label: String::new(),
        media: FakeMedia::Video(FakeVideo {
            width: 16,
            height: 8,
            format: CameraFormat::Yuyv,
            stride: 0,
            frame_rate: 30.0,
            jpeg_frames: Vec::new(),
        }),
        pacing: Pacing::Lossless,
        frame_count: 0,
        faults: Vec::new(),
    })
    .unwrap();
    let track = camera("fake:rust-30fps", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    assert_eq!(track.settings().frame_rate, Some(30.0));
    let p = Processor::new(&track, 1);
    for n in 0..4i64 {
        let d = p.read(Wait::For(Duration::from_secs(30))).unwrap();
        let v = d.frame.video().unwrap();
        assert_eq!((v.timestamp, v.duration), ((n as f64 * 1e6 / 30.0).round() as i64, Some(33_333)));
    }
    dev.remove();
    assert_eq!(track.end_reason(), Some(EndReason::DeviceLost));
}

/// A GREY camera through the public API, at an odd size with padded rows: I420 frames whose
/// luma is the camera's (frame n's index in its first 8 samples, mid grey after) and whose
/// chroma, rounded up to 9x5, is all 128 (the copy path; lending is tests/vm_grey.rs').
#[test]
fn a_grey_camera_delivers_i420_with_neutral_chroma() {
    let video = FakeVideo {
        width: 17,
        height: 9,
        format: CameraFormat::Grey,
        stride: 24,
        frame_rate: 25.0,
        jpeg_frames: Vec::new(),
    };
    let dev = FakeDevice::add(FakeInit { media: FakeMedia::Video(video), ..FakeInit::camera("rust-grey") }).unwrap();
    let options = CameraOptions { format: Some(CameraFormat::Grey) };
    let track = camera("fake:rust-grey", &VideoConstraints::default(), &options).unwrap();
    let p = Processor::new(&track, 1);
    for n in 0..3u64 {
        let f = p.read(Wait::For(Duration::from_secs(30))).unwrap().frame;
        let v = f.video().unwrap();
        assert_eq!((v.format, v.coded_width, v.coded_height), (VideoPixelFormat::I420, 17, 9));
        assert_eq!(v.color_space.full_range, Some(true), "GREY is full range unless the driver says otherwise");
        let (luma, s) = f.plane(0).unwrap();
        assert_eq!(luma[..8], n.to_le_bytes(), "frame {n}");
        assert!((0..9).all(|r| luma[r * s..r * s + 17].iter().enumerate().all(|(i, &y)| y == 128 || r == 0 && i < 8)));
        for plane in [1, 2] {
            let (c, s) = f.plane(plane).unwrap();
            assert!((0..5).all(|r| c[r * s..r * s + 9].iter().all(|&b| b == 128)), "frame {n} plane {plane}");
        }
        assert_eq!(f.dmabuf_plane(0), None, "a copied frame has no DMA-BUF");
    }
    track.stop();
    dev.remove();
}
