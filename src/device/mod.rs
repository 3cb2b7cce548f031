//! Devices: enumeration (the browser's `enumerateDevices`) and what the device backends share.
//! ALSA PCMs, and V4L2 capture and output nodes as `VideoInput` / `VideoOutput` entries of the
//! same list.

pub mod alsa;
pub mod v4l2;
pub mod watch;

use crate::error::Result;

/// `MediaDeviceKind`, plus video outputs (V4L2 output nodes, such as a virtual camera).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    AudioInput,
    AudioOutput,
    VideoInput,
    VideoOutput,
}

/// `MediaDeviceInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub kind: DeviceKind,
    /// Stable across reboots and re-plugging while the hardware is the same: for ALSA the PCM
    /// name with the card's id rather than its index ("hw:CARD=Loopback,DEV=0"), which
    /// is also what the microphone source and the playback sink open; for V4L2 "v4l2:" + the
    /// device's bus_info + ":" + the node's index within the device
    /// ("v4l2:platform:vivid-000:0"), which `v4l2::path_of` turns into the /dev path.
    pub device_id: String,
    /// Human-readable ("Loopback: Loopback PCM (hw:CARD=Loopback,DEV=0)").
    pub label: String,
    /// Devices on the same physical device (ALSA card, V4L2 device) share it
    /// ("alsa-card:Loopback", "v4l2:platform:vivid-000").
    pub group_id: String,
}

/// Every device, in a stable order: audio inputs, audio outputs (the "default" PCM of each
/// first, then card by card, device by device), then video inputs (V4L2 capture nodes) and
/// video outputs (V4L2 output nodes), each in /dev/videoN order; the process's fake devices
/// ([`crate::source::fake`]) last of their kind, in the order they were added. A machine with no sound card
/// still lists "default", since alsa-lib defines it whatever is installed; one with no
/// /dev/video* lists no video devices. V4L2 nodes that cannot be opened now (EACCES, EBUSY)
/// and nodes that are not plain capture or output (memory-to-memory codecs, metadata, VBI,
/// radio, SDR, touch) are left out. A V4L2 id names a node by its device's bus_info and its
/// index there, not its /dev path: [`v4l2::path_of`] resolves it.
pub fn enumerate() -> Result<Vec<DeviceInfo>> {
    let mut list = alsa::enumerate()?;
    list.extend(v4l2::enumerate()?);
    list.extend(crate::source::fake::listed());
    // Stable: within a kind, the backends' order stays.
    list.sort_by_key(|d| match d.kind {
        DeviceKind::AudioInput => 0,
        DeviceKind::AudioOutput => 1,
        DeviceKind::VideoInput => 2,
        DeviceKind::VideoOutput => 3,
    });
    Ok(list)
}
