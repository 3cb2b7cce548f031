//! mst.h, tracks: MediaStreamTrack.

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Arc;

use super::frame::MstKind;
use super::support::read_in_required;
use super::{c_str, ffi_call, out, sized_struct, symver, MstDestroyNotify, MstStatus, OutStruct, Table, UserData};
use crate::constraints::{
    Capabilities, ConstrainMode, ConstrainRange, Control, ControlConstraints, MeteringMode, ModeControl, ModeSet,
    Property, ResizeMode, Settings, VideoConstraints,
};
use crate::error::{err, Result};
use crate::track::{EndReason, ReadyState, Track};

/// A MediaStreamTrack. Opaque handle.
pub struct MstTrack {
    _opaque: [u8; 0],
}

pub(crate) struct TrackEntry {
    pub(crate) track: Track,
    id: CString,
    label: CString,
}

pub(crate) static TRACKS: Table<Arc<TrackEntry>> = Table::new(0x54, "MstTrack");

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("NULs replaced")
}

pub(crate) fn new_handle(track: Track) -> Result<*mut MstTrack> {
    let entry = TrackEntry { id: c_string(track.id()), label: c_string(track.label()), track };
    TRACKS.insert(Arc::new(entry))
}

pub(crate) fn get(h: *const MstTrack) -> Result<Track> {
    Ok(TRACKS.get(h)?.track.clone())
}

/// `MediaStreamTrackState`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstReadyState {
    MST_READY_STATE_LIVE = 1,
    MST_READY_STATE_ENDED = 2,
}

/// Why a track ended.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstEndReason {
    /// The track is live.
    MST_END_REASON_NONE = 0,
    /// mst_track_stop(), or its last handle and processor were freed.
    MST_END_REASON_STOPPED = 1,
    /// The source finished (a test pattern or tone reached its count).
    MST_END_REASON_SOURCE_ENDED = 2,
    /// The generator's writable was closed (mst_generator_close()).
    MST_END_REASON_WRITABLE_CLOSED = 3,
    /// The device went away.
    MST_END_REASON_DEVICE_LOST = 4,
    /// The source failed.
    MST_END_REASON_ERROR = 5,
}

pub(crate) fn end_reason_out(r: Option<EndReason>) -> MstEndReason {
    use MstEndReason::*;
    match r {
        None => MST_END_REASON_NONE,
        Some(EndReason::Stopped) => MST_END_REASON_STOPPED,
        Some(EndReason::SourceEnded) => MST_END_REASON_SOURCE_ENDED,
        Some(EndReason::WritableClosed) => MST_END_REASON_WRITABLE_CLOSED,
        Some(EndReason::DeviceLost) => MST_END_REASON_DEVICE_LOST,
        Some(EndReason::Error) => MST_END_REASON_ERROR,
    }
}

/// `VideoResizeModeEnum`. 0 in MstVideoConstraints means "unset".
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstResizeMode {
    MST_RESIZE_MODE_NONE = 1,
    MST_RESIZE_MODE_CROP_AND_SCALE = 2,
}

/// `min` is set in MstConstrainRange.present.
pub const MST_CONSTRAIN_MIN: u32 = 1;
/// `max` is set.
pub const MST_CONSTRAIN_MAX: u32 = 2;
/// `exact` is set.
pub const MST_CONSTRAIN_EXACT: u32 = 4;
/// `ideal` is set.
pub const MST_CONSTRAIN_IDEAL: u32 = 8;

/// ConstrainULong / ConstrainDouble: the members whose MST_CONSTRAIN_* bit is in `present`.
/// Frozen: it never grows.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstConstrainRange {
    pub present: u32,
    pub min: f64,
    pub max: f64,
    pub exact: f64,
    pub ideal: f64,
}

/// Media Capture Image's `MeteringMode` (since 1.3). 0 in MstConstrainMode means "unset".
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstMeteringMode {
    MST_METERING_MODE_NONE = 1,
    MST_METERING_MODE_MANUAL = 2,
    MST_METERING_MODE_SINGLE_SHOT = 3,
    MST_METERING_MODE_CONTINUOUS = 4,
}

/// ConstrainDOMString over MstMeteringMode (since 1.3): the members whose MST_CONSTRAIN_EXACT
/// or MST_CONSTRAIN_IDEAL bit is in `present`. Frozen: it never grows.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstConstrainMode {
    pub present: u32,
    /// An MstMeteringMode value: required.
    pub exact: i32,
    /// An MstMeteringMode value: chosen when the camera offers it, else the mode stays.
    pub ideal: i32,
}

