//! V4L2 camera controls as Media Capture Image's constrainable properties: the control table
//! (VIDIOC_QUERY_EXT_CTRL, VIDIOC_QUERYMENU), reading (VIDIOC_G_EXT_CTRLS) and setting
//! (VIDIOC_S_EXT_CTRLS) on a plain fd, and the mapping between the two.
//!
//! Values are the device's own numbers, unscaled: V4L2 already uses the spec's units for
//! exposureTime (100 µs) and colorTemperature (kelvin); brightness, contrast, saturation and
//! sharpness are the device's range, as the spec says; pan and tilt are V4L2's arc seconds;
//! zoom and focusDistance are in the device's units (V4L2 defines neither a magnification nor
//! metres, and a device's raw range is all there is to know).
//!
//! Modes: exposureMode from V4L2_CID_EXPOSURE_AUTO ("manual" is V4L2_EXPOSURE_MANUAL or
//! SHUTTER_PRIORITY, "continuous" is V4L2_EXPOSURE_AUTO or APERTURE_PRIORITY, the first the
//! device's menu has when set); whiteBalanceMode and focusMode from the booleans
//! V4L2_CID_AUTO_WHITE_BALANCE and V4L2_CID_FOCUS_AUTO (1 "continuous", 0 "manual"). A control
//! the device lacks, has disabled or makes read-only is absent.
//!
//! "single-shot" (focusMode and whiteBalanceMode) is V4L2's one-shot button,
//! V4L2_CID_AUTO_FOCUS_START or V4L2_CID_DO_WHITE_BALANCE, pressed once the automatic control
//! is off: the camera measures once and holds what it found. It is offered where the device
//! has the button and a "manual" to press it in. A button has no state and the camera then
//! reads as "manual", so settings report "single-shot" from the press until the mode is set
//! otherwise or reads other than "manual"; asking again for the mode the settings report
//! does not press it again. V4L2 has no one-shot exposure, and uvcvideo (nearly every USB
//! webcam) maps neither button, so most cameras offer "manual" and "continuous" only.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;

use v4l::v4l2::vidioc;
use v4l::v4l_sys as sys;

use crate::constraints::{
    Control, ControlCapabilities, ControlConstraints, ControlSettings, MeteringMode, ModeControl, ModeSet,
    SettingsRange,
};
use crate::error::{Error, Result};

/// The V4L2 control behind each [`Control`], in [`Control::ALL`] order.
const VALUE_CIDS: [u32; 10] = [
    sys::V4L2_CID_BRIGHTNESS,
    sys::V4L2_CID_CONTRAST,
    sys::V4L2_CID_SATURATION,
    sys::V4L2_CID_SHARPNESS,
    sys::V4L2_CID_EXPOSURE_ABSOLUTE,
    sys::V4L2_CID_WHITE_BALANCE_TEMPERATURE,
    sys::V4L2_CID_FOCUS_ABSOLUTE,
    sys::V4L2_CID_ZOOM_ABSOLUTE,
    sys::V4L2_CID_PAN_ABSOLUTE,
    sys::V4L2_CID_TILT_ABSOLUTE,
];

/// The V4L2 control behind each [`ModeControl`], in [`ModeControl::ALL`] order.
const MODE_CIDS: [u32; 3] = [sys::V4L2_CID_EXPOSURE_AUTO, sys::V4L2_CID_AUTO_WHITE_BALANCE, sys::V4L2_CID_FOCUS_AUTO];

/// The one-shot button of each [`ModeControl`], in [`ModeControl::ALL`] order, where V4L2 has
/// one: "single-shot".
const SHOT_CIDS: [Option<u32>; 3] = [None, Some(sys::V4L2_CID_DO_WHITE_BALANCE), Some(sys::V4L2_CID_AUTO_FOCUS_START)];

const BUTTON: u32 = sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_BUTTON;

