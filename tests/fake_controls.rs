//! Camera controls with automatic modes (exposureMode, whiteBalanceMode, focusMode), through
//! the public API: a fake camera given a UVC webcam's control table, whose driver refuses a
//! value its automatic mode holds as uvcvideo does. vivid has none of these modes, so the
//! VM test (tests/vm_controls.rs) covers the value controls on a real driver and this one
//! the modes.

use mst::constraints::{ConstrainMode, ConstrainRange, Control, MeteringMode, ModeControl, ModeSet, SettingsRange};
use mst::error::ErrorKind;
use mst::source::fake::{
    uvc_webcam_controls, FakeControl, FakeControlKind, FakeDevice, FakeInit, FakeMedia, FakeVideo, Pacing,
};
use mst::source::v4l2::{camera, CameraFormat, CameraOptions};
use mst::*;

use MeteringMode::{Continuous, Manual};

/// A small fake camera (its name to be set).
fn init() -> FakeInit {
    FakeInit {
        name: String::new(),
        label: String::new(),
        media: FakeMedia::Video(FakeVideo {
            width: 32,
            height: 16,
            format: CameraFormat::Nv12,
            stride: 0,
            frame_rate: 25.0,
            jpeg_frames: Vec::new(),
        }),
        pacing: Pacing::Lossless,
        frame_count: 0,
        faults: Vec::new(),
    }
}

/// A fake webcam named `name` with `controls`, and a track on it.
fn webcam(name: &str, controls: Vec<FakeControl>) -> (std::sync::Arc<FakeDevice>, Track) {
    let dev = FakeDevice::add(FakeInit { name: name.into(), ..init() }).unwrap();
    dev.set_controls(controls).unwrap();
    let track = camera(dev.id(), &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    (dev, track)
}

fn value(track: &Track, ctl: Control) -> Option<f64> {
    track.settings().controls.values[ctl.index()]
}

fn mode(track: &Track, m: ModeControl) -> Option<MeteringMode> {
    track.settings().controls.modes[m.index()]
}

fn constraints(values: &[(Control, ConstrainRange)], modes: &[(ModeControl, ConstrainMode)]) -> VideoConstraints {
    let mut c = VideoConstraints::default();
    for (ctl, r) in values {
        c.controls.values[ctl.index()] = *r;
    }
    for (m, cm) in modes {
        c.controls.modes[m.index()] = *cm;
    }
    c
}

fn ideal(v: f64) -> ConstrainRange {
    ConstrainRange { ideal: Some(v), ..Default::default() }
}

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

fn exact_mode(m: MeteringMode) -> ConstrainMode {
    ConstrainMode { exact: Some(m), ideal: None }
}

#[test]
fn a_webcams_modes_are_in_capabilities_and_settings() {
    let (dev, track) = webcam("ctl-caps", uvc_webcam_controls());
    let caps = track.capabilities().controls;
    let both = ModeSet::default().with(Manual).with(Continuous);
    for m in ModeControl::ALL {
        assert_eq!(caps.modes[m.index()], both, "{m:?}");
        assert_eq!(mode(&track, m), Some(Continuous), "{m:?}");
    }
    assert_eq!(caps.ranges[Control::ExposureTime.index()], Some(SettingsRange { min: 3.0, max: 2047.0, step: 1.0 }));
    assert_eq!(caps.ranges[Control::Zoom.index()], None);
    assert_eq!(value(&track, Control::ExposureTime), Some(156.0));
    assert_eq!(value(&track, Control::ColorTemperature), Some(4600.0));
    track.stop();
    dev.remove();
}

#[test]
fn a_value_alone_turns_its_automatic_mode_off() {
    let (dev, track) = webcam("ctl-implied", uvc_webcam_controls());
    // An ideal alone: the driver refuses the time while exposure is automatic, so the mode
    // must go to manual first.
    track.apply_constraints(&constraints(&[(Control::ExposureTime, ideal(100.0))], &[])).unwrap();
    assert_eq!(
        (mode(&track, ModeControl::Exposure), value(&track, Control::ExposureTime)),
        (Some(Manual), Some(100.0))
    );
    // The other modes are left as they were.
    assert_eq!(mode(&track, ModeControl::WhiteBalance), Some(Continuous));
    track
        .apply_constraints(&constraints(
            &[(Control::ColorTemperature, exact(5000.0)), (Control::FocusDistance, ideal(42.0))],
            &[],
        ))
        .unwrap();
    assert_eq!(mode(&track, ModeControl::WhiteBalance), Some(Manual));
    assert_eq!(value(&track, Control::ColorTemperature), Some(5000.0));
    assert_eq!(mode(&track, ModeControl::Focus), Some(Manual));
    // 42 is between the focus steps of 5: the nearest step.
    assert_eq!(value(&track, Control::FocusDistance), Some(40.0));
    track.stop();
    dev.remove();
}

#[test]
fn an_automatic_mode_asked_for_leaves_an_ideal_value_unwritten() {
    let (dev, track) = webcam("ctl-auto-ideal", uvc_webcam_controls());
    let c = constraints(&[(Control::ExposureTime, ideal(100.0))], &[(ModeControl::Exposure, exact_mode(Continuous))]);
    track.apply_constraints(&c).unwrap();
    assert_eq!(mode(&track, ModeControl::Exposure), Some(Continuous));
    assert_eq!(value(&track, Control::ExposureTime), Some(156.0));
    // From manual, asking for continuous goes back to it.
    track.apply_constraints(&constraints(&[], &[(ModeControl::Exposure, exact_mode(Manual))])).unwrap();
    assert_eq!(mode(&track, ModeControl::Exposure), Some(Manual));
    track.apply_constraints(&c).unwrap();
    assert_eq!(mode(&track, ModeControl::Exposure), Some(Continuous));
    track.stop();
    dev.remove();
}

#[test]
fn a_required_value_in_an_automatic_mode_is_overconstrained_and_writes_nothing() {
    let (dev, track) = webcam("ctl-auto-required", uvc_webcam_controls());
    let before = track.settings();
    let c = constraints(
        &[(Control::Brightness, exact(10.0)), (Control::ColorTemperature, exact(5000.0))],
        &[(ModeControl::WhiteBalance, exact_mode(Continuous))],
    );
    let e = track.apply_constraints(&c).unwrap_err();
    assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("colorTemperature")), "{e}");
    assert_eq!(
        e.message,
        "colorTemperature: a required value holds only in whiteBalanceMode \"manual\"; this track offers \
         \"manual\", \"continuous\", asked whiteBalanceMode exact \"continuous\""
    );
    assert_eq!(track.settings(), before, "nothing written, brightness included");
    // The same with the mode's ideal only: the required value wins, the mode goes manual.
    let c = constraints(
        &[(Control::ColorTemperature, exact(5000.0))],
        &[(ModeControl::WhiteBalance, ConstrainMode { exact: None, ideal: Some(Continuous) })],
    );
    track.apply_constraints(&c).unwrap();
    assert_eq!(mode(&track, ModeControl::WhiteBalance), Some(Manual));
    assert_eq!(value(&track, Control::ColorTemperature), Some(5000.0));
    track.stop();
    dev.remove();
}