/// Video constraints (all zero but struct_size = none).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstVideoConstraints {
    /// sizeof(MstVideoConstraints) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    pub width: MstConstrainRange,
    pub height: MstConstrainRange,
    pub frame_rate: MstConstrainRange,
    pub aspect_ratio: MstConstrainRange,
    /// 0 = unset (crop-and-scale when width, height, aspectRatio or frameRate is constrained,
    /// else none); else an MstResizeMode value. With "none" the track passes frames through
    /// unmodified: no scaling and no frame-rate decimation.
    pub resize_mode: i32,
    /// Since 1.3: camera controls (Media Capture Image), set on the device, so every track
    /// of the camera sees them, in the device's own units: `exposure_time` in 100 µs and
    /// `color_temperature` in kelvin (the spec's), `pan` and `tilt` in arc seconds, the others
    /// in the device's range (see the capabilities). A control the camera lacks: a required
    /// member is MST_ERR_OVERCONSTRAINED naming it, an ideal alone is ignored.
    pub brightness: MstConstrainRange,
    pub contrast: MstConstrainRange,
    pub saturation: MstConstrainRange,
    pub sharpness: MstConstrainRange,
    pub exposure_time: MstConstrainRange,
    pub color_temperature: MstConstrainRange,
    pub focus_distance: MstConstrainRange,
    pub zoom: MstConstrainRange,
    pub pan: MstConstrainRange,
    pub tilt: MstConstrainRange,
    /// Since 1.3: set before the values above, so a manual value follows its manual mode.
    /// `exposure_time`, `color_temperature` and `focus_distance` hold only in their mode's
    /// manual: constrained with their mode unset, they set it to manual too; with it set to an
    /// automatic mode an ideal value is not written and a required one is
    /// MST_ERR_OVERCONSTRAINED naming the value, nothing written.
    pub exposure_mode: MstConstrainMode,
    pub white_balance_mode: MstConstrainMode,
    pub focus_mode: MstConstrainMode,
    /// Since 1.3: 0 (explicit padding).
    pub reserved: u32,
}

impl MstVideoConstraints {
    fn control_ranges(&self) -> [&MstConstrainRange; 10] {
        [
            &self.brightness,
            &self.contrast,
            &self.saturation,
            &self.sharpness,
            &self.exposure_time,
            &self.color_temperature,
            &self.focus_distance,
            &self.zoom,
            &self.pan,
            &self.tilt,
        ]
    }

    fn control_ranges_mut(&mut self) -> [&mut MstConstrainRange; 10] {
        [
            &mut self.brightness,
            &mut self.contrast,
            &mut self.saturation,
            &mut self.sharpness,
            &mut self.exposure_time,
            &mut self.color_temperature,
            &mut self.focus_distance,
            &mut self.zoom,
            &mut self.pan,
            &mut self.tilt,
        ]
    }

    fn control_modes(&self) -> [&MstConstrainMode; 3] {
        [&self.exposure_mode, &self.white_balance_mode, &self.focus_mode]
    }

    fn control_modes_mut(&mut self) -> [&mut MstConstrainMode; 3] {
        [&mut self.exposure_mode, &mut self.white_balance_mode, &mut self.focus_mode]
    }
}

fn metering_in(p: Property, member: &str, v: i32) -> Result<MeteringMode> {
    let i = usize::try_from(v - 1).ok().filter(|i| *i < MeteringMode::ALL.len());
    i.map(|i| MeteringMode::ALL[i])
        .ok_or_else(|| err!(InvalidArg, "{}: {member} {v} is not an MstMeteringMode", p.name()))
}

fn metering_out(m: MeteringMode) -> MstMeteringMode {
    match m {
        MeteringMode::None => MstMeteringMode::MST_METERING_MODE_NONE,
        MeteringMode::Manual => MstMeteringMode::MST_METERING_MODE_MANUAL,
        MeteringMode::SingleShot => MstMeteringMode::MST_METERING_MODE_SINGLE_SHOT,
        MeteringMode::Continuous => MstMeteringMode::MST_METERING_MODE_CONTINUOUS,
    }
}

fn mode_in(p: Property, c: &MstConstrainMode) -> Result<ConstrainMode> {
    let unknown = c.present & !(MST_CONSTRAIN_EXACT | MST_CONSTRAIN_IDEAL);
    if unknown != 0 {
        return Err(err!(InvalidArg, "{}: present bits {unknown:#x} are not a constraint member", p.name()));
    }
    let pick = |bit: u32, member: &str, v: i32| (c.present & bit != 0).then(|| metering_in(p, member, v)).transpose();
    Ok(ConstrainMode {
        exact: pick(MST_CONSTRAIN_EXACT, "exact", c.exact)?,
        ideal: pick(MST_CONSTRAIN_IDEAL, "ideal", c.ideal)?,
    })
}

fn mode_out(c: &ConstrainMode) -> MstConstrainMode {
    let mut o = MstConstrainMode::default();
    if let Some(m) = c.exact {
        o.present |= MST_CONSTRAIN_EXACT;
        o.exact = metering_out(m) as i32;
    }
    if let Some(m) = c.ideal {
        o.present |= MST_CONSTRAIN_IDEAL;
        o.ideal = metering_out(m) as i32;
    }
    o
}

