//! mst.h, reacquire (libmst 1.3): a camera or microphone track that waits, muted, for its
//! device to be plugged in again instead of ending.

use std::time::Duration;

use super::track::{get, MstTrack};
use super::{ffi_call, symver, MstStatus};
use crate::source::reacquire::{set_reacquire, Reacquire};

/// mst_track_set_reacquire()'s `timeout_ms` for no time limit: the track waits for its
/// device until it is stopped.
pub const MST_REACQUIRE_FOREVER: u32 = 4_294_967_295;

/// Makes the track's device source (every track on it, clones included) reacquire the device
/// after it is unplugged or its driver unbound: the tracks stay live and muted (the mute
/// callback says so, mst_track_get_muted() is true), and when a device with the same identity
/// is back it is opened again with the camera options the track was created with and the
/// constraints last applied to one of its tracks (a camera's controls an applyConstraints set
/// are written to it again, as it comes back with its defaults; its controls, settings and
/// capabilities are then the new device's), and the tracks unmute and go on. While the device
/// is gone it is looked for when device nodes come or go (the device watcher's thread runs
/// then, with or without a device-change callback) and every 2 s besides. The identity is more
/// than the id: for a V4L2 camera its driver, card name, bus_info and USB serial number (never
/// its /dev node number); for an ALSA microphone its card's id and long name; for a fake
/// device its label and media. A device that does not match is not taken. The tracks end
/// with MST_END_REASON_DEVICE_LOST only if `timeout_ms` passes (from the loss) before the
/// device is back, or when they are stopped; `timeout_ms` MST_REACQUIRE_FOREVER waits without
/// limit, 0 turns reacquire off (the default: a lost device ends the tracks at once; turned
/// off while the device is gone, they end now). Calling it again changes the limit, counted
/// from the loss. The processors' and the capture statistics' counters go on across sessions.
///
/// Ownership: `track` borrowed.
/// Thread safety: any thread.
/// Blocking: yes: turning it on reads the device's identity (a few ioctls or an ALSA control
/// open); turning it off waits for the reacquire thread as mst_track_stop() does (a reopen in
/// progress, and the device watcher thread when the device was gone and nothing else keeps
/// the watcher running; neither on the watcher thread).
/// Errors: MST_ERR_NULL_ARG, MST_ERR_INVALID_ARG (not a track handle), MST_ERR_INVALID_STATE
/// (freed, or the track has ended), MST_ERR_UNSUPPORTED (not a camera or microphone track,
/// or the camera was opened as "default"), MST_ERR_NO_DEVICE (turning it on while the device
/// is gone), MST_ERR_NO_MEMORY (no thread).
/// Spec: libmst extension (since 1.3); the muted attribute while the device is away.
#[no_mangle]
pub extern "C" fn mst_track_set_reacquire(track: *mut MstTrack, timeout_ms: u32) -> MstStatus {
    ffi_call!({
        let track = get(track)?;
        let how = match timeout_ms {
            0 => Reacquire::Off,
            MST_REACQUIRE_FOREVER => Reacquire::Forever,
            ms => Reacquire::For(Duration::from_millis(ms.into())),
        };
        set_reacquire(&track, how)
    })
}

symver!(version "MST_1.3": mst_track_set_reacquire);
