//! Fake devices: a camera and a microphone that an application adds to the device list, driven
//! by a script of faults (unplug, overrun, a format change, a stall, a read error, a jump of
//! the clock, damaged MJPEG), so that it, and libmst's own tests, can drive every recovery
//! path deterministically under any load.
//!
//! Only the bytes are fake. Each buffer goes through what a real device's bytes go through
//! after the read: the camera's [`Buffers`] and [`Converter`] (sequence accounting, the MJPEG
//! check and lazy decode, the colour space, [`CameraStats`](super::v4l2::CameraStats)), the
//! microphone's [`ChunkClock`] and [`deliver_chunk`]
//! ([`CaptureStats`](super::alsa::CaptureStats)), the end reasons of the real read errors, the
//! mode choice of [`choose`] and [`select_settings`], and [`spawn_producer`]'s thread. A
//! camera's V4L2 controls ([`FakeDevice::set_controls`]) are a model of a driver's behind
//! the real camera's `Controls`.
//!
//! Content is deterministic: frame (or chunk) n is the n-th the device produces (an overrun's
//! lost frames included), its V4L2 sequence number is n, its pixels or first samples hold n,
//! and unless the device is paced in real time its timestamp is n periods on a virtual clock
//! that starts at 0, moved only by the script (stalls, jumps).

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::constraints::{overconstrained, select_settings, AudioConstraints, Offer, Property, VideoConstraints};
use crate::device::{DeviceInfo, DeviceKind};
use crate::error::{err, Result};
use crate::frame::AudioSampleFormat;
use crate::source::alsa::{deliver_chunk, microphone_source, CaptureMode, ChunkClock};
use crate::source::v4l2::{
    camera_source, choose, read_failed, Buffers, CameraFormat, CameraMode, CameraOptions, Converter,
};
use crate::source::worker::{monotonic_us, spawn_producer, StopSignal};
use crate::source::SourceCore;
use crate::track::{EndReason, Track};
use crate::v4l2::controls::{ControlDevice, ControlInfo, ControlTable, Controls};

/// The prefix of every fake device's id.
pub const ID_PREFIX: &str = "fake:";

/// How a fake device paces its frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pacing {
    /// As fast as the slowest reader takes frames, losing none: before each frame it waits
    /// until a sink is connected and every connected sink has room. Deterministic.
    #[default]
    Lossless,
    /// As fast as it can, waiting only for the first sink: a sink whose queue is full drops
    /// its oldest frame, as with a real device. Deterministic for a reader that is stalled.
    Free,
    /// At the frame rate in real time, timestamps from CLOCK_MONOTONIC, as a real device.
    RealTime,
}

/// How a DAMAGED_MJPEG fault damages a JPEG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MjpegDamage {
    /// Cut in the middle of its entropy-coded data (EOI lost with it).
    Truncated,
    /// Its entropy-coded data overwritten with bits no Huffman code starts with.
    BadHuffman,
    /// The final EOI marker removed.
    MissingEoi,
    /// Junk bytes (not a marker) inserted before the EOI.
    JunkBeforeEoi,
    /// No bytes at all (a driver's empty buffer).
    ZeroLength,
}

/// What a fault does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    /// The device goes away before frame `at`: its tracks end with DeviceLost, it leaves the
    /// device list and cannot be opened again.
    Unplug,
    /// Frames `at..at+count` are lost, as a driver with no free buffer loses them (a camera
    /// counts them in dropped from the sequence gap; a microphone counts one overrun).
    Overrun { count: u64 },
    /// From frame `at` the camera delivers this size and format.
    VideoFormat { width: u32, height: u32, format: CameraFormat },
    /// From chunk `at` the microphone captures this rate and channel count.
    AudioFormat { sample_rate: u32, channels: u32 },
    /// Before frame `at`, nothing for this long: a real wait, and the device's clock moves on.
    Stall { us: u64 },
    /// Reading frame `at` fails with this errno, taking the real source's error path.
    ReadError { errno: i32 },
    /// The device's clock jumps by this many microseconds (negative: backwards) before frame
    /// `at`.
    TimestampJump { us: i64 },
    /// Frames `at..at+count` are damaged this way (MJPEG only).
    DamagedMjpeg { count: u64, damage: MjpegDamage },
}

/// One scripted fault: `kind` hits frame (or chunk) `at`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fault {
    pub at: u64,
    pub kind: FaultKind,
}

/// What a fake camera produces.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeVideo {
    pub width: u32,
    pub height: u32,
    pub format: CameraFormat,
    /// Bytes between rows of the first plane, as a driver pads them; 0: tightly packed. For
    /// the initial format (a format change packs rows tightly).
    pub stride: u32,
    pub frame_rate: f64,
    /// For MJPEG: the JPEGs frame n cycles through (n modulo their count).
    pub jpeg_frames: Vec<Vec<u8>>,
}

/// What a fake microphone captures (interleaved).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FakeAudio {
    pub sample_rate: u32,
    pub channels: u32,
    pub format: AudioSampleFormat,
}

/// A fake camera or microphone.
#[derive(Clone, Debug, PartialEq)]
pub enum FakeMedia {
    Video(FakeVideo),
    Audio(FakeAudio),
}

/// What [`FakeDevice::add`] creates.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeInit {
    /// The id is "fake:" + name.
    pub name: String,
    /// Empty: "Fake camera NAME" / "Fake microphone NAME".
    pub label: String,
    pub media: FakeMedia,
    pub pacing: Pacing,
    /// After this many frames (or chunks; lost ones included) the device produces nothing
    /// more, its tracks staying live; 0: no end.
    pub frame_count: u64,
    pub faults: Vec<Fault>,
}