fn controls_in(c: &MstVideoConstraints) -> Result<ControlConstraints> {
    if c.reserved != 0 {
        return Err(err!(InvalidArg, "`constraints`->reserved is {}, not 0", c.reserved));
    }
    let mut out = ControlConstraints::default();
    for (ctl, r) in Control::ALL.into_iter().zip(c.control_ranges()) {
        out.values[ctl.index()] = range_in(ctl.property(), r)?;
    }
    for (m, r) in ModeControl::ALL.into_iter().zip(c.control_modes()) {
        out.modes[m.index()] = mode_in(m.property(), r)?;
    }
    Ok(out)
}

// The C bits are the core's, so `present` passes through unchanged.
const _: () = assert!(
    MST_CONSTRAIN_MIN == ConstrainRange::MIN
        && MST_CONSTRAIN_MAX == ConstrainRange::MAX
        && MST_CONSTRAIN_EXACT == ConstrainRange::EXACT
        && MST_CONSTRAIN_IDEAL == ConstrainRange::IDEAL
);

/// The Rust form of `r`, the constraint on `p`. Errors: InvalidArg (unknown `present` bits),
/// in the core's message shape. The values are checked (NaN, infinities, min above max) by
/// the core, before any device is opened or a track changes.
pub(crate) fn range_in(p: Property, r: &MstConstrainRange) -> Result<ConstrainRange> {
    ConstrainRange::from_present(p, r.present, r.min, r.max, r.exact, r.ideal)
}

/// The Rust form of `c`. Errors: InvalidArg (unknown `present` bits or resize_mode).
pub(crate) fn video_constraints_in(c: &MstVideoConstraints) -> Result<VideoConstraints> {
    let resize_mode = match c.resize_mode {
        0 => None,
        1 => Some(ResizeMode::None),
        2 => Some(ResizeMode::CropAndScale),
        v => return Err(err!(InvalidArg, "resize_mode {v} is not an MstResizeMode")),
    };
    Ok(VideoConstraints {
        width: range_in(Property::Width, &c.width)?,
        height: range_in(Property::Height, &c.height)?,
        frame_rate: range_in(Property::FrameRate, &c.frame_rate)?,
        aspect_ratio: range_in(Property::AspectRatio, &c.aspect_ratio)?,
        resize_mode,
        controls: controls_in(c)?,
    })
}

fn controls_out(c: &ControlConstraints) -> MstVideoConstraints {
    let mut o = MstVideoConstraints::default();
    for (slot, r) in o.control_ranges_mut().into_iter().zip(&c.values) {
        *slot = range_out(r);
    }
    for (slot, m) in o.control_modes_mut().into_iter().zip(&c.modes) {
        *slot = mode_out(m);
    }
    o
}

fn range_out(r: &ConstrainRange) -> MstConstrainRange {
    let mut o = MstConstrainRange::default();
    for (bit, v, slot) in [
        (MST_CONSTRAIN_MIN, r.min, &mut o.min),
        (MST_CONSTRAIN_MAX, r.max, &mut o.max),
        (MST_CONSTRAIN_EXACT, r.exact, &mut o.exact),
        (MST_CONSTRAIN_IDEAL, r.ideal, &mut o.ideal),
    ] {
        if let Some(v) = v {
            *slot = v;
            o.present |= bit;
        }
    }
    o
}

fn resize_out(m: ResizeMode) -> MstResizeMode {
    match m {
        ResizeMode::None => MstResizeMode::MST_RESIZE_MODE_NONE,
        ResizeMode::CropAndScale => MstResizeMode::MST_RESIZE_MODE_CROP_AND_SCALE,
    }
}

/// Bits of MstSettings.present and MstCapabilities.present.
pub const MST_SETTING_WIDTH: u32 = 1;
pub const MST_SETTING_HEIGHT: u32 = 2;
pub const MST_SETTING_FRAME_RATE: u32 = 4;
pub const MST_SETTING_ASPECT_RATIO: u32 = 8;
pub const MST_SETTING_RESIZE_MODE: u32 = 16;
pub const MST_SETTING_SAMPLE_RATE: u32 = 32;
pub const MST_SETTING_CHANNEL_COUNT: u32 = 64;
pub const MST_SETTING_SAMPLE_SIZE: u32 = 128;
/// Since 1.3: the camera controls, in MstSettings and MstCapabilities.
pub const MST_SETTING_BRIGHTNESS: u32 = 256;
pub const MST_SETTING_CONTRAST: u32 = 512;
pub const MST_SETTING_SATURATION: u32 = 1024;
pub const MST_SETTING_SHARPNESS: u32 = 2048;
pub const MST_SETTING_EXPOSURE_TIME: u32 = 4096;
pub const MST_SETTING_COLOR_TEMPERATURE: u32 = 8192;
pub const MST_SETTING_FOCUS_DISTANCE: u32 = 16384;
pub const MST_SETTING_ZOOM: u32 = 32768;
pub const MST_SETTING_PAN: u32 = 65536;
pub const MST_SETTING_TILT: u32 = 131072;
pub const MST_SETTING_EXPOSURE_MODE: u32 = 262144;
pub const MST_SETTING_WHITE_BALANCE_MODE: u32 = 524288;
pub const MST_SETTING_FOCUS_MODE: u32 = 1048576;