const EXPOSURE_AUTO: i64 = sys::v4l2_exposure_auto_type_V4L2_EXPOSURE_AUTO as i64;
const EXPOSURE_MANUAL: i64 = sys::v4l2_exposure_auto_type_V4L2_EXPOSURE_MANUAL as i64;
const EXPOSURE_SHUTTER_PRIORITY: i64 = sys::v4l2_exposure_auto_type_V4L2_EXPOSURE_SHUTTER_PRIORITY as i64;
const EXPOSURE_APERTURE_PRIORITY: i64 = sys::v4l2_exposure_auto_type_V4L2_EXPOSURE_APERTURE_PRIORITY as i64;

/// What VIDIOC_QUERY_EXT_CTRL (and QUERYMENU, for menus) says of one control.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ControlInfo {
    pub id: u32,
    /// A `V4L2_CTRL_TYPE_*`.
    pub kind: u32,
    pub min: i64,
    pub max: i64,
    pub step: u64,
    /// The indices QUERYMENU accepts, for a menu.
    pub menu: Vec<i64>,
}

impl ControlInfo {
    fn is_64(&self) -> bool {
        self.kind == sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_INTEGER64
    }
}

/// The camera controls a device has: the entries of [`VALUE_CIDS`] and [`MODE_CIDS`] it
/// answers for with a type libmst maps.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ControlTable {
    pub controls: Vec<ControlInfo>,
}

fn exposure_mode(v: i64) -> Option<MeteringMode> {
    match v {
        EXPOSURE_MANUAL | EXPOSURE_SHUTTER_PRIORITY => Some(MeteringMode::Manual),
        EXPOSURE_AUTO | EXPOSURE_APERTURE_PRIORITY => Some(MeteringMode::Continuous),
        _ => None,
    }
}

impl ControlTable {
    fn get(&self, id: u32) -> Option<&ControlInfo> {
        self.controls.iter().find(|c| c.id == id)
    }

    /// The modes a mode control offers (empty: the device lacks it).
    fn modes(&self, m: ModeControl) -> ModeSet {
        let Some(c) = self.get(MODE_CIDS[m.index()]) else { return ModeSet::default() };
        let values: Vec<i64> =
            if c.kind == sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_MENU { c.menu.clone() } else { vec![c.min, c.max] };
        let modes = values.into_iter().filter_map(|v| self.mode_of(m, v)).fold(ModeSet::default(), ModeSet::with);
        match SHOT_CIDS[m.index()].and_then(|id| self.get(id)) {
            Some(_) if modes.contains(MeteringMode::Manual) => modes.with(MeteringMode::SingleShot),
            _ => modes,
        }
    }

    fn mode_of(&self, m: ModeControl, v: i64) -> Option<MeteringMode> {
        match m {
            ModeControl::Exposure => exposure_mode(v),
            ModeControl::WhiteBalance | ModeControl::Focus if v == 0 => Some(MeteringMode::Manual),
            ModeControl::WhiteBalance | ModeControl::Focus if v == 1 => Some(MeteringMode::Continuous),
            _ => None,
        }
    }

    /// The V4L2 value that sets `mode` on `m` (its first menu item that means it).
    fn value_of(&self, m: ModeControl, mode: MeteringMode) -> Option<i64> {
        let c = self.get(MODE_CIDS[m.index()])?;
        match m {
            ModeControl::Exposure => {
                let order = match mode {
                    MeteringMode::Manual => [EXPOSURE_MANUAL, EXPOSURE_SHUTTER_PRIORITY],
                    MeteringMode::Continuous => [EXPOSURE_AUTO, EXPOSURE_APERTURE_PRIORITY],
                    _ => return None,
                };
                order.into_iter().find(|v| c.menu.contains(v))
            }
            // A one-shot is pressed with the automatic control off.
            _ if mode == MeteringMode::SingleShot => self.value_of(m, MeteringMode::Manual),
            _ => [0, 1].into_iter().find(|v| self.mode_of(m, *v) == Some(mode)),
        }
    }

    /// `MediaTrackCapabilities` of the controls.
    pub fn capabilities(&self) -> ControlCapabilities {
        let mut caps = ControlCapabilities::default();
        for ctl in Control::ALL {
            caps.ranges[ctl.index()] = self.get(VALUE_CIDS[ctl.index()]).map(|c| SettingsRange {
                min: c.min as f64,
                max: c.max as f64,
                step: c.step as f64,
            });
        }
        for m in ModeControl::ALL {
            caps.modes[m.index()] = self.modes(m);
        }
        caps
    }

