//! mst.h, devices: enumeration (enumerateDevices), and the device id argument every device
//! section takes.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::support::utf8;
use super::{ffi_call, opt_c_str, out, sized_struct, symver, MstDestroyNotify, MstStatus, OutStruct, Table, UserData};
use crate::device::{self, DeviceKind};
use crate::error::{err, Result};

/// `MediaDeviceKind`, plus video outputs. Values are fixed and only ever appended.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstDeviceKind {
    /// A microphone: an ALSA PCM with a capture stream.
    MST_DEVICE_KIND_AUDIO_INPUT = 1,
    /// A speaker: an ALSA PCM with a playback stream.
    MST_DEVICE_KIND_AUDIO_OUTPUT = 2,
    /// A camera: a V4L2 capture node.
    MST_DEVICE_KIND_VIDEO_INPUT = 3,
    /// A V4L2 output node, such as a virtual camera.
    MST_DEVICE_KIND_VIDEO_OUTPUT = 4,
}

/// A snapshot of the devices present when mst_devices_enumerate() ran. Opaque handle.
pub struct MstDeviceList {
    _opaque: [u8; 0],
}

/// One device (`MediaDeviceInfo`). The strings are borrowed from the list: valid until
/// mst_device_list_free(), never NULL, UTF-8.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstDeviceInfo {
    /// sizeof(MstDeviceInfo) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// An MstDeviceKind value.
    pub kind: MstDeviceKind,
    /// Stable while the same hardware is present (for ALSA the PCM name with the card's id,
    /// "hw:CARD=Loopback,DEV=0", or "default"; for V4L2 "v4l2:", the device's bus_info, ":"
    /// and the node's index in the device, "v4l2:platform:vivid-000:0", not its /dev path).
    /// Pass an audio id to mst_track_create_microphone() or mst_audio_playback_open(), a video
    /// input's to mst_track_create_camera(), a video output's to mst_video_output_open(). An
    /// input and an output may share an id: the kind tells them apart.
    pub device_id: *const c_char,
    /// Human-readable, for a menu.
    pub label: *const c_char,
    /// Devices on the same physical device (sound card, V4L2 device) have the same group id.
    pub group_id: *const c_char,
}

struct Entry {
    kind: MstDeviceKind,
    device_id: CString,
    label: CString,
    group_id: CString,
}

struct List(Vec<Entry>);

static DEVICE_LISTS: Table<Arc<List>> = Table::new(0x44, "MstDeviceList");

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("NULs replaced")
}

fn kind_out(k: DeviceKind) -> MstDeviceKind {
    match k {
        DeviceKind::AudioInput => MstDeviceKind::MST_DEVICE_KIND_AUDIO_INPUT,
        DeviceKind::AudioOutput => MstDeviceKind::MST_DEVICE_KIND_AUDIO_OUTPUT,
        DeviceKind::VideoInput => MstDeviceKind::MST_DEVICE_KIND_VIDEO_INPUT,
        DeviceKind::VideoOutput => MstDeviceKind::MST_DEVICE_KIND_VIDEO_OUTPUT,
    }
}

/// A device id argument: NULL is "default" (every device section's default device).
pub(crate) fn device_id_in(p: *const c_char) -> Result<String> {
    match opt_c_str!(p) {
        None => Ok(device::alsa::DEFAULT_DEVICE.into()),
        Some(s) => Ok(utf8(s, "device_id")?.to_owned()),
    }
}

/// Lists the devices present now: audio inputs, audio outputs, then video inputs and video
/// outputs. Each audio kind starts with its "default" device (ALSA's "default" PCM, which
/// exists even with no sound card), then card by card, device by device. V4L2 nodes are
/// listed too, in /dev/videoN order: capture nodes as video inputs, output nodes as video
/// outputs (memory-to-memory, metadata, VBI, radio, SDR and touch nodes are not, nor nodes
/// that cannot be opened now). The process's fake devices (mst_fake_device_add()) come last
/// of their kind. A device that vanishes while it is being listed is left out.
///
/// Ownership: on MST_OK the caller owns `*out` and releases it with mst_device_list_free().
/// Thread safety: any thread.
/// Blocking: opens each sound card's control device and each /dev/video* node briefly
/// (non-blocking opens).
/// Errors: MST_ERR_NULL_ARG (`out` is NULL), MST_ERR_NO_MEMORY (no handle left).
/// Spec: MediaDevices.enumerateDevices() (Media Capture and Streams).
#[no_mangle]
pub extern "C" fn mst_devices_enumerate(out: *mut *mut MstDeviceList) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let list = device::enumerate()?
            .into_iter()
            .map(|d| Entry {
                kind: kind_out(d.kind),
                device_id: c_string(&d.device_id),
                label: c_string(&d.label),
                group_id: c_string(&d.group_id),
            })
            .collect();
        *out = DEVICE_LISTS.insert(Arc::new(List(list)))?;
        Ok(())
    })
}

