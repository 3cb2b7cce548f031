//! Devices: enumeration (the browser's `enumerateDevices`) and what the device backends share.
//! ALSA PCMs now; V4L2 nodes slot in as `VideoInput` / `VideoOutput` entries of the same list.

pub mod alsa;

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
    /// is also what the microphone source and the playback sink open.
    pub device_id: String,
    /// Human-readable ("Loopback: Loopback PCM (hw:CARD=Loopback,DEV=0)").
    pub label: String,
    /// Devices on the same physical device (ALSA card) share it ("alsa-card:Loopback").
    pub group_id: String,
}

/// Every device, in a stable order: audio inputs, audio outputs (the "default" PCM of each
/// first, then card by card, device by device). A machine with no sound card still lists
/// "default", since alsa-lib defines it whatever is installed.
pub fn enumerate() -> Result<Vec<DeviceInfo>> {
    let mut list = alsa::enumerate()?;
    list.sort_by_key(|d| match d.kind {
        DeviceKind::AudioInput => 0,
        DeviceKind::AudioOutput => 1,
        DeviceKind::VideoInput => 2,
        DeviceKind::VideoOutput => 3,
    });
    Ok(list)
}
