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