/// The MST_SETTING_* bit of each camera control, in `Control::ALL` then `ModeControl::ALL`
/// order.
const CONTROL_BITS: [u32; 10] = [
    MST_SETTING_BRIGHTNESS,
    MST_SETTING_CONTRAST,
    MST_SETTING_SATURATION,
    MST_SETTING_SHARPNESS,
    MST_SETTING_EXPOSURE_TIME,
    MST_SETTING_COLOR_TEMPERATURE,
    MST_SETTING_FOCUS_DISTANCE,
    MST_SETTING_ZOOM,
    MST_SETTING_PAN,
    MST_SETTING_TILT,
];
const MODE_BITS: [u32; 3] = [MST_SETTING_EXPOSURE_MODE, MST_SETTING_WHITE_BALANCE_MODE, MST_SETTING_FOCUS_MODE];

/// MediaTrackSettings: members whose MST_SETTING_* bit is in `present`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstSettings {
    /// sizeof(MstSettings) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    pub present: u32,
    pub width: u32,
    pub height: u32,
    /// An estimate from recently delivered frames.
    pub frame_rate: f64,
    /// width / height rounded to 10 decimal places.
    pub aspect_ratio: f64,
    pub resize_mode: MstResizeMode,
    pub sample_rate: f64,
    pub channel_count: u32,
    /// Bits per sample.
    pub sample_size: u32,
    /// Since 1.3: the camera controls, as of the camera's opening or the last
    /// mst_track_apply_constraints() (a camera in a continuous mode moves them itself), in
    /// the units of MstVideoConstraints.
    pub brightness: f64,
    pub contrast: f64,
    pub saturation: f64,
    pub sharpness: f64,
    pub exposure_time: f64,
    pub color_temperature: f64,
    pub focus_distance: f64,
    pub zoom: f64,
    pub pan: f64,
    pub tilt: f64,
    /// Since 1.3: MstMeteringMode values.
    pub exposure_mode: i32,
    pub white_balance_mode: i32,
    pub focus_mode: i32,
    /// Since 1.3: 0 (explicit padding).
    pub reserved: u32,
}

fn settings_out(s: &Settings) -> MstSettings {
    let mut o = MstSettings {
        struct_size: 0,
        present: 0,
        width: 0,
        height: 0,
        frame_rate: 0.0,
        aspect_ratio: 0.0,
        resize_mode: MstResizeMode::MST_RESIZE_MODE_NONE,
        sample_rate: 0.0,
        channel_count: 0,
        sample_size: 0,
        brightness: 0.0,
        contrast: 0.0,
        saturation: 0.0,
        sharpness: 0.0,
        exposure_time: 0.0,
        color_temperature: 0.0,
        focus_distance: 0.0,
        zoom: 0.0,
        pan: 0.0,
        tilt: 0.0,
        exposure_mode: 0,
        white_balance_mode: 0,
        focus_mode: 0,
        reserved: 0,
    };
    let mut set = |bit: u32, present: bool| {
        if present {
            o.present |= bit;
        }
    };
    set(MST_SETTING_WIDTH, s.width.is_some());
    set(MST_SETTING_HEIGHT, s.height.is_some());
    set(MST_SETTING_FRAME_RATE, s.frame_rate.is_some());
    set(MST_SETTING_ASPECT_RATIO, s.aspect_ratio.is_some());
    set(MST_SETTING_RESIZE_MODE, s.resize_mode.is_some());
    set(MST_SETTING_SAMPLE_RATE, s.sample_rate.is_some());
    set(MST_SETTING_CHANNEL_COUNT, s.channel_count.is_some());
    set(MST_SETTING_SAMPLE_SIZE, s.sample_size.is_some());
    o.width = s.width.unwrap_or(0);
    o.height = s.height.unwrap_or(0);
    o.frame_rate = s.frame_rate.unwrap_or(0.0);
    o.aspect_ratio = s.aspect_ratio.unwrap_or(0.0);
    o.resize_mode = s.resize_mode.map_or(MstResizeMode::MST_RESIZE_MODE_NONE, resize_out);
    o.sample_rate = s.sample_rate.unwrap_or(0.0);
    o.channel_count = s.channel_count.unwrap_or(0);
    o.sample_size = s.sample_size.unwrap_or(0);
    let values = [
        &mut o.brightness,
        &mut o.contrast,
        &mut o.saturation,
        &mut o.sharpness,
        &mut o.exposure_time,
        &mut o.color_temperature,
        &mut o.focus_distance,
        &mut o.zoom,
        &mut o.pan,
        &mut o.tilt,
    ];
    for ((slot, bit), v) in values.into_iter().zip(CONTROL_BITS).zip(s.controls.values) {
        if let Some(v) = v {
            *slot = v;
            o.present |= bit;
        }
    }
    let modes = [&mut o.exposure_mode, &mut o.white_balance_mode, &mut o.focus_mode];
    for ((slot, bit), m) in modes.into_iter().zip(MODE_BITS).zip(s.controls.modes) {
        if let Some(m) = m {
            *slot = metering_out(m) as i32;
            o.present |= bit;
        }
    }
    o
}

