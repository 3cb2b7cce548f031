//! Reacquire against real drivers, in the VM stage (`scripts/vm-test.sh`): a vivid camera and
//! an snd-aloop microphone with reacquire on stay live and muted while their driver is
//! unbound, and deliver again, with the same settings, once it is bound; a timeout that passes
//! ends the track; a different card under the same ALSA id is not taken; a camera comes back
//! with the constraints last applied and the controls set before, and applyConstraints then
//! reaches the new device.

use std::ffi::c_void;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mst::constraints::{ConstrainRange, Control};
use mst::sink::processor::{Processor, Wait};
use mst::source::alsa::{capture_stats, microphone, AudioConstraints};
use mst::source::reacquire::{set_reacquire, Reacquire, FALLBACK};
use mst::source::v4l2::{camera, camera_stats, CameraOptions};
use mst::*;
use v4l::v4l2::vidioc;
use v4l::v4l_sys as sys;

use super::vm;
use vm::in_vm;

/// Only to tell a hang from slowness (the guest CPU is emulated).
const HANG: Duration = Duration::from_secs(60);
/// Long enough for a supervisor woken by the device watcher (after its settle time) to have
/// looked at what changed.
const LOOK: Duration = Duration::from_millis(1000);
const CAMERA: &str = "v4l2:platform:vivid-000:0";
const MICROPHONE: &str = "hw:CARD=Loopback,DEV=0";

fn ideal(v: f64) -> ConstrainRange {
    ConstrainRange { ideal: Some(v), ..Default::default() }
}

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

fn small() -> VideoConstraints {
    VideoConstraints { width: ideal(320.0), height: ideal(180.0), frame_rate: ideal(30.0), ..Default::default() }
}

