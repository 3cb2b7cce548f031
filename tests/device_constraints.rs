//! Constraint values are checked before a device is looked up or opened: a microphone or a
//! camera that does not exist gives the same InvalidArg (and, for required members that
//! exclude each other, the same OverconstrainedError) as one that does, in the same words for
//! audio and video. Only valid constraints get as far as NoDevice.

use mst::constraints::{AudioConstraints, ConstrainRange};
use mst::source::alsa::microphone;
use mst::source::v4l2::{camera, CameraOptions};
use mst::{ErrorKind, VideoConstraints};

const NO_MICROPHONE: &str = "hw:CARD=NoSuchCard";
const NO_CAMERA: &str = "v4l2:nosuch:0";

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

fn min(v: f64) -> ConstrainRange {
    ConstrainRange { min: Some(v), ..Default::default() }
}

fn min_max(min: f64, max: f64) -> ConstrainRange {
    ConstrainRange { min: Some(min), max: Some(max), ..Default::default() }
}

#[test]
fn a_microphone_checks_constraint_values_before_the_device() {
    let cases = [
        (AudioConstraints { sample_rate: exact(f64::NAN), ..Default::default() }, "sampleRate: exact NaN"),
        (AudioConstraints { sample_size: min(f64::INFINITY), ..Default::default() }, "sampleSize: min inf"),
        (AudioConstraints { channel_count: min(f64::NEG_INFINITY), ..Default::default() }, "channelCount: min -inf"),
    ];
    for (c, what) in cases {
        let e = microphone(NO_MICROPHONE, &c).unwrap_err();
        assert_eq!((e.kind, e.constraint), (ErrorKind::InvalidArg, None), "{e}");
        assert_eq!(e.message, format!("{what} is not a constraint value (it must be finite)"));
    }
    let c = AudioConstraints { channel_count: min_max(3.0, 2.0), ..Default::default() };
    let e = microphone(NO_MICROPHONE, &c).unwrap_err();
    assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("channelCount")), "{e}");
    assert_eq!(
        e.message,
        format!("channelCount: no value satisfies min 3, max 2 (asked of ALSA device \"{NO_MICROPHONE}\")")
    );
    let e = microphone(NO_MICROPHONE, &AudioConstraints::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");
}

#[test]
fn a_camera_checks_constraint_values_before_the_device() {
    let cases = [
        (VideoConstraints { width: exact(f64::NAN), ..Default::default() }, "width: exact NaN"),
        (VideoConstraints { frame_rate: min(f64::INFINITY), ..Default::default() }, "frameRate: min inf"),
        (VideoConstraints { aspect_ratio: min(f64::NEG_INFINITY), ..Default::default() }, "aspectRatio: min -inf"),
    ];
    for (c, what) in cases {
        let e = camera(NO_CAMERA, &c, &CameraOptions::default()).unwrap_err();
        assert_eq!((e.kind, e.constraint), (ErrorKind::InvalidArg, None), "{e}");
        assert_eq!(e.message, format!("{what} is not a constraint value (it must be finite)"));
    }
    let c = VideoConstraints { height: min_max(3.0, 2.0), ..Default::default() };
    let e = camera(NO_CAMERA, &c, &CameraOptions::default()).unwrap_err();
    assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("height")), "{e}");
    assert_eq!(e.message, format!("height: no value satisfies min 3, max 2 (asked of V4L2 device \"{NO_CAMERA}\")"));
    let e = camera(NO_CAMERA, &VideoConstraints::default(), &CameraOptions::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");
}