/// Media Capture Image's `MediaSettingsRange` (since 1.3): `min`, `min + step`, ... `max`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstMediaSettingsRange {
    pub min: f64,
    pub max: f64,
    pub step: f64,
}

/// MediaTrackCapabilities: ranges whose MST_SETTING_* bit is in `present` (none for audio
/// generator tracks, as the spec requires).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstCapabilities {
    /// sizeof(MstCapabilities) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    pub present: u32,
    pub width_min: u32,
    pub width_max: u32,
    pub height_min: u32,
    pub height_max: u32,
    pub frame_rate_min: f64,
    pub frame_rate_max: f64,
    pub aspect_ratio_min: f64,
    pub aspect_ratio_max: f64,
    /// With MST_SETTING_RESIZE_MODE: both "none" and "crop-and-scale" are offered.
    pub resize_mode_none: bool,
    pub resize_mode_crop_and_scale: bool,
    /// Since 1.3: the camera controls the device has, in the units of MstVideoConstraints.
    pub brightness: MstMediaSettingsRange,
    pub contrast: MstMediaSettingsRange,
    pub saturation: MstMediaSettingsRange,
    pub sharpness: MstMediaSettingsRange,
    pub exposure_time: MstMediaSettingsRange,
    pub color_temperature: MstMediaSettingsRange,
    pub focus_distance: MstMediaSettingsRange,
    pub zoom: MstMediaSettingsRange,
    pub pan: MstMediaSettingsRange,
    pub tilt: MstMediaSettingsRange,
    /// Since 1.3: the modes offered, bit (1 << an MstMeteringMode value) each. Single-shot
    /// (white balance and focus only) where the camera has V4L2's one-shot button; the
    /// settings then report it until another mode is set.
    pub exposure_modes: u32,
    pub white_balance_modes: u32,
    pub focus_modes: u32,
    /// Since 1.3: 0 (explicit padding).
    pub reserved: u32,
}

fn capabilities_out(c: &Capabilities) -> MstCapabilities {
    let mut o = MstCapabilities::default();
    if let Some((a, b)) = c.width {
        o.present |= MST_SETTING_WIDTH;
        (o.width_min, o.width_max) = (a, b);
    }
    if let Some((a, b)) = c.height {
        o.present |= MST_SETTING_HEIGHT;
        (o.height_min, o.height_max) = (a, b);
    }
    if let Some((a, b)) = c.frame_rate {
        o.present |= MST_SETTING_FRAME_RATE;
        (o.frame_rate_min, o.frame_rate_max) = (a, b);
    }
    if let Some((a, b)) = c.aspect_ratio {
        o.present |= MST_SETTING_ASPECT_RATIO;
        (o.aspect_ratio_min, o.aspect_ratio_max) = (a, b);
    }
    if c.resize_modes {
        o.present |= MST_SETTING_RESIZE_MODE;
        o.resize_mode_none = true;
        o.resize_mode_crop_and_scale = true;
    }
    let ranges = [
        &mut o.brightness,
        &mut o.contrast,
        &mut o.saturation,
        &mut o.sharpness,
        &mut o.exposure_time,
        &mut o.color_temperature,
        &mut o.focus_distance,
        &mut o.zoom,
        &mut o.pan,
        &mut o.tilt,
    ];
    for ((slot, bit), r) in ranges.into_iter().zip(CONTROL_BITS).zip(c.controls.ranges) {
        if let Some(r) = r {
            *slot = MstMediaSettingsRange { min: r.min, max: r.max, step: r.step };
            o.present |= bit;
        }
    }
    let modes = [&mut o.exposure_modes, &mut o.white_balance_modes, &mut o.focus_modes];
    for ((slot, bit), set) in modes.into_iter().zip(MODE_BITS).zip(c.controls.modes) {
        if !set.is_empty() {
            *slot = modes_out(set);
            o.present |= bit;
        }
    }
    o
}

fn modes_out(set: ModeSet) -> u32 {
    set.iter().fold(0, |bits, m| bits | 1 << metering_out(m) as u32)
}