    /// `MediaTrackSettings` of the controls, from the values [`read`] returned.
    pub fn settings(&self, values: &[(u32, i64)]) -> ControlSettings {
        let value = |id: u32| values.iter().find(|(c, _)| *c == id).map(|(_, v)| *v);
        let mut s = ControlSettings::default();
        for ctl in Control::ALL {
            s.values[ctl.index()] = value(VALUE_CIDS[ctl.index()]).map(|v| v as f64);
        }
        for m in ModeControl::ALL {
            s.modes[m.index()] = value(MODE_CIDS[m.index()]).and_then(|v| self.mode_of(m, v));
        }
        s
    }

    /// The writes that make the device what `chosen` says (its None members stay), modes first:
    /// a camera takes a manual value only once its automatic mode is off. "single-shot" is the
    /// automatic control off, then its button pressed.
    pub fn writes(&self, chosen: &ControlSettings) -> Vec<(u32, i64)> {
        let modes = ModeControl::ALL.into_iter().flat_map(|m| {
            let mode = chosen.modes[m.index()];
            let off = mode.and_then(|mode| Some((MODE_CIDS[m.index()], self.value_of(m, mode)?)));
            let press = SHOT_CIDS[m.index()].filter(|_| off.is_some() && mode == Some(MeteringMode::SingleShot));
            off.into_iter().chain(press.map(|id| (id, 1)))
        });
        let values = Control::ALL
            .into_iter()
            .filter_map(|c| Some((VALUE_CIDS[c.index()], chosen.values[c.index()]?.round() as i64)));
        modes.chain(values).collect()
    }
}

use super::ioctl;

/// Whether libmst maps control `id` when it has type `kind` (a `V4L2_CTRL_TYPE_*`): a value
/// is an integer or boolean, a mode a boolean or (exposure's) a menu, a one-shot a button.
fn maps(id: u32, kind: u32) -> bool {
    let is_mode = MODE_CIDS.contains(&id);
    let is_shot = SHOT_CIDS.contains(&Some(id));
    match kind {
        sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_INTEGER | sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_INTEGER64 => {
            VALUE_CIDS.contains(&id)
        }
        sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_BOOLEAN => is_mode || VALUE_CIDS.contains(&id),
        sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_MENU => id == sys::V4L2_CID_EXPOSURE_AUTO,
        BUTTON => is_shot,
        _ => false,
    }
}

impl ControlTable {
    /// The table of a device that answers for `controls` (a fake camera's): those libmst
    /// maps, as [`query`] keeps them.
    pub(crate) fn of(controls: Vec<ControlInfo>) -> ControlTable {
        ControlTable { controls: controls.into_iter().filter(|c| maps(c.id, c.kind)).collect() }
    }
}

/// Where a camera's controls are read and written: a V4L2 node ([`read`], [`write`] on its
/// fd), or a fake camera's model of a driver.
pub(crate) trait ControlDevice: Send {
    /// The current value of each control of `table` the device reads now.
    fn read(&self, table: &ControlTable) -> Vec<(u32, i64)>;
    /// Sets `values` in their order, as one VIDIOC_S_EXT_CTRLS. Err: the error and the
    /// control the device blamed.
    fn write(
        &self,
        table: &ControlTable,
        values: &[(u32, i64)],
    ) -> std::result::Result<(), (std::io::Error, Option<u32>)>;
}

impl ControlDevice for OwnedFd {
    fn read(&self, table: &ControlTable) -> Vec<(u32, i64)> {
        read(self.as_fd(), table)
    }

    fn write(
        &self,
        table: &ControlTable,
        values: &[(u32, i64)],
    ) -> std::result::Result<(), (std::io::Error, Option<u32>)> {
        write(self.as_fd(), table, values)
    }
}