/// The number of devices in `list`.
///
/// Ownership: `list` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`list` or `out` is NULL), MST_ERR_INVALID_ARG (not a device
/// list), MST_ERR_INVALID_STATE (freed).
/// Spec: the length of enumerateDevices()'s result.
#[no_mangle]
pub extern "C" fn mst_device_list_get_count(list: *const MstDeviceList, out: *mut usize) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = DEVICE_LISTS.get(list)?.0.len();
        Ok(())
    })
}

/// Device `index` of `list`.
///
/// Ownership: `list` borrowed; the strings in `*out` belong to `list` and stay valid until
/// mst_device_list_free(list). `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`list` or `out` is NULL), MST_ERR_INVALID_ARG (not a device
/// list, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (freed),
/// MST_ERR_RANGE (index >= count).
/// Spec: MediaDeviceInfo (deviceId, kind, label, groupId).
#[no_mangle]
pub extern "C" fn mst_device_list_get_device(
    list: *const MstDeviceList,
    index: usize,
    out: *mut MstDeviceInfo,
) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let l = DEVICE_LISTS.get(list)?;
        let e =
            l.0.get(index)
                .ok_or_else(|| err!(Range, "device index {index} is out of range (the list has {})", l.0.len()))?;
        out.write(MstDeviceInfo {
            struct_size: 0,
            kind: e.kind,
            device_id: e.device_id.as_ptr(),
            label: e.label.as_ptr(),
            group_id: e.group_id.as_ptr(),
        });
        Ok(())
    })
}

/// Releases the list and every string it lent. NULL is MST_OK.
///
/// Ownership: releases `list`; it and its strings must not be used again.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_INVALID_ARG (not a device list), MST_ERR_INVALID_STATE (already freed).
/// Spec: libmst extension (releases the C handle).
#[no_mangle]
pub extern "C" fn mst_device_list_free(list: *mut MstDeviceList) -> MstStatus {
    ffi_call!({ DEVICE_LISTS.free(list) })
}

sized_struct!(out MstDeviceInfo = 32);

symver!(mst_devices_enumerate, mst_device_list_get_count, mst_device_list_get_device, mst_device_list_free);

/// Called when the set of devices mst_devices_enumerate() lists has changed: a camera, sound
/// card or fake device arrived or left. It says nothing about what changed: enumerate again.
pub type MstDeviceChangeCallback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Calls `callback` (NULL: no callback, the default) each time the set of devices
/// mst_devices_enumerate() lists changes (the spec's `devicechange` event): a V4L2 node or an
/// ALSA card appears or goes, or a fake device is added, unplugged or freed. A watcher thread,
/// running while a callback is set, wakes on inotify events on /dev and /dev/snd, waits until
/// a burst of them has been quiet for 100 ms (at most 1 s), enumerates, and calls the callback
/// only when the list differs from the one it saw last (a device that comes and goes within
/// one burst is no change). Only what the list shows counts: a V4L2 device whose node stays
/// while its formats, controls or signal change, ALSA subdevices, and ALSA configuration PCMs
/// other than "default" are never reported. The callback runs on that thread, one call at a
/// time, with no libmst lock held; it may call libmst, this function included. Changes made
/// before this returns are not reported to the new callback, changes made after are.
///
/// Ownership: libmst keeps `callback` and `user_data` until replaced or removed; `destroy` (may
/// be NULL) is called once with `user_data`: when the callback is replaced or removed, before
/// that call returns (on the replacing thread), or, when replaced from inside the callback,
/// on the watcher thread as the callback returns; at once when `callback` is NULL or the call
/// fails.
/// Thread safety: any thread, also from inside the callback. When it returns, the previous
/// callback is not running on any other thread and is never called again (from inside the
/// callback, the running call is the caller's own and goes on until it returns).
/// Blocking: yes: waits for a call of the previous callback to return; the first time, for
/// the watcher's first enumeration; with NULL, for the watcher thread to end (unless called
/// from inside the callback, or a reacquiring track still needs the watcher). No libmst lock
/// is held meanwhile: the log callback may call libmst, this function included. Do not call
/// it holding a lock the callback or the log callback takes.
/// Errors: MST_ERR_IO (the watcher thread or its eventfd could not be made; nothing changes).
/// Spec: MediaDevices `devicechange` event (libmst extension, since 1.3).
#[no_mangle]
pub extern "C" fn mst_set_device_change_callback(
    callback: MstDeviceChangeCallback,
    user_data: *mut c_void,
    destroy: MstDestroyNotify,
) -> MstStatus {
    ffi_call!({
        let data = UserData::new(user_data, destroy);
        let receiver = callback.map(|f| -> Arc<device::watch::Callback> {
            Arc::new(move || {
                // SAFETY: the caller registered `f` to be called with this user_data.
                unsafe { f(data.ptr()) }
            })
        });
        drop(device::watch::set_callback(receiver)?);
        Ok(())
    })
}

symver!(version "MST_1.3": mst_set_device_change_callback);