/// `kind`: MST_KIND_AUDIO or MST_KIND_VIDEO.
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.kind.
#[no_mangle]
pub extern "C" fn mst_track_get_kind(track: *const MstTrack, out: *mut MstKind) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = MstKind::from_kind(get(track)?.kind());
        Ok(())
    })
}

/// `id`: a UUID string, unique per track (clones get their own).
///
/// Ownership: the string belongs to this handle and stays valid until mst_track_free(track);
/// never free it. `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.id.
#[no_mangle]
pub extern "C" fn mst_track_get_id(track: *const MstTrack, out: *mut *const c_char) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = TRACKS.get(track)?.id.as_ptr();
        Ok(())
    })
}

/// `label`: the source's human-readable name ("" for generators).
///
/// Ownership: as mst_track_get_id().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.label.
#[no_mangle]
pub extern "C" fn mst_track_get_label(track: *const MstTrack, out: *mut *const c_char) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = TRACKS.get(track)?.label.as_ptr();
        Ok(())
    })
}

/// `enabled`.
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.enabled (getter).
#[no_mangle]
pub extern "C" fn mst_track_get_enabled(track: *const MstTrack, out: *mut bool) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = get(track)?.enabled();
        Ok(())
    })
}

/// Sets `enabled`. A disabled video track delivers black frames of the same geometry, a
/// disabled audio track silence of the same shape; its processors stay open and keep counting.
///
/// Ownership: `track` borrowed.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` is NULL), MST_ERR_INVALID_ARG (not a track handle),
/// MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.enabled (setter).
#[no_mangle]
pub extern "C" fn mst_track_set_enabled(track: *mut MstTrack, enabled: bool) -> MstStatus {
    ffi_call!({
        get(track)?.set_enabled(enabled);
        Ok(())
    })
}

/// `muted`: the source cannot currently provide media (a muted generator).
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.muted.
#[no_mangle]
pub extern "C" fn mst_track_get_muted(track: *const MstTrack, out: *mut bool) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = get(track)?.muted();
        Ok(())
    })
}

/// The `contentHint` values, each a static C string, so mst_track_get_content_hint() returns
/// one that never goes away.
const CONTENT_HINTS: [&CStr; 7] = [c"", c"motion", c"detail", c"text", c"speech", c"speech-recognition", c"music"];

/// `contentHint`: "" when unset; for video tracks "motion", "detail" or "text", for audio
/// tracks "speech", "speech-recognition" or "music".
///
/// Ownership: `track` borrowed; `*out` is a static string (never free it), written on MST_OK
/// only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.contentHint (getter; mst-content-hint).
#[no_mangle]
pub extern "C" fn mst_track_get_content_hint(track: *const MstTrack, out: *mut *const c_char) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let hint = get(track)?.content_hint();
        let c = CONTENT_HINTS
            .iter()
            .find(|c| c.to_bytes() == hint.as_bytes())
            .ok_or_else(|| err!(Panic, "contentHint {hint:?} has no C string"))?;
        *out = c.as_ptr();
        Ok(())
    })
}

/// Sets `contentHint` on this track only: for video tracks "", "motion", "detail" or "text",
/// for audio tracks "", "speech", "speech-recognition" or "music" ("" removes the hint). Any
/// other value (another kind's hint, another case, extra spaces) is refused and changes
/// nothing. mst_track_clone() copies the hint; libmst itself makes no use of it.
///
/// Ownership: `track` and `hint` borrowed for the call.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `hint` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle; `hint` is not UTF-8 or not a hint of the track's kind: the message names it and the
/// accepted values), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.contentHint (setter; mst-content-hint), where a browser ignores an
/// invalid value; libmst reports it.
#[no_mangle]
pub extern "C" fn mst_track_set_content_hint(track: *mut MstTrack, hint: *const c_char) -> MstStatus {
    ffi_call!({
        let t = get(track)?;
        let hint = c_str!(hint, "hint");
        let hint = hint.to_str().map_err(|_| err!(InvalidArg, "`hint` {hint:?} is not UTF-8"))?;
        t.set_content_hint(hint)
    })
}

/// `readyState`: MST_READY_STATE_LIVE or MST_READY_STATE_ENDED.
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.readyState.
#[no_mangle]
pub extern "C" fn mst_track_get_ready_state(track: *const MstTrack, out: *mut MstReadyState) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = match get(track)?.ready_state() {
            ReadyState::Live => MstReadyState::MST_READY_STATE_LIVE,
            ReadyState::Ended => MstReadyState::MST_READY_STATE_ENDED,
        };
        Ok(())
    })
}

/// Why the track ended; MST_END_REASON_NONE while it is live.
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: libmst extension (what fired the track's ended event).
#[no_mangle]
pub extern "C" fn mst_track_get_end_reason(track: *const MstTrack, out: *mut MstEndReason) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = end_reason_out(get(track)?.end_reason());
        Ok(())
    })
}