#[test]
fn a_mode_without_manual_cannot_hold_a_required_value() {
    use v4l::v4l_sys as sys;
    // A camera whose focus is automatic only: V4L2_CID_FOCUS_AUTO a boolean of range 1..=1.
    let mut controls = uvc_webcam_controls();
    let focus = controls.iter_mut().find(|c| c.id == sys::V4L2_CID_FOCUS_AUTO).unwrap();
    (focus.min, focus.value) = (1, 1);
    assert_eq!(focus.kind, FakeControlKind::Boolean);
    let (dev, track) = webcam("ctl-auto-only", controls);
    assert_eq!(track.capabilities().controls.modes[ModeControl::Focus.index()], ModeSet::default().with(Continuous));
    track.apply_constraints(&constraints(&[(Control::FocusDistance, ideal(100.0))], &[])).unwrap();
    assert_eq!(
        (mode(&track, ModeControl::Focus), value(&track, Control::FocusDistance)),
        (Some(Continuous), Some(0.0))
    );
    let e = track.apply_constraints(&constraints(&[(Control::FocusDistance, exact(100.0))], &[])).unwrap_err();
    assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("focusDistance")), "{e}");
    track.stop();
    dev.remove();
}

#[test]
fn controls_keep_their_values_across_opens() {
    let (dev, track) = webcam("ctl-reopen", uvc_webcam_controls());
    track.apply_constraints(&constraints(&[(Control::Brightness, exact(-20.0))], &[])).unwrap();
    track.stop();
    let again = camera(dev.id(), &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    assert_eq!(value(&again, Control::Brightness), Some(-20.0));
    again.stop();
    dev.remove();
}

/// A SoC sensor's table: the webcam's, with the one-shot buttons V4L2 has.
fn with_one_shots() -> Vec<FakeControl> {
    use v4l::v4l_sys as sys;
    let button = |id| FakeControl { id, kind: FakeControlKind::Button, min: 0, max: 0, step: 0, value: 0 };
    let mut controls = uvc_webcam_controls();
    controls.push(button(sys::V4L2_CID_DO_WHITE_BALANCE));
    controls.push(button(sys::V4L2_CID_AUTO_FOCUS_START));
    controls
}

#[test]
fn single_shot_measures_once_and_holds() {
    use MeteringMode::SingleShot;
    let (dev, track) = webcam("ctl-one-shot", with_one_shots());
    let caps = track.capabilities().controls;
    let all = ModeSet::default().with(Manual).with(SingleShot).with(Continuous);
    assert_eq!(caps.modes[ModeControl::Focus.index()], all);
    assert_eq!(caps.modes[ModeControl::WhiteBalance.index()], all);
    assert_eq!(caps.modes[ModeControl::Exposure.index()], ModeSet::default().with(Manual).with(Continuous));

    // From continuous: autofocus off, then one measurement (the fake's first: the middle of
    // 0..=250 in steps of 5, one step up).
    let shot = constraints(&[], &[(ModeControl::Focus, exact_mode(SingleShot))]);
    track.apply_constraints(&shot).unwrap();
    assert_eq!(
        (mode(&track, ModeControl::Focus), value(&track, Control::FocusDistance)),
        (Some(SingleShot), Some(130.0))
    );
    // Asked again, the mode is what it asks already: no second measurement.
    track.apply_constraints(&shot).unwrap();
    assert_eq!(value(&track, Control::FocusDistance), Some(130.0));
    // The held value is the camera's: a required distance cannot be had in single-shot.
    let e = track
        .apply_constraints(&constraints(
            &[(Control::FocusDistance, exact(50.0))],
            &[(ModeControl::Focus, exact_mode(SingleShot))],
        ))
        .unwrap_err();
    assert_eq!(e.constraint, Some("focusDistance"), "{e}");
    // Manual keeps what the shot found; a second single-shot measures again.
    track.apply_constraints(&constraints(&[], &[(ModeControl::Focus, exact_mode(Manual))])).unwrap();
    assert_eq!((mode(&track, ModeControl::Focus), value(&track, Control::FocusDistance)), (Some(Manual), Some(130.0)));
    track.apply_constraints(&shot).unwrap();
    assert_eq!(
        (mode(&track, ModeControl::Focus), value(&track, Control::FocusDistance)),
        (Some(SingleShot), Some(135.0))
    );
    // White balance alike, on its own button (the third press: the middle of 2800..=6500 in
    // steps of 10, three steps up).
    track.apply_constraints(&constraints(&[], &[(ModeControl::WhiteBalance, exact_mode(SingleShot))])).unwrap();
    assert_eq!(mode(&track, ModeControl::WhiteBalance), Some(SingleShot));
    assert_eq!(value(&track, Control::ColorTemperature), Some(4680.0));
    track.stop();
    dev.remove();
}

#[test]
fn a_reacquired_camera_gets_the_manual_mode_a_value_implied() {
    use mst::source::reacquire::{set_reacquire, Reacquire};
    let (dev, track) = webcam("ctl-reacquire", uvc_webcam_controls());
    set_reacquire(&track, Reacquire::Forever).unwrap();
    track.apply_constraints(&constraints(&[(Control::ExposureTime, ideal(100.0))], &[])).unwrap();
    // The last constraints (what the new session opens with) leave exposure out: it comes
    // back from what the earlier applyConstraints set, its implied manual mode first.
    track.apply_constraints(&constraints(&[(Control::Brightness, exact(10.0))], &[])).unwrap();
    let before = track.settings().controls;
    assert_eq!(before.modes[ModeControl::Exposure.index()], Some(Manual));

    dev.remove();
    assert!(track.muted());
    let back = FakeDevice::add(FakeInit { name: "ctl-reacquire".into(), ..init() }).unwrap();
    back.set_controls(uvc_webcam_controls()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while track.muted() {
        assert!(std::time::Instant::now() < deadline, "the track did not unmute");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(track.settings().controls, before, "the new session has the controls set before");
    track.stop();
    back.remove();
}