impl FakeInit {
    /// A small camera the tests share: 32x16 NV12 at 25 fps, as fast as it is read, without
    /// end, faults or label. Change a field with `FakeInit { faults, ..FakeInit::camera(n) }`.
    pub fn camera(name: &str) -> FakeInit {
        FakeInit {
            name: name.into(),
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

    /// Its microphone: 8 kHz mono S16, as fast as it is read, without end, faults or label.
    pub fn microphone(name: &str) -> FakeInit {
        FakeInit {
            media: FakeMedia::Audio(FakeAudio { sample_rate: 8000, channels: 1, format: AudioSampleFormat::S16 }),
            ..FakeInit::camera(name)
        }
    }
}

/// A fake device in the device list, until [`FakeDevice::remove`].
pub struct FakeDevice {
    id: CString,
    label: String,
    init: FakeInit,
    /// Faults injected while it runs, taken by the producing thread before each frame.
    injected: Mutex<Vec<Fault>>,
    /// The source it feeds now, if any (one at a time, as a device one process streams from).
    running: Mutex<Weak<SourceCore>>,
    /// Unplugged by the script, or removed: out of the list, and no open succeeds.
    gone: AtomicBool,
    /// A camera's V4L2 controls ([`FakeDevice::set_controls`]): they keep their values from
    /// one open to the next, as a plugged-in camera's do.
    controls: Mutex<Option<Arc<ControlDriver>>>,
}

static DEVICES: Mutex<Vec<Arc<FakeDevice>>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The fake devices in the list, as entries of the device enumeration.
pub fn listed() -> Vec<DeviceInfo> {
    lock(&DEVICES)
        .iter()
        .filter(|d| !d.gone.load(Ordering::Acquire))
        .map(|d| DeviceInfo {
            kind: d.kind(),
            device_id: d.id().to_string(),
            label: d.label.clone(),
            group_id: d.id().to_string(),
        })
        .collect()
}

fn find(id: &str, kind: DeviceKind) -> Result<Arc<FakeDevice>> {
    lock(&DEVICES)
        .iter()
        .find(|d| d.id() == id && d.kind() == kind && !d.gone.load(Ordering::Acquire))
        .cloned()
        .ok_or_else(|| {
            err!(
                NoDevice,
                "no fake device {id:?} of this kind (fake devices exist only in the process that added them)"
            )
        })
}

/// What tells fake devices apart beyond their id, for reacquire: the label and what it
/// produces (a device re-added under the same name with another label is another device).
/// Errors: NoDevice (no such fake device in the list now).
pub(crate) fn identity(id: &str) -> Result<String> {
    lock(&DEVICES)
        .iter()
        .find(|d| d.id() == id && !d.gone.load(Ordering::Acquire))
        .map(|d| format!("{}|{:?}", d.label, d.init.media))
        .ok_or_else(|| err!(NoDevice, "no fake device {id:?}"))
}

const MAX_DIMENSION: u32 = crate::frame::MAX_DIMENSION;

impl FakeDevice {
    /// Adds a fake device to the device list.
    /// Errors: InvalidArg (an empty name or one with NUL, a name in use, a size, rate or
    /// channel count out of range, a planar sample format, MJPEG without frames),
    /// Unsupported (MJPEG without libturbojpeg).
    pub fn add(init: FakeInit) -> Result<Arc<FakeDevice>> {
        FakeDevice::add_with(init, None)
    }

    /// A fake camera with V4L2 controls from the start, as [`FakeDevice::set_controls`] gives
    /// them (so that no open, a reacquiring track's included, finds it without them).
    /// Errors: those of [`FakeDevice::add`] and [`FakeDevice::set_controls`].
    pub fn add_with_controls(
        init: FakeInit,
        controls: Vec<FakeControl>,
        writes: ControlWrites,
    ) -> Result<Arc<FakeDevice>> {
        if !matches!(init.media, FakeMedia::Video(_)) {
            return Err(err!(InvalidArg, "a fake microphone has no camera controls"));
        }
        FakeDevice::add_with(init, Some(ControlDriver::new(controls, writes)?))
    }

    fn add_with(init: FakeInit, controls: Option<ControlDriver>) -> Result<Arc<FakeDevice>> {
        if init.name.is_empty() || init.name.contains('\0') {
            return Err(err!(InvalidArg, "a fake device's name must be non-empty and have no NUL"));
        }
        let id = format!("{ID_PREFIX}{}", init.name);
        match &init.media {
            FakeMedia::Video(v) => {
                check_video(v.width, v.height, v.format)?;
                let row = v.format.row_bytes(v.width as usize);
                if v.stride != 0 && ((v.stride as usize) < row || v.stride > 4 * MAX_DIMENSION) {
                    return Err(err!(
                        InvalidArg,
                        "a {}x{} {:?} fake camera cannot have rows {} bytes apart",
                        v.width,
                        v.height,
                        v.format,
                        v.stride
                    ));
                }
                if !(v.frame_rate.is_finite() && (0.001..=1000.0).contains(&v.frame_rate)) {
                    return Err(err!(
                        InvalidArg,
                        "a fake camera's frame rate {:?} is outside 0.001..=1000",
                        v.frame_rate
                    ));
                }
                if v.format == CameraFormat::Mjpeg {
                    crate::convert::jpeg::require()?;
                    if v.jpeg_frames.is_empty() {
                        return Err(err!(InvalidArg, "a fake MJPEG camera needs JPEG frames to send"));
                    }
                }
            }
            FakeMedia::Audio(a) => {
                check_audio(a.sample_rate, a.channels)?;
                if a.format.is_planar() {
                    return Err(err!(InvalidArg, "a fake microphone captures interleaved samples, not {:?}", a.format));
                }
            }
        }
        for f in &init.faults {
            check_fault(f, &init.media)?;
        }
        let label = if init.label.is_empty() {
            match init.media {
                FakeMedia::Video(_) => format!("Fake camera {}", init.name),
                FakeMedia::Audio(_) => format!("Fake microphone {}", init.name),
            }
        } else {
            init.label.clone()
        };
        let mut list = lock(&DEVICES);
        if list.iter().any(|d| d.id.to_str() == Ok(id.as_str())) {
            return Err(err!(InvalidArg, "a fake device {id:?} exists already"));
        }
        let dev = Arc::new(FakeDevice {
            id: CString::new(id).expect("checked for NUL"),
            label,
            init,
            injected: Mutex::new(Vec::new()),
            running: Mutex::new(Weak::new()),
            gone: AtomicBool::new(false),
            controls: Mutex::new(controls.map(Arc::new)),
        });
        list.push(dev.clone());
        drop(list);
        crate::device::watch::notify();
        Ok(dev)
    }

    /// "fake:NAME".
    pub fn id(&self) -> &str {
        self.id.to_str().expect("made from a String")
    }

    /// The id as a C string, for the C API.
    pub fn id_c(&self) -> &std::ffi::CStr {
        &self.id
    }

    /// What it produces, as it was added.
    pub fn media(&self) -> &FakeMedia {
        &self.init.media
    }

    pub fn kind(&self) -> DeviceKind {
        match self.init.media {
            FakeMedia::Video(_) => DeviceKind::VideoInput,
            FakeMedia::Audio(_) => DeviceKind::AudioInput,
        }
    }

    /// Adds `fault` to the running device's script (for its next open if none runs): it hits
    /// frame `at`, or the next frame if that one is past.
    /// Errors: InvalidArg (a fault this device cannot have, or a value out of range).
    pub fn inject(&self, fault: Fault) -> Result<()> {
        check_fault(&fault, &self.init.media)?;
        lock(&self.injected).push(fault);
        Ok(())
    }

    /// Takes the device out of the list; the tracks on it end with DeviceLost before this
    /// returns.
    pub fn remove(self: &Arc<Self>) {
        self.gone.store(true, Ordering::Release);
        lock(&DEVICES).retain(|d| !Arc::ptr_eq(d, self));
        crate::device::watch::notify();
        let running = lock(&self.running).upgrade();
        if let Some(core) = running {
            core.end(EndReason::DeviceLost);
        }
    }

    /// Claims the device for a new source: Busy while another one streams from it.
    fn claim(&self, core: &Arc<SourceCore>) -> Result<()> {
        let mut r = lock(&self.running);
        if r.upgrade().is_some_and(|c| !c.is_ended()) {
            return Err(err!(Busy, "the fake device {:?} is streaming to another track already", self.id()));
        }
        *r = Arc::downgrade(core);
        Ok(())
    }

    /// The script of a new run: the device's own faults and those injected so far, in order.
    fn script(&self) -> Script {
        let mut faults = self.init.faults.clone();
        faults.extend(lock(&self.injected).drain(..));
        Script { faults }
    }
}

fn check_video(width: u32, height: u32, format: CameraFormat) -> Result<()> {
    if !(8..=MAX_DIMENSION).contains(&width) || !(1..=MAX_DIMENSION).contains(&height) {
        return Err(err!(
            InvalidArg,
            "a fake camera's size {width}x{height} (width x height) is outside 8..={MAX_DIMENSION} x 1..={MAX_DIMENSION}"
        ));
    }
    let subsampled =
        matches!(format, CameraFormat::Nv12 | CameraFormat::Yu12 | CameraFormat::Yuyv | CameraFormat::Uyvy)
            || matches!(format, CameraFormat::Nv12m | CameraFormat::Yu12m);
    if subsampled && !(width.is_multiple_of(2) && height.is_multiple_of(2)) {
        return Err(err!(InvalidArg, "a fake {format:?} camera needs an even size, not {width}x{height}"));
    }
    Ok(())
}

fn check_audio(rate: u32, channels: u32) -> Result<()> {
    if !(100..=768_000).contains(&rate) {
        return Err(err!(InvalidArg, "a fake microphone's sample rate {rate} Hz is outside 100..=768000"));
    }
    if !(1..=32).contains(&channels) {
        return Err(err!(InvalidArg, "a fake microphone's channel count {channels} is outside 1..=32"));
    }
    Ok(())
}

fn check_fault(f: &Fault, media: &FakeMedia) -> Result<()> {
    let video = matches!(media, FakeMedia::Video(_));
    match f.kind {
        FaultKind::VideoFormat { width, height, format } if video => {
            if format == CameraFormat::Mjpeg || matches!(media, FakeMedia::Video(v) if v.format == CameraFormat::Mjpeg)
            {
                return Err(err!(InvalidArg, "a fake MJPEG camera cannot change format (its JPEGs have one size)"));
            }
            check_video(width, height, format)
        }
        FaultKind::AudioFormat { sample_rate, channels } if !video => check_audio(sample_rate, channels),
        FaultKind::VideoFormat { .. } => Err(err!(InvalidArg, "a video format change on a fake microphone")),
        FaultKind::AudioFormat { .. } => Err(err!(InvalidArg, "an audio format change on a fake camera")),
        FaultKind::DamagedMjpeg { .. } => match media {
            FakeMedia::Video(v) if v.format == CameraFormat::Mjpeg => Ok(()),
            _ => Err(err!(InvalidArg, "a DAMAGED_MJPEG fault for a fake device that is not an MJPEG camera")),
        },
        FaultKind::ReadError { errno } if errno <= 0 => {
            Err(err!(InvalidArg, "a read error needs a positive errno, not {errno}"))
        }
        FaultKind::Stall { us } if us > 3_600_000_000 => {
            Err(err!(InvalidArg, "a STALL fault's value, {us} us, is over an hour"))
        }
        _ => Ok(()),
    }
}

/// The faults still to come in one run.
struct Script {
    faults: Vec<Fault>,
}

impl Script {
    /// The faults due at frame `n` (scripted for it or earlier, injected meanwhile), in order.
    fn due(&mut self, dev: &FakeDevice, n: u64) -> Vec<FaultKind> {
        self.faults.extend(lock(&dev.injected).drain(..));
        let mut due = Vec::new();
        self.faults.retain(|f| {
            let now = f.at <= n;
            if now {
                due.push(*f);
            }
            !now
        });
        due.sort_by_key(|f| f.at);
        due.into_iter().map(|f| f.kind).collect()
    }
}

/// How the producing thread waits.
enum Waited {
    Go,
    /// Stopped, or the source is gone.
    Stop,
}

/// Sleeps `d` (stop honoured).
fn sleep(stop: &StopSignal, d: Duration) -> Waited {
    let until = Instant::now() + d;
    while !stop.is_raised() {
        let now = Instant::now();
        if now >= until {
            return Waited::Go;
        }
        std::thread::park_timeout((until - now).min(Duration::from_millis(5)));
    }
    Waited::Stop
}

/// Waits until the next frame may go, as `pacing` says: `due` is its real-time deadline.
fn pace(core: &Weak<SourceCore>, stop: &StopSignal, pacing: Pacing, due: Instant) -> Waited {
    loop {
        if stop.is_raised() {
            return Waited::Stop;
        }
        let Some(core) = core.upgrade() else { return Waited::Stop };
        let go = match pacing {
            Pacing::Lossless => core.consumers_have_room() == Some(true),
            Pacing::Free => core.consumers_have_room().is_some(),
            Pacing::RealTime => return sleep(stop, due.saturating_duration_since(Instant::now())),
        };
        drop(core);
        if go {
            return Waited::Go;
        }
        std::thread::park_timeout(Duration::from_micros(500));
    }
}

/// Before a lossless device ends, its readers take every frame it sent: the end empties the
/// queues (the spec's processorClose), which would make what arrived depend on timing.
fn drain(core: &Weak<SourceCore>, stop: &StopSignal, pacing: Pacing) {
    while pacing == Pacing::Lossless && !stop.is_raised() {
        match core.upgrade() {
            Some(c) if !c.consumers_idle() => std::thread::park_timeout(Duration::from_micros(500)),
            _ => return,
        }
    }
}

/// Idles after the last frame of a finite run, until stopped.
fn idle(stop: &StopSignal) -> Result<Option<EndReason>> {
    while !stop.is_raised() {
        std::thread::park_timeout(Duration::from_millis(50));
    }
    Ok(None)
}

/// Opens the fake camera `device_id` ("fake:NAME") as `v4l2::camera` opens a real one.
pub fn camera(device_id: &str, constraints: &VideoConstraints, options: &CameraOptions) -> Result<Track> {
    constraints.validate(&format!("fake camera \"{device_id}\""))?;
    let dev = find(device_id, DeviceKind::VideoInput)?;
    let FakeMedia::Video(v) = &dev.init.media else { unreachable!("found as a video input") };
    if options.format.is_some_and(|f| f != v.format) {
        let f = options.format.expect("checked");
        return Err(err!(
            Unsupported,
            "fake camera \"{device_id}\" offers no {} mode",
            String::from_utf8_lossy(&f.fourcc())
        ));
    }
    let rate = v.frame_rate;
    // A rate as a V4L2 driver with stepwise intervals gives it (see `v4l2::modes`).
    let mode = CameraMode {
        format: v.format,
        width: v.width,
        height: v.height,
        interval: (1000, (rate * 1000.0).round().max(1.0) as u32),
    };
    let mode = choose(&[mode], constraints, device_id)?;
    let mut converter = Converter::new(mode.format, mode.width, mode.height, v.stride as usize)?;
    converter.set_lazy(true);
    let (core, track, counters) = camera_source(dev.label.clone(), &mode);
    dev.claim(&core)?;
    // Camera controls, as `v4l2::camera` attaches a real camera's.
    if let Some(driver) = lock(&dev.controls).clone() {
        let table = driver.table();
        let name = format!("fake camera \"{device_id}\"");
        core.set_controls(Arc::new(Controls::with(Box::new(DriverHandle(driver)), name, table)));
    }
    let pacing = dev.init.pacing;
    let frame_count = dev.init.frame_count;
    let jpegs = v.jpeg_frames.clone();
    let stride = v.stride as usize;
    let script = dev.script();
    let dev2 = dev.clone();
    spawn_producer(&core, "mst-fake-camera", move |core, stop| {
        let mut run = CameraRun {
            dev: dev2,
            script,
            mode,
            buffers: Buffers::new(converter, counters),
            jpegs,
            stride,
            damage: None,
            data: Vec::new(),
        };
        run.run(core, stop, pacing, frame_count)
    })?;
    if *constraints != VideoConstraints::default() {
        track.apply_constraints(constraints)?;
    }
    Ok(track)
}

struct CameraRun {
    dev: Arc<FakeDevice>,
    script: Script,
    mode: CameraMode,
    buffers: Buffers,
    jpegs: Vec<Vec<u8>>,
    /// Bytes between rows of the first plane; 0: packed.
    stride: usize,
    /// Frames before this index are damaged this way.
    damage: Option<(u64, MjpegDamage)>,
    data: Vec<u8>,
}

impl CameraRun {
    fn run(
        &mut self,
        core: &Weak<SourceCore>,
        stop: &StopSignal,
        pacing: Pacing,
        frame_count: u64,
    ) -> Result<Option<EndReason>> {
        let start = Instant::now();
        let base = if pacing == Pacing::RealTime { monotonic_us() } else { 0 };
        // The device clock's offset from n periods: stalls and jumps.
        let mut offset: i64 = 0;
        // Real time spent stalling, so that real-time pacing resumes after a stall.
        let mut stalled = Duration::ZERO;
        let mut n: u64 = 0;
        loop {
            if stop.is_raised() {
                return Ok(None);
            }
            if frame_count != 0 && n >= frame_count {
                return idle(stop);
            }
            let mut skipped = false;
            for f in self.script.due(&self.dev, n) {
                match f {
                    FaultKind::Unplug => {
                        drain(core, stop, pacing);
                        self.dev.gone.store(true, Ordering::Release);
                        crate::device::watch::notify();
                        return Ok(Some(EndReason::DeviceLost));
                    }
                    FaultKind::Overrun { count } => {
                        n = n.saturating_add(count);
                        skipped = true;
                    }
                    FaultKind::VideoFormat { width, height, format } => {
                        let mode = CameraMode { format, width, height, ..self.mode };
                        let mut converter = Converter::new(format, width, height, 0)?;
                        converter.set_lazy(true);
                        self.buffers.set_converter(converter);
                        self.stride = 0;
                        self.mode = mode;
                    }
                    FaultKind::Stall { us } => {
                        let d = Duration::from_micros(us);
                        if let Waited::Stop = sleep(stop, d) {
                            return Ok(None);
                        }
                        stalled += d;
                        offset = offset.saturating_add(us as i64);
                    }
                    FaultKind::ReadError { errno } => {
                        drain(core, stop, pacing);
                        let e = std::io::Error::from_raw_os_error(errno);
                        return match read_failed(&e) {
                            EndReason::Error => {
                                Err(err!(Io, "fake camera \"{}\": reading frame {n}: {e}", self.dev.id()))
                            }
                            reason => Ok(Some(reason)),
                        };
                    }
                    FaultKind::TimestampJump { us } => offset = offset.saturating_add(us),
                    FaultKind::DamagedMjpeg { count, damage } => self.damage = Some((n.saturating_add(count), damage)),
                    FaultKind::AudioFormat { .. } => {}
                }
            }
            if skipped {
                // Faults of the lost frames hit the next one.
                continue;
            }
            let period = 1e6 / self.mode.frame_rate();
            let due = start + stalled + Duration::from_secs_f64(n as f64 * period / 1e6);
            if let Waited::Stop = pace(core, stop, pacing, due) {
                return Ok(None);
            }
            let ts = base.saturating_add((n as f64 * period).round() as i64).saturating_add(offset);
            self.fill(n);
            if let Err(end) = self.buffers.buffer(core, &self.data, n as u32, false, ts, period.round() as i64) {
                return Ok(end);
            }
            n += 1;
        }
    }

    /// The buffer of frame `n` in the current mode.
    fn fill(&mut self, n: u64) {
        let m = self.mode;
        let data = &mut self.data;
        data.clear();
        if m.format == CameraFormat::Mjpeg {
            data.extend_from_slice(&self.jpegs[(n % self.jpegs.len() as u64) as usize]);
            if let Some((until, how)) = self.damage {
                if n < until {
                    damage(data, how);
                }
            }
            return;
        }
        let (w, h) = (m.width as usize, m.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let row = m.format.row_bytes(w);
        let s = if self.stride == 0 { row } else { self.stride };
        // Mid grey (opaque), the index in the first 8 luma samples or colour bytes (not X or
        // A), rows `s` apart as the converter expects them.
        let len = match m.format {
            CameraFormat::Nv12 | CameraFormat::Nv12m => s * h + s.max(2 * cw) * ch,
            CameraFormat::Yu12 | CameraFormat::Yu12m => s * h + (s / 2).max(cw) * 2 * ch,
            _ => s * h,
        };
        data.resize(len, 128);
        // A driver's padding is not picture: make it stand out.
        let mut planes = vec![(0, h, s, row)];
        match m.format {
            CameraFormat::Nv12 | CameraFormat::Nv12m => planes.push((s * h, ch, s.max(2 * cw), 2 * cw)),
            CameraFormat::Yu12 | CameraFormat::Yu12m => {
                let cs = (s / 2).max(cw);
                planes.extend([(s * h, ch, cs, cw), (s * h + cs * ch, ch, cs, cw)]);
            }
            _ => {}
        }
        for (start, rows, stride, used) in planes {
            for r in 0..rows {
                data[start + r * stride + used..start + (r + 1) * stride].fill(0);
            }
        }
        let idx = n.to_le_bytes();
        match m.format {
            CameraFormat::Nv12
            | CameraFormat::Nv12m
            | CameraFormat::Yu12
            | CameraFormat::Yu12m
            | CameraFormat::Rgb24
            | CameraFormat::Bgr24
            | CameraFormat::Grey => data[..8].copy_from_slice(&idx),
            CameraFormat::Yuyv | CameraFormat::Uyvy => {
                let y = if m.format == CameraFormat::Yuyv { 0 } else { 1 };
                for (i, b) in idx.iter().enumerate() {
                    data[2 * i + y] = *b;
                }
            }
            CameraFormat::Bgrx | CameraFormat::Bgra | CameraFormat::Rgbx | CameraFormat::Rgba => {
                for r in data.chunks_mut(s) {
                    for px in r[..row].chunks_exact_mut(4) {
                        px[3] = 255;
                    }
                }
                for (i, b) in idx.iter().enumerate() {
                    data[4 * (i / 3) + i % 3] = *b;
                }
            }
            CameraFormat::Mjpeg => unreachable!("handled above"),
        }
    }
}

/// Damages the JPEG in `data` as `how` says.
fn damage(data: &mut Vec<u8>, how: MjpegDamage) {
    let scan = scan_start(data).unwrap_or(data.len().min(2));
    let eoi = if data.ends_with(&[0xff, 0xd9]) { data.len() - 2 } else { data.len() };
    match how {
        MjpegDamage::Truncated => data.truncate(scan + (eoi.saturating_sub(scan)) / 2),
        MjpegDamage::BadHuffman => {
            // All ones is no code of the standard tables (a prefix of no code's end), and no
            // 0xFF byte is followed by 0x00 stuffing, so the decoder meets an invalid code or
            // a marker in the middle of the scan.
            for b in &mut data[scan..eoi] {
                *b = 0xfe;
            }
        }
        MjpegDamage::MissingEoi => data.truncate(eoi),
        MjpegDamage::JunkBeforeEoi => {
            let junk = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0x01];
            data.splice(eoi..eoi, junk);
        }
        MjpegDamage::ZeroLength => data.clear(),
    }
}

/// Where the entropy-coded data of the first scan starts (after the SOS segment).
fn scan_start(data: &[u8]) -> Option<usize> {
    let mut i = 2;
    while i + 4 <= data.len() {
        if data[i] != 0xff {
            return None;
        }
        let marker = data[i + 1];
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        if marker == 0xda {
            return Some((i + 2 + len).min(data.len()));
        }
        i += 2 + len;
    }
    None
}

/// Opens the fake microphone `device_id` ("fake:NAME") as `alsa::microphone` opens a real one.
pub fn microphone(device_id: &str, constraints: &AudioConstraints) -> Result<Track> {
    let what = format!("fake microphone \"{device_id}\"");
    constraints.validate(&what)?;
    let dev = find(device_id, DeviceKind::AudioInput)?;
    let FakeMedia::Audio(a) = dev.init.media else { unreachable!("found as an audio input") };
    let bits = a.format.bytes_per_sample() as f64 * 8.0;
    for (p, c, v, offered) in [
        (Property::SampleSize, &constraints.sample_size, bits, format!("{bits} bits")),
        (Property::ChannelCount, &constraints.channel_count, a.channels as f64, format!("{} channels", a.channels)),
        (Property::SampleRate, &constraints.sample_rate, a.sample_rate as f64, format!("{} Hz", a.sample_rate)),
    ] {
        select_settings(&[v], &[(p, *c)], |v, _| Some(Offer::fixed(*v)))
            .map_err(|_| overconstrained(p, c, &what, &offered))?;
    }
    let mode = capture_mode(a.format, a.sample_rate, a.channels);
    let (core, track, counters) = microphone_source(dev.label.clone(), &mode);
    dev.claim(&core)?;
    let pacing = dev.init.pacing;
    let frame_count = dev.init.frame_count;
    let mut script = dev.script();
    spawn_producer(&core, "mst-fake-microphone", move |core, stop| {
        let start = Instant::now();
        let real_base = monotonic_us() as f64;
        let mut mode = mode;
        let mut clock = ChunkClock::new(mode.rate);
        // The device clock: when the next chunk's first sample was captured, microseconds.
        let mut now_us = if pacing == Pacing::RealTime { real_base } else { 0.0 };
        // Real time the chunks so far took, stalls included, for real-time pacing.
        let mut elapsed = Duration::ZERO;
        let mut data = Vec::new();
        let mut n: u64 = 0;
        loop {
            if stop.is_raised() {
                return Ok(None);
            }
            if frame_count != 0 && n >= frame_count {
                return idle(stop);
            }
            let chunk_us = mode.chunk as f64 * 1e6 / mode.rate as f64;
            let mut lost = 0u64;
            for f in script.due(&dev, n) {
                match f {
                    FaultKind::Unplug => {
                        drain(core, stop, pacing);
                        dev.gone.store(true, Ordering::Release);
                        crate::device::watch::notify();
                        return Ok(Some(EndReason::DeviceLost));
                    }
                    FaultKind::Overrun { count } => {
                        counters.update(|c| {
                            c.overruns.fetch_add(1, Ordering::Relaxed);
                        });
                        clock.lost();
                        lost = lost.saturating_add(count);
                    }
                    FaultKind::AudioFormat { sample_rate, channels } => {
                        mode = capture_mode(mode.format, sample_rate, channels);
                        clock = ChunkClock::new(mode.rate);
                    }
                    FaultKind::Stall { us } => {
                        if let Waited::Stop = sleep(stop, Duration::from_micros(us)) {
                            return Ok(None);
                        }
                        elapsed += Duration::from_micros(us);
                        now_us += us as f64;
                    }
                    FaultKind::ReadError { errno } => {
                        use crate::device::alsa::{classify, Failure};
                        match classify(&alsa::Error::new("snd_pcm_readi", -errno)) {
                            Failure::Again | Failure::Interrupted => {}
                            f @ (Failure::Xrun | Failure::Suspended) => {
                                // Recovered as the real source does: the chunk is lost.
                                if f == Failure::Xrun {
                                    counters.update(|c| {
                                        c.overruns.fetch_add(1, Ordering::Relaxed);
                                    });
                                }
                                clock.lost();
                                lost = lost.saturating_add(1);
                            }
                            Failure::Lost => {
                                drain(core, stop, pacing);
                                return Ok(Some(EndReason::DeviceLost));
                            }
                            Failure::Other => {
                                drain(core, stop, pacing);
                                let e = std::io::Error::from_raw_os_error(errno);
                                return Err(err!(Io, "{what}: reading chunk {n}: {e}"));
                            }
                        }
                    }
                    FaultKind::TimestampJump { us } => {
                        // The sample count cannot see a jump: the source reads the clock
                        // again, as it does after any discontinuity.
                        now_us += us as f64;
                        clock.lost();
                    }
                    FaultKind::VideoFormat { .. } | FaultKind::DamagedMjpeg { .. } => {}
                }
            }
            if lost > 0 {
                n = n.saturating_add(lost);
                now_us += lost as f64 * chunk_us;
                elapsed += Duration::from_secs_f64(lost as f64 * chunk_us / 1e6);
                continue;
            }
            let due = start + elapsed;
            if let Waited::Stop = pace(core, stop, pacing, due) {
                return Ok(None);
            }
            let first = now_us;
            let ts = clock.stamp(mode.chunk, |_| first);
            fill_audio(&mut data, &mode, n);
            if let Err(end) = deliver_chunk(&counters, core, &mode, ts, &data) {
                return Ok(end);
            }
            now_us += chunk_us;
            elapsed += Duration::from_secs_f64(chunk_us / 1e6);
            n += 1;
        }
    })?;
    Ok(track)
}

fn capture_mode(format: AudioSampleFormat, rate: u32, channels: u32) -> CaptureMode {
    let chunk = (rate / 100).max(1);
    CaptureMode { format, rate, channels, period: chunk, chunk }
}

/// Chunk `n`: silence, the index in its first samples (integer formats: the first 8 bytes,
/// little-endian; f32: the first sample, as a float).
fn fill_audio(data: &mut Vec<u8>, mode: &CaptureMode, n: u64) {
    let bytes = mode.chunk as usize * mode.channels as usize * mode.format.bytes_per_sample();
    data.clear();
    let silence = if mode.format == AudioSampleFormat::U8 { 0x80 } else { 0 };
    data.resize(bytes.max(8), silence);
    if mode.format == AudioSampleFormat::F32 {
        data[..4].copy_from_slice(&(n as f32).to_le_bytes());
    } else {
        data[..8].copy_from_slice(&n.to_le_bytes());
    }
    data.truncate(bytes);
}

/// The type of a fake camera's control, as VIDIOC_QUERY_EXT_CTRL reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FakeControlKind {
    Integer,
    Boolean,
    /// A menu with these items (QUERYMENU answers for them only).
    Menu(Vec<i64>),
    /// An action without a value: V4L2_CID_DO_WHITE_BALANCE and V4L2_CID_AUTO_FOCUS_START
    /// measure once and hold what they found (the n-th press from the middle of the value's
    /// range, n steps up, so that each press shows).
    Button,
}

/// One V4L2 control of a fake camera: its id (a `V4L2_CID_*`), what VIDIOC_QUERY_EXT_CTRL
/// says of it, and its value when the camera is plugged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeControl {
    pub id: u32,
    pub kind: FakeControlKind,
    pub min: i64,
    pub max: i64,
    pub step: u64,
    pub value: i64,
}