/// Ends this track (reason MST_END_REASON_STOPPED; its ended callback runs on this thread)
/// and its processors; other tracks of the source go on. When it was the source's last
/// track, the source stops: a generator's writable closes, a built-in or device source's
/// thread is joined. Stopping an ended track does nothing. The handle stays valid.
///
/// Ownership: `track` borrowed; release it with mst_track_free().
/// Thread safety: any thread.
/// Blocking: when the source stops, until its thread has finished its current frame (a
/// device source: until the device is closed).
/// Errors: MST_ERR_NULL_ARG (`track` is NULL), MST_ERR_INVALID_ARG (not a track handle),
/// MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.stop().
#[no_mangle]
pub extern "C" fn mst_track_stop(track: *mut MstTrack) -> MstStatus {
    ffi_call!({
        get(track)?.stop();
        Ok(())
    })
}

/// A new track on the same source with its own id, constraints, enabled state and lifetime.
/// The clone of an ended track is ended.
///
/// Ownership: `track` borrowed; on MST_OK the caller owns `*out` and releases it with
/// mst_track_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle), MST_ERR_INVALID_STATE (freed), MST_ERR_NO_MEMORY (no handle left).
/// Spec: MediaStreamTrack.clone().
#[no_mangle]
pub extern "C" fn mst_track_clone(track: *const MstTrack, out: *mut *mut MstTrack) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = new_handle(get(track)?.clone_track())?;
        Ok(())
    })
}

/// Releases this handle. The track itself lives on while processors, sinks or other handles
/// use it; when the last of them goes, it stops as with mst_track_stop(). NULL is MST_OK.
///
/// Ownership: releases `track`; it must not be used again (its id and label strings go too).
/// Thread safety: any thread.
/// Blocking: as mst_track_stop() when this was the last user of the track.
/// Errors: MST_ERR_INVALID_ARG (not a track handle), MST_ERR_INVALID_STATE (already freed).
/// Spec: libmst extension (releases the C handle; a track nothing references stops).
#[no_mangle]
pub extern "C" fn mst_track_free(track: *mut MstTrack) -> MstStatus {
    ffi_call!({ TRACKS.free(track) })
}

/// Applies `constraints` to a video track: checked against the capabilities; on an error
/// nothing changes, except after a camera refused a control part-way (MST_ERR_IO,
/// MST_ERR_NO_DEVICE, MST_ERR_BUSY): controls written before it keep their new values, and
/// the settings report them. On success the next delivered frames follow them (crop-and-scale,
/// frame-rate decimation). Audio tracks have no capabilities: any constraint is
/// overconstrained. Camera controls (since 1.3) are chosen by the same SelectSettings, per
/// control, among the values the device takes (a value the current one meets stays) and set
/// on the device before this returns, modes first.
///
/// Ownership: `track` and `constraints` borrowed for the call.
/// Thread safety: any thread.
/// Blocking: with camera controls constrained, on the camera's control ioctls (a USB camera
/// answers in milliseconds); else no.
/// Errors: MST_ERR_NULL_ARG (`track` or `constraints` is NULL), MST_ERR_INVALID_ARG (not a
/// track handle; `constraints->struct_size` below the 1.0 size; NaN, unknown `present` bits,
/// an unknown resize or metering mode, a nonzero `reserved`), MST_ERR_INVALID_STATE (freed),
/// MST_ERR_OVERCONSTRAINED (mst_last_error_constraint() names the property; nothing was
/// written to the camera), MST_ERR_IO (the camera refused a control it offered; the message
/// names it), MST_ERR_NO_DEVICE / MST_ERR_BUSY (the camera went away, or is busy, while its
/// controls are written), MST_ERR_UNSUPPORTED (nonzero bytes past the `constraints` this libmst knows).
/// Spec: MediaStreamTrack.applyConstraints() (OverconstrainedError is
/// MST_ERR_OVERCONSTRAINED).
#[no_mangle]
pub extern "C" fn mst_track_apply_constraints(
    track: *mut MstTrack,
    constraints: *const MstVideoConstraints,
) -> MstStatus {
    ffi_call!({
        let c = read_in_required(constraints, "constraints")?;
        get(track)?.apply_constraints(&video_constraints_in(&c)?)
    })
}

/// The constraints last applied successfully.
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.getConstraints().
#[no_mangle]
pub extern "C" fn mst_track_get_constraints(track: *const MstTrack, out: *mut MstVideoConstraints) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let c = get(track)?.constraints();
        out.write(MstVideoConstraints {
            struct_size: 0,
            width: range_out(&c.width),
            height: range_out(&c.height),
            frame_rate: range_out(&c.frame_rate),
            aspect_ratio: range_out(&c.aspect_ratio),
            resize_mode: c.resize_mode.map_or(0, |m| resize_out(m) as i32),
            ..controls_out(&c.controls)
        });
        Ok(())
    })
}