/// The table of `fd`'s camera controls (VIDIOC_QUERY_EXT_CTRL on each, QUERYMENU on menus).
/// A control the driver does not know (EINVAL) is absent, as is one that is disabled,
/// read-only, or of a type [`maps`] does not take; a driver
/// without VIDIOC_QUERY_EXT_CTRL (ENOTTY) has none.
pub(crate) fn query(fd: BorrowedFd<'_>) -> std::io::Result<ControlTable> {
    let mut table = ControlTable::default();
    for id in VALUE_CIDS.into_iter().chain(MODE_CIDS).chain(SHOT_CIDS.into_iter().flatten()) {
        // SAFETY: a plain C struct; all zero is valid.
        let mut q: sys::v4l2_query_ext_ctrl = unsafe { std::mem::zeroed() };
        q.id = id;
        match ioctl(fd, vidioc::VIDIOC_QUERY_EXT_CTRL, &mut q) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => continue,
            Err(e) if e.raw_os_error() == Some(libc::ENOTTY) => return Ok(ControlTable::default()),
            Err(e) => return Err(e),
        }
        if q.flags & (sys::V4L2_CTRL_FLAG_DISABLED | sys::V4L2_CTRL_FLAG_READ_ONLY) != 0 {
            continue;
        }
        if !maps(id, q.type_) {
            continue;
        }
        let mut menu = Vec::new();
        if q.type_ == sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_MENU {
            for index in q.minimum.max(0)..=q.maximum.min(u32::MAX as i64) {
                // SAFETY: as above.
                let mut m: sys::v4l2_querymenu = unsafe { std::mem::zeroed() };
                (m.id, m.index) = (id, index as u32);
                // Menus may skip items: QUERYMENU refuses those with EINVAL.
                if ioctl(fd, vidioc::VIDIOC_QUERYMENU, &mut m).is_ok() {
                    menu.push(index);
                }
            }
        }
        table.controls.push(ControlInfo { id, kind: q.type_, min: q.minimum, max: q.maximum, step: q.step, menu });
    }
    Ok(table)
}

fn ext_control(c: &ControlInfo, value: i64) -> sys::v4l2_ext_control {
    // SAFETY: a plain C struct; all zero is valid.
    let mut e: sys::v4l2_ext_control = unsafe { std::mem::zeroed() };
    e.id = c.id;
    if c.is_64() {
        e.__bindgen_anon_1.value64 = value;
    } else {
        e.__bindgen_anon_1.value = value.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    }
    e
}

/// VIDIOC_G_EXT_CTRLS or VIDIOC_S_EXT_CTRLS on `controls` (of any class at once: which =
/// V4L2_CTRL_WHICH_CUR_VAL). Err: the error and the control the driver blamed, if any.
fn ext_ctrls(
    fd: BorrowedFd<'_>,
    request: vidioc::_IOC_TYPE,
    controls: &mut [sys::v4l2_ext_control],
) -> std::result::Result<(), (std::io::Error, Option<u32>)> {
    if controls.is_empty() {
        return Ok(());
    }
    // SAFETY: a plain C struct; all zero is valid.
    let mut e: sys::v4l2_ext_controls = unsafe { std::mem::zeroed() };
    e.__bindgen_anon_1.which = sys::V4L2_CTRL_WHICH_CUR_VAL;
    e.count = controls.len() as u32;
    e.controls = controls.as_mut_ptr();
    ioctl(fd, request, &mut e).map_err(|err| {
        let blamed = controls.get(e.error_idx as usize).map(|c| c.id).filter(|_| e.error_idx < e.count);
        (err, blamed)
    })
}

/// The current value of each control of `table` the driver reads (one VIDIOC_G_EXT_CTRLS
/// each: a control a camera will not read now, as UVC cameras refuse some while in an
/// automatic mode, leaves out only itself).
pub(crate) fn read(fd: BorrowedFd<'_>, table: &ControlTable) -> Vec<(u32, i64)> {
    let value = |c: &ControlInfo| {
        let mut e = [ext_control(c, 0)];
        ext_ctrls(fd, vidioc::VIDIOC_G_EXT_CTRLS, &mut e).ok()?;
        // SAFETY: the member the driver wrote for this control's type.
        Some(unsafe {
            if c.is_64() {
                e[0].__bindgen_anon_1.value64
            } else {
                e[0].__bindgen_anon_1.value as i64
            }
        })
    };
    // A button has no value (V4L2 refuses to read it).
    table.controls.iter().filter(|c| c.kind != BUTTON).filter_map(|c| Some((c.id, value(c)?))).collect()
}