/// The controls of a typical UVC webcam: brightness -64..=64, contrast and saturation
/// 0..=100, sharpness 0..=7; an exposure menu of manual and aperture priority (UVC has no
/// full auto), in aperture priority, with its time 3..=2047 (100 µs); automatic white
/// balance on, its temperature 2800..=6500 K in steps of 10; continuous autofocus on, its
/// distance 0..=250 in steps of 5. No zoom, pan or tilt.
pub fn uvc_webcam_controls() -> Vec<FakeControl> {
    use v4l::v4l_sys as sys;
    let int = |id, min, max, step, value| FakeControl { id, kind: FakeControlKind::Integer, min, max, step, value };
    let boolean = |id, value| FakeControl { id, kind: FakeControlKind::Boolean, min: 0, max: 1, step: 1, value };
    let manual = sys::v4l2_exposure_auto_type_V4L2_EXPOSURE_MANUAL as i64;
    let aperture = sys::v4l2_exposure_auto_type_V4L2_EXPOSURE_APERTURE_PRIORITY as i64;
    vec![
        int(sys::V4L2_CID_BRIGHTNESS, -64, 64, 1, 0),
        int(sys::V4L2_CID_CONTRAST, 0, 100, 1, 32),
        int(sys::V4L2_CID_SATURATION, 0, 100, 1, 64),
        int(sys::V4L2_CID_SHARPNESS, 0, 7, 1, 3),
        FakeControl {
            id: sys::V4L2_CID_EXPOSURE_AUTO,
            kind: FakeControlKind::Menu(vec![manual, aperture]),
            min: 0,
            max: 3,
            step: 1,
            value: aperture,
        },
        int(sys::V4L2_CID_EXPOSURE_ABSOLUTE, 3, 2047, 1, 156),
        boolean(sys::V4L2_CID_AUTO_WHITE_BALANCE, 1),
        int(sys::V4L2_CID_WHITE_BALANCE_TEMPERATURE, 2800, 6500, 10, 4600),
        boolean(sys::V4L2_CID_FOCUS_AUTO, 1),
        int(sys::V4L2_CID_FOCUS_ABSOLUTE, 0, 250, 5, 0),
    ]
}