/// The track's current settings, from the latest frame it delivered (nothing present before
/// the first one), and (since 1.3) a camera's controls from its opening on.
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.getSettings().
#[no_mangle]
pub extern "C" fn mst_track_get_settings(track: *const MstTrack, out: *mut MstSettings) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        out.write(settings_out(&get(track)?.settings()));
        Ok(())
    })
}

/// The track's capabilities.
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack.getCapabilities().
#[no_mangle]
pub extern "C" fn mst_track_get_capabilities(track: *const MstTrack, out: *mut MstCapabilities) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        out.write(capabilities_out(&get(track)?.capabilities()));
        Ok(())
    })
}

/// Called once when a track ends, with the reason.
pub type MstEndedCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, reason: MstEndReason)>;
/// Called when a track's muted state changes, with the new state.
pub type MstMuteCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, muted: bool)>;

/// Registers the `ended` callback (NULL `callback` removes it). It runs once, on the thread
/// that ends the track (the caller of mst_track_stop(), mst_generator_close() or
/// mst_generator_write(), or a source's thread), with no libmst lock held, so it may call
/// libmst. A track that has already ended never calls it.
///
/// Ownership: `user_data` is the caller's; libmst passes it back and calls `destroy` once:
/// the previous callback's now, this one's after it fired, when it is replaced, (if it
/// never fires) when the track itself goes away, or before returning when the call fails.
/// Thread safety: any thread; the callback runs on the thread that ends the track.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` is NULL), MST_ERR_INVALID_ARG (not a track handle),
/// MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack's ended event (onended).
#[no_mangle]
pub extern "C" fn mst_track_set_ended_callback(
    track: *mut MstTrack,
    callback: MstEndedCallback,
    user_data: *mut c_void,
    destroy: MstDestroyNotify,
) -> MstStatus {
    ffi_call!({
        // First, so that `destroy` runs (once, when `ud` drops) on every failure too.
        let ud = UserData::new(user_data, destroy);
        let t = get(track)?;
        t.set_ended_callback(callback.map(|cb| {
            Box::new(move |reason: EndReason| {
                // SAFETY: the caller registered `cb` with this user_data.
                unsafe { cb(ud.ptr(), end_reason_out(Some(reason))) }
            }) as Box<dyn Fn(EndReason) + Send + Sync>
        }));
        Ok(())
    })
}

/// Registers the mute/unmute callback (NULL `callback` removes it). It runs once per change of
/// the track's settled muted value, with the new value, on the thread that changes the muted
/// state (mst_generator_set_muted()'s caller), with no libmst lock held. Reports are
/// serialized per track: a change made while this track's callback is running (on another
/// thread, or on its own thread from inside the callback) is reported by the thread running
/// it, right after the callback returns, unless the value came back to the one it reported.
/// So calls never nest or overlap, never repeat a value, and the last call carries the value
/// that holds.
///
/// Ownership: as mst_track_set_ended_callback().
/// Thread safety: any thread; the callback runs on a thread that changes the muted state, as
/// above.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` is NULL), MST_ERR_INVALID_ARG (not a track handle),
/// MST_ERR_INVALID_STATE (freed).
/// Spec: MediaStreamTrack's mute and unmute events (onmute, onunmute).
#[no_mangle]
pub extern "C" fn mst_track_set_mute_callback(
    track: *mut MstTrack,
    callback: MstMuteCallback,
    user_data: *mut c_void,
    destroy: MstDestroyNotify,
) -> MstStatus {
    ffi_call!({
        // First, so that `destroy` runs (once, when `ud` drops) on every failure too.
        let ud = UserData::new(user_data, destroy);
        let t = get(track)?;
        t.set_mute_callback(callback.map(|cb| {
            Box::new(move |muted: bool| {
                // SAFETY: the caller registered `cb` with this user_data.
                unsafe { cb(ud.ptr(), muted) }
            }) as Box<dyn Fn(bool) + Send + Sync>
        }));
        Ok(())
    })
}

sized_struct!(in MstVideoConstraints = 176, out MstSettings = 56, out MstCapabilities = 64);

symver!(
    mst_track_get_kind,
    mst_track_get_id,
    mst_track_get_label,
    mst_track_get_enabled,
    mst_track_set_enabled,
    mst_track_get_muted,
    mst_track_get_content_hint,
    mst_track_set_content_hint,
    mst_track_get_ready_state,
    mst_track_get_end_reason,
    mst_track_stop,
    mst_track_clone,
    mst_track_free,
    mst_track_apply_constraints,
    mst_track_get_constraints,
    mst_track_get_settings,
    mst_track_get_capabilities,
    mst_track_set_ended_callback,
    mst_track_set_mute_callback
);