/// Sets `values` (controls of `table`) in one VIDIOC_S_EXT_CTRLS, in their order. Err: the
/// error and the control the driver blamed.
pub(crate) fn write(
    fd: BorrowedFd<'_>,
    table: &ControlTable,
    values: &[(u32, i64)],
) -> std::result::Result<(), (std::io::Error, Option<u32>)> {
    let mut list: Vec<_> = values.iter().filter_map(|(id, v)| table.get(*id).map(|c| ext_control(c, *v))).collect();
    ext_ctrls(fd, vidioc::VIDIOC_S_EXT_CTRLS, &mut list)
}

/// The spec's name of a V4L2 control of the table.
fn name_of(id: u32) -> &'static str {
    let value = VALUE_CIDS.iter().position(|c| *c == id).map(|i| Control::ALL[i].name());
    let mode = MODE_CIDS.iter().position(|c| *c == id).map(|i| ModeControl::ALL[i].name());
    value.or(mode).unwrap_or("a camera control")
}

/// A camera's controls on their own fd (controls are the device's, whichever fd sets them),
/// with the values last read: settings report them without touching the device.
pub(crate) struct Controls {
    /// Closed when the camera's source ends, so the device is not held open (a driver cannot
    /// be unloaded while it is) by tracks that have ended but not been freed.
    fd: Mutex<Option<Box<dyn ControlDevice>>>,
    /// What messages call the device: `V4L2 device "v4l2:platform:vivid-000:0"`.
    device: String,
    table: ControlTable,
    current: Mutex<ControlSettings>,
    /// The controls an applyConstraints has constrained: what a reacquired session of the
    /// device is given back.
    set: Mutex<Constrained>,
    /// The mode controls (in [`ModeControl::ALL`] order) whose one-shot was pressed and that
    /// have read "manual" since: "single-shot" in settings.
    shots: Mutex<[bool; 3]>,
}

/// Which controls (in [`Control::ALL`] and [`ModeControl::ALL`] order) have been constrained.
#[derive(Clone, Copy, Debug, Default)]
struct Constrained {
    values: [bool; 10],
    modes: [bool; 3],
}