impl FakeDevice {
    /// Gives a fake camera these V4L2 controls (from its next open; the values they have then
    /// are kept across opens). Its driver checks each value as uvcvideo does: an integer is
    /// clamped into its range and rounded to its step, a boolean or menu value it lacks is
    /// refused (ERANGE, EINVAL), and a value its automatic mode holds (exposure time in any
    /// V4L2_CID_EXPOSURE_AUTO but V4L2_EXPOSURE_MANUAL, white balance temperature with
    /// V4L2_CID_AUTO_WHITE_BALANCE on, focus with V4L2_CID_FOCUS_AUTO on) is refused with
    /// EACCES (a mode set earlier in the same call counts). A one-shot button pressed while
    /// its automatic control is on (V4L2 leaves it undefined) is refused with EBUSY. What a
    /// refusal leaves written is `writes`'s.
    /// Errors: InvalidArg (a microphone; an id twice; min above max; a value, or a menu item,
    /// outside min..=max).
    pub fn set_controls(&self, controls: Vec<FakeControl>, writes: ControlWrites) -> Result<()> {
        if self.kind() != DeviceKind::VideoInput {
            return Err(err!(InvalidArg, "a fake microphone has no camera controls"));
        }
        *lock(&self.controls) = Some(Arc::new(ControlDriver::new(controls, writes)?));
        Ok(())
    }
}