fn stereo_s16() -> AudioConstraints {
    AudioConstraints { sample_rate: exact(48000.0), channel_count: exact(2.0), sample_size: exact(16.0) }
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + HANG;
    while !cond() {
        assert!(Instant::now() < deadline, "waited {HANG:?} for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read(p: &Processor, n: usize) {
    for i in 0..n {
        p.read(Wait::For(HANG)).unwrap_or_else(|e| panic!("frame {i}: {e}"));
    }
}

/// Empties the queue of a muted track's processor (nothing more arrives while muted), so the
/// next frames read are the next session's.
fn drain(p: &Processor) {
    while p.read(Wait::No).is_ok() {}
}

fn stats_add_up(p: &Processor) {
    let s = p.stats();
    // Frames decimated for the frame rate never enter the queue's count.
    assert_eq!(s.total, s.delivered + s.discarded_in_queue() + s.queued, "{s:?}");
}

/// The platform device `device` of `driver`, unbound until `bind` (or the drop, for a test
/// that fails: later tests need the default devices).
struct Unbound {
    driver: &'static str,
    device: &'static str,
}

impl Unbound {
    fn new(driver: &'static str, device: &'static str) -> Unbound {
        std::fs::write(format!("/sys/bus/platform/drivers/{driver}/unbind"), device)
            .unwrap_or_else(|e| panic!("unbinding {device}: {e}"));
        Unbound { driver, device }
    }

    fn bound(&self) -> bool {
        Path::new(&format!("/sys/bus/platform/drivers/{}/{}", self.driver, self.device)).exists()
    }

    fn bind(&self) {
        if !self.bound() {
            std::fs::write(format!("/sys/bus/platform/drivers/{}/bind", self.driver), self.device)
                .unwrap_or_else(|e| panic!("binding {}: {e}", self.device));
        }
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        if !self.bound() {
            let _ = std::fs::write(format!("/sys/bus/platform/drivers/{}/bind", self.driver), self.device);
        }
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_vivid_camera_is_muted_while_unbound_and_resumes_with_the_same_settings_after_bind() {
    if !in_vm("a_vivid_camera_is_muted_while_unbound_and_resumes_with_the_same_settings_after_bind") {
        return;
    }
    let track = camera(CAMERA, &small(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    let p = Processor::new(&track, 2);
    read(&p, 3);
    let settings = track.settings();

    let vivid = Unbound::new("vivid", "vivid.0");
    wait_until("the camera track to mute", || track.muted());
    assert_eq!(track.end_reason(), None, "live while the device is gone");
    drain(&p);
    let frames_before = camera_stats(&track).unwrap().frames;
    std::thread::sleep(LOOK);
    assert!(track.muted() && track.end_reason().is_none());

    vivid.bind();
    wait_until("the camera track to unmute", || !track.muted());
    read(&p, 3);
    // The same mode (the frame rate is measured from the frames: it wanders in the VM).
    let now = track.settings();
    assert_eq!((now.width, now.height, now.resize_mode), (settings.width, settings.height, settings.resize_mode));
    assert_eq!(track.end_reason(), None);
    let cam = camera_stats(&track).unwrap();
    assert!(cam.frames >= frames_before + 3, "{frames_before} then {cam:?}");
    stats_add_up(&p);
    println!("settings {settings:?}; camera stats {cam:?}; processor {:?}", p.stats());
    track.stop();
    assert_eq!(track.end_reason(), Some(EndReason::Stopped));
}

/// VIDIOC_G_EXT_CTRLS (or S_EXT_CTRLS, with `value`) of one integer control on the camera's
/// node, through the test's own fd.
fn control(id: u32, value: Option<i32>) -> i32 {
    let path = mst::device::v4l2::path_of(CAMERA).unwrap();
    let fd = OwnedFd::from(std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap());
    // SAFETY: plain C structs.
    let mut c: sys::v4l2_ext_control = unsafe { std::mem::zeroed() };
    c.id = id;
    c.__bindgen_anon_1.value = value.unwrap_or(0);
    let mut e: sys::v4l2_ext_controls = unsafe { std::mem::zeroed() };
    e.count = 1;
    e.controls = &mut c;
    let request = if value.is_some() { vidioc::VIDIOC_S_EXT_CTRLS } else { vidioc::VIDIOC_G_EXT_CTRLS };
    // SAFETY: `e` is the struct the request takes; `c` outlives the call.
    unsafe { v4l::v4l2::ioctl(fd.as_raw_fd(), request, &mut e as *mut _ as *mut c_void) }
        .unwrap_or_else(|err| panic!("ext ctrls {id:#x}: {err}"));
    // SAFETY: an integer control's member.
    unsafe { c.__bindgen_anon_1.value }
}

/// Puts vivid's brightness and contrast back to their default (128) when dropped, for the
/// tests after this one.
struct DefaultControls;

impl Drop for DefaultControls {
    fn drop(&mut self) {
        if mst::device::v4l2::path_of(CAMERA).is_ok() {
            control(sys::V4L2_CID_BRIGHTNESS, Some(128));
            control(sys::V4L2_CID_CONTRAST, Some(128));
        }
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_reacquired_vivid_camera_has_the_constraints_and_controls_applied_before_it_was_unbound() {
    if !in_vm("a_reacquired_vivid_camera_has_the_constraints_and_controls_applied_before_it_was_unbound") {
        return;
    }
    let _restore = DefaultControls;
    let (brightness, contrast) = (Control::Brightness.index(), Control::Contrast.index());
    let track = camera(CAMERA, &small(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    let p = Processor::new(&track, 2);
    read(&p, 2);
    // Brightness set once and left out of the constraints applied last: the device keeps it,
    // so a reacquired device must be given it back too.
    let mut bright = VideoConstraints::default();
    bright.controls.values[brightness] = exact(200.0);
    track.apply_constraints(&bright).unwrap();
    let mut applied = VideoConstraints { width: exact(160.0), height: exact(90.0), ..small() };
    applied.controls.values[contrast] = exact(100.0);
    track.apply_constraints(&applied).unwrap();
    // The frames queued before the change are not what the settings are about.
    drain(&p);
    read(&p, 2);
    let before = track.settings();
    assert_eq!((before.width, before.height), (Some(160), Some(90)));
    assert_eq!((before.controls.values[brightness], before.controls.values[contrast]), (Some(200.0), Some(100.0)));
    assert_eq!(control(sys::V4L2_CID_BRIGHTNESS, None), 200);

    let vivid = Unbound::new("vivid", "vivid.0");
    wait_until("the camera track to mute", || track.muted());
    drain(&p);
    vivid.bind();
    wait_until("the camera track to unmute", || !track.muted());
    read(&p, 3);
    let now = track.settings();
    assert_eq!((now.width, now.height), (Some(160), Some(90)), "{now:?}");
    assert_eq!(now.controls, before.controls, "the controls' settings");
    assert_eq!(track.constraints(), applied);
    // The driver's own values: vivid came back with its defaults (128) and was given these.
    assert_eq!(control(sys::V4L2_CID_BRIGHTNESS, None), 200, "the driver's brightness");
    assert_eq!(control(sys::V4L2_CID_CONTRAST, None), 100, "the driver's contrast");
    assert!(track.capabilities().controls.ranges[brightness].is_some());

    // applyConstraints reaches the new device.
    let mut darker = applied;
    darker.controls.values[brightness] = exact(60.0);
    track.apply_constraints(&darker).unwrap();
    assert_eq!(control(sys::V4L2_CID_BRIGHTNESS, None), 60, "the driver's brightness after applyConstraints");
    assert_eq!(track.settings().controls.values[brightness], Some(60.0));
    stats_add_up(&p);
    println!("settings {now:?}; processor {:?}", p.stats());
    track.stop();
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_vivid_camera_gone_past_its_timeout_ends_device_lost() {
    if !in_vm("a_vivid_camera_gone_past_its_timeout_ends_device_lost") {
        return;
    }
    let track = camera(CAMERA, &small(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::For(Duration::from_millis(500))).unwrap();
    let p = Processor::new(&track, 2);
    read(&p, 1);
    // Before the unbind: the capture fails, and the timeout starts, while the write to
    // `unbind` is still removing the driver.
    let t0 = Instant::now();
    let vivid = Unbound::new("vivid", "vivid.0");
    wait_until("the track to end", || track.end_reason().is_some());
    assert!(t0.elapsed() >= Duration::from_millis(500), "ended {:?} after the unbind", t0.elapsed());
    assert_eq!(track.end_reason(), Some(EndReason::DeviceLost));
    vm::read_out_after_end(&p, HANG, "frames");
    stats_add_up(&p);
    vivid.bind();
    wait_until("vivid to come back", || camera(CAMERA, &small(), &CameraOptions::default()).is_ok());
}

fn modprobe(args: &[&str]) {
    let out = Command::new("modprobe").args(args).output().unwrap();
    assert!(out.status.success(), "modprobe {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn rmmod(name: &str) {
    let out = Command::new("rmmod").arg(name).output().unwrap();
    assert!(out.status.success(), "rmmod {name}: {}", String::from_utf8_lossy(&out.stderr));
}

/// snd-dummy reloaded as card 0 with the id "Loopback", until dropped (then as the VM stage
/// loads it).
struct Impostor;

impl Impostor {
    fn new() -> Impostor {
        rmmod("snd_dummy");
        modprobe(&["snd-dummy", "index=0", "id=Loopback"]);
        Impostor
    }
}

impl Drop for Impostor {
    fn drop(&mut self) {
        let _ = Command::new("rmmod").arg("snd_dummy").status();
        let _ = Command::new("modprobe").args(["snd-dummy", "index=1"]).status();
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn an_snd_aloop_microphone_waits_for_its_own_card_not_another_under_its_id() {
    if !in_vm("an_snd_aloop_microphone_waits_for_its_own_card_not_another_under_its_id") {
        return;
    }
    let mic = microphone(MICROPHONE, &stereo_s16()).unwrap();
    set_reacquire(&mic, Reacquire::Forever).unwrap();
    let p = Processor::new(&mic, 100);
    read(&p, 3);
    let settings = mic.settings();

    let aloop = Unbound::new("snd_aloop", "snd_aloop.0");
    wait_until("the microphone to mute", || mic.muted());
    assert_eq!(mic.end_reason(), None);
    drain(&p);
    let chunks_before = capture_stats(&mic).unwrap().chunks;

    // Another card takes the id "Loopback" (and card 0): a PCM of that name opens, but it is
    // not the same card, so it is not taken.
    let impostor = Impostor::new();
    assert!(microphone(MICROPHONE, &stereo_s16()).is_ok(), "the impostor's PCM opens under the id");
    std::thread::sleep(FALLBACK + LOOK);
    assert!(mic.muted() && mic.end_reason().is_none(), "the impostor was taken");
    drop(impostor);

    aloop.bind();
    wait_until("the microphone to unmute", || !mic.muted());
    read(&p, 3);
    assert_eq!(mic.settings(), settings);
    let stats = capture_stats(&mic).unwrap();
    assert!(stats.chunks >= chunks_before + 3, "{chunks_before} then {stats:?}");
    stats_add_up(&p);
    println!("settings {settings:?}; capture stats {stats:?}; processor {:?}", p.stats());
    mic.stop();
    assert_eq!(mic.end_reason(), Some(EndReason::Stopped));
}