impl Controls {
    /// Opens `path` again for its controls and reads them. Errors: the layer's errno mapping
    /// (NoDevice, Busy, NoMemory, else Io), naming `device_id`.
    pub(crate) fn open(path: &std::path::Path, device_id: &str) -> Result<Controls> {
        let device = format!("V4L2 device \"{device_id}\"");
        let io = |what: &str, e: std::io::Error| super::error(&device, what, &e);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| io("opening for its controls", e))?;
        let fd = OwnedFd::from(file);
        let table = query(fd.as_fd()).map_err(|e| io("VIDIOC_QUERY_EXT_CTRL", e))?;
        Ok(Controls::with(Box::new(fd), device, table))
    }

    /// The controls `table` of `dev`, read now; `device` is what messages call it.
    pub(crate) fn with(dev: Box<dyn ControlDevice>, device: String, table: ControlTable) -> Controls {
        let current = Mutex::new(table.settings(&dev.read(&table)));
        Controls { fd: Mutex::new(Some(dev)), device, table, current, set: Mutex::default(), shots: Mutex::default() }
    }

    /// The device's values now, and its settings: a mode whose one-shot was pressed is
    /// "single-shot" while it reads "manual".
    fn read(&self, dev: &dyn ControlDevice) -> (Vec<(u32, i64)>, ControlSettings) {
        let values = dev.read(&self.table);
        let mut s = self.table.settings(&values);
        let mut shots = self.shots.lock().unwrap_or_else(|p| p.into_inner());
        for m in ModeControl::ALL {
            let (shot, mode) = (&mut shots[m.index()], &mut s.modes[m.index()]);
            *shot &= *mode == Some(MeteringMode::Manual);
            if *shot {
                *mode = Some(MeteringMode::SingleShot);
            }
        }
        (values, s)
    }

    /// Writes `chosen`'s members that differ from `current`, the device's values `values`
    /// (so a one-shot is pressed only when the mode is not "single-shot" already), notes the
    /// one-shots pressed, and reads the settings back into `current`.
    fn write(
        &self,
        dev: &dyn ControlDevice,
        chosen: &ControlSettings,
        values: &[(u32, i64)],
        current: &mut ControlSettings,
    ) -> Result<()> {
        let mut changes = *chosen;
        for m in ModeControl::ALL {
            if changes.modes[m.index()] == current.modes[m.index()] {
                changes.modes[m.index()] = None;
            }
        }
        let writes: Vec<_> = self.table.writes(&changes).into_iter().filter(|w| !values.contains(w)).collect();
        let written = dev.write(&self.table, &writes);
        if written.is_ok() {
            let mut shots = self.shots.lock().unwrap_or_else(|p| p.into_inner());
            for m in ModeControl::ALL {
                if let Some(mode) = changes.modes[m.index()] {
                    shots[m.index()] = mode == MeteringMode::SingleShot;
                }
            }
        }
        *current = self.read(dev).1;
        written.map_err(|(e, id)| -> Error {
            let name = id.map_or("camera controls", name_of);
            super::error(&self.device, &format!("VIDIOC_S_EXT_CTRLS ({name})"), &e)
        })
    }

    /// Releases the device: settings keep their last values, applyConstraints still checks
    /// but writes nothing.
    pub(crate) fn close(&self) {
        drop(self.fd.lock().unwrap_or_else(|p| p.into_inner()).take());
    }

    pub(crate) fn capabilities(&self) -> ControlCapabilities {
        self.table.capabilities()
    }

    /// The values as of the last open or applyConstraints (a device in an automatic mode
    /// moves its own values; they are read again at the next applyConstraints).
    pub(crate) fn settings(&self) -> ControlSettings {
        *self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// SelectSettings over the device's values, then one VIDIOC_S_EXT_CTRLS for what it
    /// chose (modes first: a value constrained with its mode left unconstrained sets the mode
    /// to "manual" too, see [`ControlCapabilities::select`]), then the values read back. On
    /// Overconstrained (naming the control) nothing is written. Errors: Overconstrained; Io
    /// naming the control the driver refused (the driver's own check comes first, so usually
    /// nothing changed then either).
    pub(crate) fn apply(&self, c: &ControlConstraints) -> Result<()> {
        if c.is_empty() {
            return Ok(());
        }
        let fd = self.fd.lock().unwrap_or_else(|p| p.into_inner());
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let Some(fd) = fd.as_deref() else {
            return self.table.capabilities().select(c, &current, &self.device).map(drop);
        };
        let values;
        (values, *current) = self.read(fd);
        let chosen = self.table.capabilities().select(c, &current, &self.device)?;
        self.write(fd, &chosen, &values, &mut current)?;
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        for ctl in Control::ALL {
            set.values[ctl.index()] |= !c.values[ctl.index()].is_empty();
        }
        // A mode a value's constraint set to "manual" was set too: the value holds only in it.
        for m in ModeControl::ALL {
            set.modes[m.index()] |= c.modes[m.index()] != Default::default() || chosen.modes[m.index()].is_some();
        }
        Ok(())
    }

    /// Reacquire: gives this session of a device (opened again after it was unplugged, so with
    /// its defaults) the values `earlier`, a closed session's, last had for the controls an
    /// applyConstraints set there, but for those this session's own constraints set already.
    /// Errors: the layer's errno mapping, naming the control the driver refused.
    pub(crate) fn carry_over(&self, earlier: &Controls) -> Result<()> {
        let then = earlier.settings();
        let was_set = *earlier.set.lock().unwrap_or_else(|p| p.into_inner());
        let fd = self.fd.lock().unwrap_or_else(|p| p.into_inner());
        let Some(fd) = fd.as_deref() else { return Ok(()) };
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        let mut chosen = ControlSettings::default();
        for ctl in Control::ALL {
            let i = ctl.index();
            // A value its automatic mode moved is the camera's, not the application's.
            let automatic = ctl.mode().and_then(|m| then.modes[m.index()]).is_some_and(|m| m != MeteringMode::Manual);
            if was_set.values[i] && !set.values[i] && !automatic {
                chosen.values[i] = then.values[i];
                set.values[i] = true;
            }
        }
        for m in ModeControl::ALL {
            let i = m.index();
            if was_set.modes[i] && !set.modes[i] {
                chosen.modes[i] = then.modes[i];
                set.modes[i] = true;
            }
        }
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let values;
        (values, *current) = self.read(fd);
        self.write(fd, &chosen, &values, &mut current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::{ConstrainMode, ConstrainRange};

    /// A UVC webcam's table: brightness -64..=64, exposure 3..=2047 in 100 µs units, an
    /// exposure menu of manual and aperture priority (UVC has no full auto), auto white
    /// balance and its temperature, no focus, zoom or pan/tilt.
    fn webcam() -> ControlTable {
        let int = |id, min, max, step| ControlInfo {
            id,
            kind: sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_INTEGER,
            min,
            max,
            step,
            menu: vec![],
        };
        ControlTable {
            controls: vec![
                int(sys::V4L2_CID_BRIGHTNESS, -64, 64, 1),
                int(sys::V4L2_CID_EXPOSURE_ABSOLUTE, 3, 2047, 1),
                int(sys::V4L2_CID_WHITE_BALANCE_TEMPERATURE, 2800, 6500, 10),
                ControlInfo {
                    id: sys::V4L2_CID_EXPOSURE_AUTO,
                    kind: sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_MENU,
                    min: 0,
                    max: 3,
                    step: 1,
                    menu: vec![EXPOSURE_MANUAL, EXPOSURE_APERTURE_PRIORITY],
                },
                ControlInfo {
                    id: sys::V4L2_CID_AUTO_WHITE_BALANCE,
                    kind: sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_BOOLEAN,
                    min: 0,
                    max: 1,
                    step: 1,
                    menu: vec![],
                },
            ],
        }
    }

    #[test]
    fn capabilities_and_settings_map_the_table() {
        let t = webcam();
        let caps = t.capabilities();
        assert_eq!(caps.ranges[Control::Brightness.index()], Some(SettingsRange { min: -64.0, max: 64.0, step: 1.0 }));
        assert_eq!(
            caps.ranges[Control::ColorTemperature.index()],
            Some(SettingsRange { min: 2800.0, max: 6500.0, step: 10.0 })
        );
        for absent in [Control::Contrast, Control::Sharpness, Control::FocusDistance, Control::Zoom, Control::Pan] {
            assert_eq!(caps.ranges[absent.index()], None, "{absent:?}");
        }
        let both = ModeSet::default().with(MeteringMode::Manual).with(MeteringMode::Continuous);
        assert_eq!(caps.modes[ModeControl::Exposure.index()], both);
        assert_eq!(caps.modes[ModeControl::WhiteBalance.index()], both);
        assert!(caps.modes[ModeControl::Focus.index()].is_empty());

        let s = t.settings(&[
            (sys::V4L2_CID_BRIGHTNESS, -3),
            (sys::V4L2_CID_EXPOSURE_AUTO, EXPOSURE_APERTURE_PRIORITY),
            (sys::V4L2_CID_AUTO_WHITE_BALANCE, 0),
        ]);
        assert_eq!(s.values[Control::Brightness.index()], Some(-3.0));
        assert_eq!(s.modes[ModeControl::Exposure.index()], Some(MeteringMode::Continuous));
        assert_eq!(s.modes[ModeControl::WhiteBalance.index()], Some(MeteringMode::Manual));
        assert_eq!(s.values[Control::Zoom.index()], None);
    }

    #[test]
    fn single_shot_is_the_button_pressed_with_the_automatic_control_off() {
        let mut t = webcam();
        let button = |id| ControlInfo { id, kind: BUTTON, min: 0, max: 0, step: 0, menu: vec![] };
        t.controls.push(button(sys::V4L2_CID_DO_WHITE_BALANCE));
        // A focus button without the focus mode control has nothing to press it in.
        t.controls.push(button(sys::V4L2_CID_AUTO_FOCUS_START));
        let caps = t.capabilities();
        let all =
            ModeSet::default().with(MeteringMode::Manual).with(MeteringMode::SingleShot).with(MeteringMode::Continuous);
        assert_eq!(caps.modes[ModeControl::WhiteBalance.index()], all);
        assert!(!caps.modes[ModeControl::Exposure.index()].contains(MeteringMode::SingleShot));
        assert!(caps.modes[ModeControl::Focus.index()].is_empty());
        let mut chosen = ControlSettings::default();
        chosen.modes[ModeControl::WhiteBalance.index()] = Some(MeteringMode::SingleShot);
        assert_eq!(t.writes(&chosen), vec![(sys::V4L2_CID_AUTO_WHITE_BALANCE, 0), (sys::V4L2_CID_DO_WHITE_BALANCE, 1)]);
        // A button is neither a value nor a mode of the settings.
        let s = t.settings(&[(sys::V4L2_CID_AUTO_WHITE_BALANCE, 0), (sys::V4L2_CID_DO_WHITE_BALANCE, 1)]);
        assert_eq!(s.modes[ModeControl::WhiteBalance.index()], Some(MeteringMode::Manual));
        // Only buttons V4L2 defines as one-shots, and only as buttons, are kept.
        let table = ControlTable::of(vec![
            button(sys::V4L2_CID_EXPOSURE_AUTO),
            ControlInfo { kind: sys::v4l2_ctrl_type_V4L2_CTRL_TYPE_INTEGER, ..button(sys::V4L2_CID_DO_WHITE_BALANCE) },
            button(sys::V4L2_CID_AUTO_FOCUS_START),
        ]);
        assert_eq!(table.controls, vec![button(sys::V4L2_CID_AUTO_FOCUS_START)]);
    }

    #[test]
    fn manual_exposure_is_written_before_its_time() {
        let t = webcam();
        let now = t.settings(&[
            (sys::V4L2_CID_EXPOSURE_ABSOLUTE, 156),
            (sys::V4L2_CID_EXPOSURE_AUTO, EXPOSURE_APERTURE_PRIORITY),
        ]);
        let mut c = ControlConstraints::default();
        c.values[Control::ExposureTime.index()] = ConstrainRange { ideal: Some(333.0), ..Default::default() };
        c.modes[ModeControl::Exposure.index()] = ConstrainMode { exact: Some(MeteringMode::Manual), ideal: None };
        let chosen = t.capabilities().select(&c, &now, "the webcam").unwrap();
        assert_eq!(
            t.writes(&chosen),
            vec![(sys::V4L2_CID_EXPOSURE_AUTO, EXPOSURE_MANUAL), (sys::V4L2_CID_EXPOSURE_ABSOLUTE, 333)]
        );
        // The time alone turns the automatic exposure off first.
        let mut alone = ControlConstraints::default();
        alone.values[Control::ExposureTime.index()] = c.values[Control::ExposureTime.index()];
        let chosen = t.capabilities().select(&alone, &now, "the webcam").unwrap();
        assert_eq!(
            t.writes(&chosen),
            vec![(sys::V4L2_CID_EXPOSURE_AUTO, EXPOSURE_MANUAL), (sys::V4L2_CID_EXPOSURE_ABSOLUTE, 333)]
        );
        // "continuous" is aperture priority on a menu without full auto.
        c.modes[ModeControl::Exposure.index()].exact = Some(MeteringMode::Continuous);
        let chosen = t.capabilities().select(&c, &now, "the webcam").unwrap();
        assert_eq!(t.writes(&chosen)[0], (sys::V4L2_CID_EXPOSURE_AUTO, EXPOSURE_APERTURE_PRIORITY));
    }
}