/// What a fake camera's driver leaves written when it refuses part of a VIDIOC_S_EXT_CTRLS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ControlWrites {
    /// As uvcvideo: the whole call is checked before anything is written, and a refusal
    /// writes nothing and blames no control (error_idx is the count).
    #[default]
    AllOrNothing,
    /// As a driver on the V4L2 control framework that sets its controls one by one: the
    /// values are checked first (a bad one writes nothing and blames none), then each is
    /// written in order; one refused there (its automatic mode on, or listed in `failing`,
    /// which fail with EIO as a camera that does not answer) is blamed, and those before it
    /// stay written.
    InOrder { failing: Vec<u32> },
}

impl ControlDriver {
    /// Errors: InvalidArg (an id twice; min above max; a value, or a menu item, outside
    /// min..=max).
    fn new(controls: Vec<FakeControl>, writes: ControlWrites) -> Result<ControlDriver> {
        for (i, c) in controls.iter().enumerate() {
            let items = match &c.kind {
                FakeControlKind::Menu(items) => items.as_slice(),
                _ => &[],
            };
            let outside = |v: &i64| !(c.min..=c.max).contains(v);
            if controls[..i].iter().any(|d| d.id == c.id)
                || c.min > c.max
                || outside(&c.value)
                || items.iter().any(outside)
            {
                return Err(err!(
                    InvalidArg,
                    "fake control {:#x}: an id twice, or a value outside {}..={}",
                    c.id,
                    c.min,
                    c.max
                ));
            }
        }
        let values = controls.iter().map(|c| (c.id, c.value)).collect();
        Ok(ControlDriver { controls, values: Mutex::new(values), presses: Mutex::new(0), writes })
    }
}

/// A fake camera's controls, as a driver holds them.
struct ControlDriver {
    controls: Vec<FakeControl>,
    values: Mutex<Vec<(u32, i64)>>,
    /// Buttons pressed so far.
    presses: Mutex<i64>,
    writes: ControlWrites,
}

/// The mode control that holds value control `id` unless it has the one value given (as
/// uvcvideo's master controls: exposure time only in V4L2_EXPOSURE_MANUAL, not in shutter
/// priority either).
fn held_by(id: u32) -> Option<(u32, i64)> {
    use v4l::v4l_sys as sys;
    match id {
        sys::V4L2_CID_EXPOSURE_ABSOLUTE => {
            Some((sys::V4L2_CID_EXPOSURE_AUTO, sys::v4l2_exposure_auto_type_V4L2_EXPOSURE_MANUAL as i64))
        }
        sys::V4L2_CID_WHITE_BALANCE_TEMPERATURE => Some((sys::V4L2_CID_AUTO_WHITE_BALANCE, 0)),
        sys::V4L2_CID_FOCUS_ABSOLUTE | sys::V4L2_CID_AUTO_FOCUS_START => Some((sys::V4L2_CID_FOCUS_AUTO, 0)),
        sys::V4L2_CID_DO_WHITE_BALANCE => Some((sys::V4L2_CID_AUTO_WHITE_BALANCE, 0)),
        _ => None,
    }
}

/// The value a one-shot button measures.
fn measured_by(id: u32) -> Option<u32> {
    use v4l::v4l_sys as sys;
    match id {
        sys::V4L2_CID_AUTO_FOCUS_START => Some(sys::V4L2_CID_FOCUS_ABSOLUTE),
        sys::V4L2_CID_DO_WHITE_BALANCE => Some(sys::V4L2_CID_WHITE_BALANCE_TEMPERATURE),
        _ => None,
    }
}

impl ControlDriver {
    /// What VIDIOC_QUERY_EXT_CTRL and QUERYMENU would say, as libmst keeps it.
    fn table(&self) -> ControlTable {
        use v4l::v4l_sys as sys;
        ControlTable::of(
            self.controls
                .iter()
                .map(|c| {
                    let (kind, menu) = match &c.kind {
                        FakeControlKind::Integer => (sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_INTEGER, vec![]),
                        FakeControlKind::Boolean => (sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_BOOLEAN, vec![]),
                        FakeControlKind::Menu(items) => (sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_MENU, items.clone()),
                        FakeControlKind::Button => (sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_BUTTON, vec![]),
                    };
                    ControlInfo { id: c.id, kind, min: c.min, max: c.max, step: c.step, menu }
                })
                .collect(),
        )
    }
}

/// An open of a fake camera's controls.
struct DriverHandle(Arc<ControlDriver>);

impl ControlDevice for DriverHandle {
    fn read(&self, table: &ControlTable) -> Vec<(u32, i64)> {
        let values = lock(&self.0.values);
        let readable = |id: u32| self.0.controls.iter().any(|c| c.id == id && c.kind != FakeControlKind::Button);
        values.iter().copied().filter(|(id, _)| readable(*id) && table.controls.iter().any(|c| c.id == *id)).collect()
    }

    fn write(&self, _: &ControlTable, values: &[(u32, i64)]) -> std::result::Result<(), (std::io::Error, Option<u32>)> {
        let refuse = |errno: i32, id: Option<u32>| Err((std::io::Error::from_raw_os_error(errno), id));
        // The values are checked first, as both uvcvideo and the V4L2 control framework do.
        let mut checked = Vec::with_capacity(values.len());
        for &(id, v) in values {
            let Some(c) = self.0.controls.iter().find(|c| c.id == id) else { return refuse(libc::EINVAL, None) };
            let v = match &c.kind {
                FakeControlKind::Integer => {
                    let step = c.step.max(1) as i64;
                    let v = v.clamp(c.min, c.max);
                    (c.min + (v - c.min + step / 2) / step * step).min(c.max)
                }
                FakeControlKind::Boolean if (0..=1).contains(&v) => v,
                FakeControlKind::Boolean => return refuse(libc::ERANGE, None),
                FakeControlKind::Menu(items) if items.contains(&v) => v,
                FakeControlKind::Menu(_) => return refuse(libc::EINVAL, None),
                FakeControlKind::Button => v,
            };
            checked.push((id, v));
        }
        let mut now = lock(&self.0.values);
        let mut presses = lock(&self.0.presses);
        // All or nothing: written to copies, kept only if every write is taken.
        let (mut values, mut pressed) = (now.clone(), *presses);
        for (id, v) in checked {
            let automatic = held_by(id)
                .is_some_and(|(mode, manual)| values.iter().any(|(m, value)| *m == mode && *value != manual));
            let press = measured_by(id);
            let refused = match &self.0.writes {
                _ if automatic => Some(if press.is_some() { libc::EBUSY } else { libc::EACCES }),
                ControlWrites::InOrder { failing } if failing.contains(&id) => Some(libc::EIO),
                _ => None,
            };
            if let Some(errno) = refused {
                return match self.0.writes {
                    ControlWrites::AllOrNothing => refuse(errno, None),
                    ControlWrites::InOrder { .. } => {
                        (*now, *presses) = (values, pressed);
                        refuse(errno, Some(id))
                    }
                };
            }
            let (id, v) = match press.and_then(|m| self.0.controls.iter().find(|c| c.id == m)) {
                Some(c) => {
                    let step = c.step.max(1) as i64;
                    let mid = c.min + (c.max - c.min) / 2 / step * step;
                    pressed += 1;
                    (c.id, (mid + pressed * step).min(c.max))
                }
                None => (id, v),
            };
            if let Some(slot) = values.iter_mut().find(|(c, _)| *c == id) {
                slot.1 = v;
            }
        }
        (*now, *presses) = (values, pressed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mjpeg/quad-420.jpg")).unwrap()
    }

    /// The webcam's controls with a focus one-shot, on a driver that writes as `writes` says.
    fn driver(writes: ControlWrites) -> (Arc<ControlDriver>, ControlTable) {
        use v4l::v4l_sys as sys;
        let mut controls = uvc_webcam_controls();
        controls.push(FakeControl {
            id: sys::V4L2_CID_AUTO_FOCUS_START,
            kind: FakeControlKind::Button,
            min: 0,
            max: 0,
            step: 0,
            value: 0,
        });
        let driver = Arc::new(ControlDriver::new(controls, writes).unwrap());
        let table = driver.table();
        (driver, table)
    }

    #[test]
    fn the_control_driver_refuses_what_uvcvideo_refuses() {
        use v4l::v4l_sys as sys;
        let (driver, table) = driver(ControlWrites::AllOrNothing);
        let dev = DriverHandle(driver);
        let now = |id| dev.read(&table).into_iter().find(|(c, _)| *c == id).map(|(_, v)| v);
        // The time is refused in aperture priority: nothing is written, no control blamed.
        let e =
            dev.write(&table, &[(sys::V4L2_CID_BRIGHTNESS, 99), (sys::V4L2_CID_EXPOSURE_ABSOLUTE, 100)]).unwrap_err();
        assert_eq!((e.0.raw_os_error(), e.1), (Some(libc::EACCES), None));
        assert_eq!((now(sys::V4L2_CID_BRIGHTNESS), now(sys::V4L2_CID_EXPOSURE_ABSOLUTE)), (Some(0), Some(156)));
        // Manual in the same call lets it through; the brightness is clamped.
        let manual = sys::v4l2_exposure_auto_type_V4L2_EXPOSURE_MANUAL as i64;
        let call = [(sys::V4L2_CID_BRIGHTNESS, 99), (sys::V4L2_CID_EXPOSURE_AUTO, manual)];
        dev.write(&table, &[call[0], call[1], (sys::V4L2_CID_EXPOSURE_ABSOLUTE, 100)]).unwrap();
        assert_eq!((now(sys::V4L2_CID_BRIGHTNESS), now(sys::V4L2_CID_EXPOSURE_ABSOLUTE)), (Some(64), Some(100)));
        // The one-shot is refused while autofocus runs; it measures once autofocus is off.
        let e = dev.write(&table, &[(sys::V4L2_CID_AUTO_FOCUS_START, 1)]).unwrap_err();
        assert_eq!((e.0.raw_os_error(), e.1), (Some(libc::EBUSY), None));
        dev.write(&table, &[(sys::V4L2_CID_FOCUS_AUTO, 0), (sys::V4L2_CID_AUTO_FOCUS_START, 1)]).unwrap();
        assert_eq!(now(sys::V4L2_CID_FOCUS_ABSOLUTE), Some(130));
        assert_eq!(now(sys::V4L2_CID_AUTO_FOCUS_START), None, "a button has no value to read");
        dev.write(&table, &[(sys::V4L2_CID_FOCUS_ABSOLUTE, 43)]).unwrap();
        assert_eq!(now(sys::V4L2_CID_FOCUS_ABSOLUTE), Some(45));
        // A menu item it lacks (full auto) changes nothing either.
        let e = dev.write(&table, &[(sys::V4L2_CID_BRIGHTNESS, 1), (sys::V4L2_CID_EXPOSURE_AUTO, 0)]).unwrap_err();
        assert_eq!((e.0.raw_os_error(), e.1), (Some(libc::EINVAL), None));
        assert_eq!(now(sys::V4L2_CID_BRIGHTNESS), Some(64));
    }

    #[test]
    fn a_control_framework_driver_keeps_the_writes_before_the_one_it_refuses() {
        use v4l::v4l_sys as sys;
        let (driver, table) = driver(ControlWrites::InOrder { failing: vec![sys::V4L2_CID_SATURATION] });
        let dev = DriverHandle(driver);
        let now = |id| dev.read(&table).into_iter().find(|(c, _)| *c == id).map(|(_, v)| v);
        let e =
            dev.write(&table, &[(sys::V4L2_CID_BRIGHTNESS, 9), (sys::V4L2_CID_EXPOSURE_ABSOLUTE, 100)]).unwrap_err();
        assert_eq!((e.0.raw_os_error(), e.1), (Some(libc::EACCES), Some(sys::V4L2_CID_EXPOSURE_ABSOLUTE)));
        assert_eq!((now(sys::V4L2_CID_BRIGHTNESS), now(sys::V4L2_CID_EXPOSURE_ABSOLUTE)), (Some(9), Some(156)));
        let call = [(sys::V4L2_CID_FOCUS_AUTO, 0), (sys::V4L2_CID_AUTO_FOCUS_START, 1), (sys::V4L2_CID_SATURATION, 1)];
        let e = dev.write(&table, &call).unwrap_err();
        assert_eq!((e.0.raw_os_error(), e.1), (Some(libc::EIO), Some(sys::V4L2_CID_SATURATION)));
        assert_eq!((now(sys::V4L2_CID_FOCUS_AUTO), now(sys::V4L2_CID_FOCUS_ABSOLUTE)), (Some(0), Some(130)));
        // A bad value is found before anything is written.
        let e = dev.write(&table, &[(sys::V4L2_CID_BRIGHTNESS, 1), (sys::V4L2_CID_EXPOSURE_AUTO, 0)]).unwrap_err();
        assert_eq!((e.0.raw_os_error(), e.1), (Some(libc::EINVAL), None));
        assert_eq!(now(sys::V4L2_CID_BRIGHTNESS), Some(9));
    }

    /// The webcam's controls (with a focus one-shot) behind the real `Controls`, on a driver
    /// that writes in order and fails saturation with EIO.
    fn in_order_controls() -> (Controls, ControlTable, DriverHandle) {
        use v4l::v4l_sys as sys;
        let (driver, table) = driver(ControlWrites::InOrder { failing: vec![sys::V4L2_CID_SATURATION] });
        let controls = Controls::with(Box::new(DriverHandle(driver.clone())), "the webcam".into(), table.clone());
        (controls, table, DriverHandle(driver))
    }

    #[test]
    fn a_required_value_in_an_exact_automatic_mode_writes_nothing() {
        use crate::constraints::MeteringMode;
        use crate::constraints::{ConstrainMode, ConstrainRange, Control, ControlConstraints, ModeControl};
        use crate::error::ErrorKind;
        use v4l::v4l_sys as sys;
        let (controls, table, dev) = in_order_controls();
        let mut c = ControlConstraints::default();
        c.values[Control::Brightness.index()] = ConstrainRange { exact: Some(10.0), ..Default::default() };
        c.values[Control::ColorTemperature.index()] = ConstrainRange { exact: Some(5000.0), ..Default::default() };
        c.modes[ModeControl::WhiteBalance.index()] =
            ConstrainMode { exact: Some(MeteringMode::Continuous), ideal: None };
        let e = controls.apply(&c).unwrap_err();
        assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("colorTemperature")), "{e}");
        // This driver would have kept a brightness written before its refusal.
        let now = dev.read(&table);
        assert!(now.contains(&(sys::V4L2_CID_BRIGHTNESS, 0)), "{now:?}");
    }

    #[test]
    fn a_refusal_part_way_keeps_the_press_and_what_reacquire_gives_back_before_it() {
        use crate::constraints::MeteringMode::{Continuous, SingleShot};
        use crate::constraints::{ConstrainMode, ConstrainRange, Control, ControlConstraints, ModeControl};
        let (controls, _, _) = in_order_controls();
        // Autofocus off and its one-shot pressed are written, then saturation fails.
        let mut c = ControlConstraints::default();
        c.modes[ModeControl::Focus.index()] = ConstrainMode { exact: Some(SingleShot), ideal: None };
        c.values[Control::Saturation.index()] = ConstrainRange { exact: Some(10.0), ..Default::default() };
        let e = controls.apply(&c).unwrap_err();
        assert!(e.message.contains("(saturation)"), "{e}");
        let s = controls.settings();
        assert_eq!(s.modes[ModeControl::Focus.index()], Some(SingleShot), "the press happened");
        assert_eq!(s.values[Control::FocusDistance.index()], Some(130.0));
        assert_eq!(s.values[Control::Saturation.index()], Some(64.0));

        // A reacquired session (a camera back with its defaults) gets the single-shot focus,
        // not the saturation that was never written.
        let (again, _, _) = in_order_controls();
        assert_eq!(again.settings().modes[ModeControl::Focus.index()], Some(Continuous));
        again.carry_over(&controls).unwrap();
        let s = again.settings();
        assert_eq!(s.modes[ModeControl::Focus.index()], Some(SingleShot));
        assert_eq!(s.values[Control::Saturation.index()], Some(64.0));
    }

    #[test]
    fn damage_is_what_its_name_says() {
        let j = jpeg();
        let eoi = j.len() - 2;
        assert!(j.ends_with(&[0xff, 0xd9]));
        let scan = scan_start(&j).unwrap();
        let mut d = j.clone();
        damage(&mut d, MjpegDamage::MissingEoi);
        assert_eq!(d, j[..eoi]);
        let mut d = j.clone();
        damage(&mut d, MjpegDamage::JunkBeforeEoi);
        assert_eq!((d.len(), &d[..eoi], &d[d.len() - 2..]), (j.len() + 8, &j[..eoi], &[0xff, 0xd9][..]));
        let mut d = j.clone();
        damage(&mut d, MjpegDamage::Truncated);
        assert!(d.len() > scan && d.len() < eoi && d[..] == j[..d.len()]);
        let mut d = j.clone();
        damage(&mut d, MjpegDamage::BadHuffman);
        assert_eq!((d.len(), &d[..scan]), (j.len(), &j[..scan]));
        assert!(d[scan..eoi].iter().all(|&b| b == 0xfe));
        let mut d = j.clone();
        damage(&mut d, MjpegDamage::ZeroLength);
        assert!(d.is_empty());
    }

    #[test]
    fn audio_chunks_carry_their_index() {
        let mut d = Vec::new();
        fill_audio(&mut d, &capture_mode(AudioSampleFormat::S16, 48_000, 2), 0x0102_0304_0506_0708);
        assert_eq!(d.len(), 480 * 4);
        assert_eq!(&d[..8], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert!(d[8..].iter().all(|&b| b == 0));
        fill_audio(&mut d, &capture_mode(AudioSampleFormat::F32, 8_000, 1), 42);
        assert_eq!((d.len(), f32::from_le_bytes(d[..4].try_into().unwrap())), (320, 42.0));
    }
}
