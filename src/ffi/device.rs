//! mst.h, devices: enumeration (enumerateDevices), the ALSA microphone source, ALSA
//! playback of an audio track and V4L2 output of a video track.

use std::ffi::{c_char, CStr, CString};
use std::sync::Arc;

use super::track::{new_handle, range_in, video_constraints_in, MstConstrainRange, MstTrack, MstVideoConstraints};
use super::{ffi_call, out, MstStatus, Table};
use crate::device::{self, DeviceKind};
use crate::error::{err, Result};
use crate::sink::alsa::AudioPlayback;
use crate::sink::v4l2::{VideoOutput, VideoOutputStats};
use crate::source::alsa::{self as mic, AudioConstraints};
use crate::source::v4l2::{self as cam, CameraOptions};

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
    /// An MstDeviceKind value.
    pub kind: MstDeviceKind,
    /// Stable while the same hardware is present (for ALSA the PCM name with the card's id,
    /// "hw:CARD=Loopback,DEV=0", or "default"; for V4L2 "v4l2:", the device's bus_info, ":"
    /// and the node's index in the device, "v4l2:platform:vivid-000:0", not its /dev path).
    /// Pass an audio id to mst_track_create_microphone() or mst_audio_playback_open(), a video
    /// input's to mst_track_create_camera(). An
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

/// Lists the devices present now: audio inputs, audio outputs, then video inputs and video
/// outputs. Each audio kind starts with its "default" device (ALSA's "default" PCM, which
/// exists even with no sound card), then card by card, device by device. V4L2 nodes are
/// listed too, in /dev/videoN order: capture nodes as video inputs, output nodes as video
/// outputs (memory-to-memory, metadata, VBI, radio, SDR and touch nodes are not, nor nodes
/// that cannot be opened now). A device that vanishes while it is being listed is left out.
///
/// Ownership: the caller owns `*out` and frees it with mst_device_list_free().
/// Thread-safety: any thread. Blocking: opens each card's control device and each
/// /dev/video* node briefly (non-blocking opens).
/// Errors: MST_ERR_NULL_ARG, MST_ERR_NO_MEMORY.
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
/// Errors: MST_ERR_NULL_ARG, MST_ERR_INVALID_ARG (not a device list), MST_ERR_INVALID_STATE
/// (freed). The same errors apply to mst_device_list_get().
#[no_mangle]
pub extern "C" fn mst_device_list_count(list: *const MstDeviceList, out: *mut usize) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = DEVICE_LISTS.get(list)?.0.len();
        Ok(())
    })
}

/// Device `index` of `list`. Its strings belong to `list` and stay valid until
/// mst_device_list_free(list). Errors: MST_ERR_RANGE (index >= count).
#[no_mangle]
pub extern "C" fn mst_device_list_get(list: *const MstDeviceList, index: usize, out: *mut MstDeviceInfo) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let l = DEVICE_LISTS.get(list)?;
        let e =
            l.0.get(index)
                .ok_or_else(|| err!(Range, "device index {index} is out of range (the list has {})", l.0.len()))?;
        *out = MstDeviceInfo {
            kind: e.kind,
            device_id: e.device_id.as_ptr(),
            label: e.label.as_ptr(),
            group_id: e.group_id.as_ptr(),
        };
        Ok(())
    })
}

/// Frees the list and every string it lent. NULL is a no-op. Ownership: consumes `list`.
#[no_mangle]
pub extern "C" fn mst_device_list_free(list: *mut MstDeviceList) -> MstStatus {
    ffi_call!({
        if !list.is_null() {
            DEVICE_LISTS.remove(list)?;
        }
        Ok(())
    })
}

/// Audio constraints of mst_track_create_microphone() (all zero = none). Required members
/// (MST_CONSTRAIN_MIN/MAX/EXACT) the device cannot meet fail with MST_ERR_OVERCONSTRAINED;
/// MST_CONSTRAIN_IDEAL only steers the choice.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstAudioConstraints {
    /// Hz [48000 if the device has it, else the nearest rate].
    pub sample_rate: MstConstrainRange,
    /// [2 if the device allows it, else the nearest count]; at most 32.
    pub channel_count: MstConstrainRange,
    /// Bits per sample: 8 (u8), 16 (s16), 32 (s32 or f32) [16, else 32, else 8].
    pub sample_size: MstConstrainRange,
}

fn device_id_in(p: *const c_char, name: &str) -> Result<String> {
    if p.is_null() {
        return Ok(device::alsa::DEFAULT_DEVICE.into());
    }
    // SAFETY: non-NULL and, per the contract, a NUL-terminated string valid for the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(str::to_owned).map_err(|_| err!(InvalidArg, "`{name}` is not UTF-8"))
}

/// Opens the microphone `device_id` (an id from mst_devices_enumerate() of kind
/// MST_DEVICE_KIND_AUDIO_INPUT, or any ALSA PCM name; NULL = "default") and returns a live
/// audio track on it. The hardware parameters are negotiated from `constraints` (NULL = none):
/// interleaved s16/s32/f32/u8, ~10 ms periods. The track delivers 10 ms AudioData chunks
/// (sample_rate / 100 frames) from a library thread ("mst-alsa-capture"), timestamped in
/// microseconds of CLOCK_MONOTONIC at their first sample. Overruns are recovered and counted
/// (mst_track_get_capture_stats()). If the device goes away, every track on it ends with
/// MST_END_REASON_DEVICE_LOST within a few periods. The device is released when the last track
/// on it ends.
///
/// Ownership: `device_id` and `constraints` borrowed; the caller owns `*out`.
/// Thread-safety: any thread. Blocking: opens and configures the device.
/// Errors: MST_ERR_NULL_ARG (`out`), MST_ERR_NO_DEVICE (no such device; the message names
/// it), MST_ERR_BUSY, MST_ERR_OVERCONSTRAINED (the message names sampleRate, channelCount or
/// sampleSize and the device's range), MST_ERR_INVALID_ARG (unknown `present` bits, NaN or
/// infinite values, a non-UTF-8 id), MST_ERR_UNSUPPORTED (no sample format libmst handles),
/// MST_ERR_IO, MST_ERR_NO_MEMORY.
#[no_mangle]
pub extern "C" fn mst_track_create_microphone(
    device_id: *const c_char,
    constraints: *const MstAudioConstraints,
    out: *mut *mut MstTrack,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let id = device_id_in(device_id, "device_id")?;
        // SAFETY: NULL means none; otherwise the caller's readable struct.
        let c = unsafe { constraints.as_ref() }.copied().unwrap_or_default();
        let ac = AudioConstraints {
            sample_rate: range_in(&c.sample_rate, "sample_rate")?,
            channel_count: range_in(&c.channel_count, "channel_count")?,
            sample_size: range_in(&c.sample_size, "sample_size")?,
        };
        *out = new_handle(mic::microphone(&id, &ac)?)?;
        Ok(())
    })
}

/// Options of mst_track_create_camera() beyond the constraints (all zero = defaults).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstCameraOptions {
    /// Use only modes of this V4L2 pixel format: its fourcc as <linux/videodev2.h>'s
    /// v4l2_fourcc(a, b, c, d) makes it (a | b << 8 | c << 16 | d << 24), one of NV12, YU12,
    /// YUYV, UYVY, XR24, AR24, XB24, AB24, RGB3, BGR3, MJPG (or JPEG). 0 = any, preferring them
    /// in that order among modes equally close to the constraints.
    pub pixel_format: u32,
}

/// Opens the camera `device_id` (an id from mst_devices_enumerate() of kind
/// MST_DEVICE_KIND_VIDEO_INPUT; NULL or "default" = the first video input) and returns a live
/// video track on it. libmst enumerates the node's pixel formats, frame sizes and frame
/// intervals, picks the native mode closest to `constraints` (NULL = none; fitness distance as
/// browsers compute it; 640x480 at 30 fps breaks ties) and sets it, with 4 mmap buffers.
/// Frames are delivered from a library thread ("mst-v4l2-capture") in the WebCodecs format of
/// the V4L2 one: NV12 as NV12; YU12 as I420; YUYV and UYVY converted to I420; XR24, AR24,
/// XB24, AB24 as BGRX, BGRA, RGBX, RGBA; RGB3 and BGR3 expanded to RGBX and BGRX; MJPEG decoded
/// to I420 by libjpeg-turbo (libturbojpeg.so.0, loaded at run time: without it MJPEG modes are
/// not offered). Each frame carries the driver's CLOCK_MONOTONIC capture time (microseconds)
/// as its timestamp and the V4L2 sequence number as MstVideoFrameInfo.capture_sequence. Every
/// buffer is copied out and requeued at once, so a consumer that holds frames never stalls
/// capture. The track's capabilities are the native mode; its constraints are `constraints`,
/// so what the mode does not meet (a smaller size, another aspect ratio, a lower rate) the
/// track's crop-and-scale and decimation serve. If the device goes away, every track on it
/// ends with MST_END_REASON_DEVICE_LOST within about one frame. The device is released when
/// the last track on it ends.
///
/// Ownership: `device_id`, `constraints` and `options` (NULL = defaults) borrowed; the caller
/// owns `*out`.
/// Thread-safety: any thread. Blocking: opens, configures and starts the device (the driver's
/// buffers are allocated before it returns).
/// Errors: MST_ERR_NULL_ARG (`out`), MST_ERR_NO_DEVICE (no such camera, or none; the message
/// names it), MST_ERR_BUSY (another process streams from it), MST_ERR_OVERCONSTRAINED (the
/// message names width, height, aspectRatio or frameRate and lists the device's modes),
/// MST_ERR_INVALID_ARG (unknown `present` bits or resize_mode, NaN or infinite values, a
/// non-UTF-8 id, a pixel_format libmst does not know), MST_ERR_UNSUPPORTED (a multi-planar-only
/// node; no mode in a format libmst handles, or in `pixel_format`; MJPEG without
/// libturbojpeg.so.0, the message says which package), MST_ERR_IO, MST_ERR_NO_MEMORY.
#[no_mangle]
pub extern "C" fn mst_track_create_camera(
    device_id: *const c_char,
    constraints: *const MstVideoConstraints,
    options: *const MstCameraOptions,
    out: *mut *mut MstTrack,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let id = if device_id.is_null() { "default".to_string() } else { device_id_in(device_id, "device_id")? };
        // SAFETY: NULL means none; otherwise the caller's readable struct.
        let c = unsafe { constraints.as_ref() }.copied().unwrap_or_default();
        let vc = video_constraints_in(&c)?;
        // SAFETY: as above.
        let o = unsafe { options.as_ref() }.copied().unwrap_or_default();
        let format = match o.pixel_format {
            0 => None,
            f => Some(cam::CameraFormat::from_fourcc_bytes(f.to_le_bytes()).ok_or_else(|| {
                err!(
                    InvalidArg,
                    "options.pixel_format {:#010x} ({:?}) is not a pixel format libmst captures",
                    f,
                    String::from_utf8_lossy(&f.to_le_bytes())
                )
            })?),
        };
        *out = new_handle(cam::camera(&id, &vc, &CameraOptions { format })?)?;
        Ok(())
    })
}

/// What a camera source has captured.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstCameraStats {
    /// Frames delivered.
    pub frames: u64,
    /// Frames lost: gaps in the driver's sequence numbers (the driver had no free buffer),
    /// plus buffers the driver flagged as erroneous, short ones and undecodable MJPEG.
    pub dropped: u64,
    /// Frames whose sequence number did not increase (0 on a sane driver).
    pub out_of_order: u64,
    /// The V4L2 sequence number of the last frame delivered.
    pub last_sequence: u32,
}

/// The capture counters of the camera source behind `track` (shared by its clones).
/// Ownership: `track` borrowed. Thread-safety: any thread.
/// Errors: MST_ERR_NULL_ARG, MST_ERR_INVALID_ARG (not a track handle), MST_ERR_INVALID_STATE
/// (freed), MST_ERR_TYPE (the track is not on a camera).
#[no_mangle]
pub extern "C" fn mst_track_get_camera_stats(track: *const MstTrack, out: *mut MstCameraStats) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let t = super::track::get(track)?;
        let s = cam::camera_stats(&t).ok_or_else(|| err!(Type, "the track is not on a camera"))?;
        *out = MstCameraStats {
            frames: s.frames,
            dropped: s.dropped,
            out_of_order: s.out_of_order,
            last_sequence: s.last_sequence,
        };
        Ok(())
    })
}

/// What a microphone source has captured.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstCaptureStats {
    /// AudioData chunks delivered.
    pub chunks: u64,
    /// Sample frames delivered.
    pub frames: u64,
    /// Overruns: audio was lost because capture fell behind the device, and capture restarted.
    pub overruns: u64,
}

/// The capture counters of the microphone source behind `track` (shared by its clones).
/// Errors: MST_ERR_NULL_ARG, MST_ERR_INVALID_ARG (not a track handle), MST_ERR_INVALID_STATE
/// (freed), MST_ERR_TYPE (the track is not on a microphone).
#[no_mangle]
pub extern "C" fn mst_track_get_capture_stats(track: *const MstTrack, out: *mut MstCaptureStats) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let t = super::track::get(track)?;
        let s = mic::capture_stats(&t).ok_or_else(|| err!(Type, "the track is not on a microphone"))?;
        *out = MstCaptureStats { chunks: s.chunks, frames: s.frames, overruns: s.overruns };
        Ok(())
    })
}

/// ALSA playback of an audio track. Opaque handle.
pub struct MstAudioPlayback {
    _opaque: [u8; 0],
}

static PLAYBACKS: Table<Arc<std::sync::Mutex<Option<AudioPlayback>>>> = Table::new(0x41, "MstAudioPlayback");

/// What a playback has done.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstAudioPlaybackStats {
    /// Sample frames written to the device.
    pub frames_played: u64,
    /// Underruns recovered: the device ran out of audio and was restarted.
    pub underruns: u64,
    /// Chunks its queue discarded because the device took them slower than they came.
    pub chunks_dropped: u64,
    /// Chunks not played because the device cannot take their rate or channel count.
    pub chunks_rejected: u64,
}

/// Plays `track` (an audio track) on the ALSA output `device_id` (an id of kind
/// MST_DEVICE_KIND_AUDIO_OUTPUT, or any ALSA PCM name; NULL = "default") from a library
/// thread ("mst-alsa-playback") fed by the playback's own processor (1 s of 10 ms chunks), so
/// the track's source never waits for the device. The device is configured from the first
/// chunk: its rate and channel count, its sample format if the device has it (else s16, s32,
/// f32 or u8; planar data is interleaved); a chunk of another rate or channel count
/// reconfigures it. A "hw:" device plays only rates it has natively: use "plughw:" or
/// "default" to resample. Underruns are recovered and counted. When the track ends, what is
/// queued is played out (at most 2 s are waited for) and the device is closed; otherwise it
/// closes at mst_audio_playback_close().
///
/// Ownership: `track` and `device_id` borrowed; the caller owns `*out` and releases it with
/// mst_audio_playback_close(). Thread-safety: any thread.
/// Errors: MST_ERR_NULL_ARG (`out`), MST_ERR_TYPE (a video track), MST_ERR_INVALID_STATE
/// (freed track), MST_ERR_NO_DEVICE (the message names the id), MST_ERR_BUSY, MST_ERR_IO,
/// MST_ERR_NO_MEMORY.
#[no_mangle]
pub extern "C" fn mst_audio_playback_open(
    track: *const MstTrack,
    device_id: *const c_char,
    out: *mut *mut MstAudioPlayback,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let t = super::track::get(track)?;
        let id = device_id_in(device_id, "device_id")?;
        let p = AudioPlayback::open(&t, &id)?;
        *out = PLAYBACKS.insert(Arc::new(std::sync::Mutex::new(Some(p))))?;
        Ok(())
    })
}

/// The playback's counters so far. Thread-safety: any thread.
/// Errors: MST_ERR_NULL_ARG, MST_ERR_INVALID_ARG (not a playback), MST_ERR_INVALID_STATE
/// (closed).
#[no_mangle]
pub extern "C" fn mst_audio_playback_get_stats(
    playback: *const MstAudioPlayback,
    out: *mut MstAudioPlaybackStats,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let entry = PLAYBACKS.get(playback)?;
        let guard = entry.lock().unwrap_or_else(|p| p.into_inner());
        let p = guard.as_ref().ok_or_else(|| err!(InvalidState, "the playback is being closed"))?;
        let s = p.stats();
        *out = MstAudioPlaybackStats {
            frames_played: s.frames_played,
            underruns: s.underruns,
            chunks_dropped: s.chunks_dropped,
            chunks_rejected: s.chunks_rejected,
        };
        Ok(())
    })
}

/// Ends playback, closes the device and releases the handle. If the track has ended, what it
/// delivered is played out first; if it is still live, playback stops at once and what is
/// queued is not played. `out_stats` (may be NULL) gets the final counters.
///
/// Ownership: consumes `playback` on every outcome but MST_ERR_NULL_ARG / MST_ERR_INVALID_ARG
/// / MST_ERR_INVALID_STATE. Blocking: a live track: until the playback thread has finished
/// its current write (about one period); an ended one: until the queue (at most 1 s of audio)
/// has played and the device drained (at most 2 s more). Errors: MST_ERR_NO_DEVICE (the device went away during
/// playback, which then stopped), MST_ERR_IO (a write failed), MST_ERR_INVALID_STATE
/// (already closed).
#[no_mangle]
pub extern "C" fn mst_audio_playback_close(
    playback: *mut MstAudioPlayback,
    out_stats: *mut MstAudioPlaybackStats,
) -> MstStatus {
    ffi_call!({
        if playback.is_null() {
            return Err(err!(NullArg, "`playback` is NULL"));
        }
        let entry = PLAYBACKS.remove(playback)?;
        let p = entry.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(p) = p else { return Err(err!(InvalidState, "the playback was already closed")) };
        // The counters before closing stand in when playback had stopped with an error.
        let before = p.stats();
        let closed = p.close();
        let stats = closed.as_ref().map_or(before, |s| *s);
        // SAFETY: NULL means "not wanted"; otherwise the caller's writable struct.
        if let Some(o) = unsafe { out_stats.as_mut() } {
            *o = MstAudioPlaybackStats {
                frames_played: stats.frames_played,
                underruns: stats.underruns,
                chunks_dropped: stats.chunks_dropped,
                chunks_rejected: stats.chunks_rejected,
            };
        }
        closed.map(|_| ())
    })
}

/// V4L2 output of a video track (a virtual camera). Opaque handle.
pub struct MstVideoOutput {
    _opaque: [u8; 0],
}

static VIDEO_OUTPUTS: Table<Arc<std::sync::Mutex<Option<VideoOutput>>>> = Table::new(0x56, "MstVideoOutput");

/// What a video output has done.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstVideoOutputStats {
    /// Frames queued to the device.
    pub frames_written: u64,
    /// Frames not written: discarded by the output's queue because the device took frames
    /// slower than the track delivered them, or not convertible to the negotiated format.
    pub frames_dropped: u64,
    /// The negotiated size; 0 before the first frame.
    pub width: u32,
    pub height: u32,
    /// The negotiated V4L2 pixel format as a little-endian fourcc ('Y','U','1','2' or
    /// 'N','V','1','2'); 0 before the first frame.
    pub fourcc: u32,
    /// MST_OK while the output runs or after it stopped normally; otherwise why it stopped
    /// early: MST_ERR_NO_DEVICE (the node went away), MST_ERR_IO, MST_ERR_UNSUPPORTED (the
    /// node takes neither YU12 nor NV12 at the frame's size).
    pub status: MstStatus,
}

fn video_output_stats_out(s: &VideoOutputStats) -> MstVideoOutputStats {
    MstVideoOutputStats {
        frames_written: s.frames_written,
        frames_dropped: s.frames_dropped,
        width: s.width,
        height: s.height,
        fourcc: s.fourcc,
        status: s.error.map_or(MstStatus::MST_OK, MstStatus::from_kind),
    }
}

/// Writes `track` (a video track) to the V4L2 output node `device_id` (an id of kind
/// MST_DEVICE_KIND_VIDEO_OUTPUT; NULL = "default", the first output node) from a library
/// thread ("mst-v4l2-output") fed by the output's own processor (4 frames), so the track's
/// source never waits for the device. The node's format is set from the first frame: I420 is
/// written as YU12, NV12 as NV12, any other format converted to I420 (YU12); the size is the
/// frame's visible size rounded down to even (an odd last column or row is cropped). Later
/// frames of another size are scaled to it. The frame interval is set from the first frame's
/// duration where the driver allows it. mmap streaming with 4 buffers; a device slower than
/// the track makes the queue drop the oldest frames (counted). When the track ends, what is
/// queued is written and shown (at most 2 s are waited for) and streaming stops; otherwise it
/// stops at mst_video_output_close(). Selecting the node's output (VIDIOC_S_OUTPUT) is left
/// to the caller.
///
/// Ownership: `track` and `device_id` borrowed; the caller owns `*out` and releases it with
/// mst_video_output_close(). Thread-safety: any thread.
/// Errors: MST_ERR_NULL_ARG (`out`), MST_ERR_TYPE (an audio track), MST_ERR_INVALID_STATE
/// (freed track), MST_ERR_NO_DEVICE (the message names the id), MST_ERR_BUSY,
/// MST_ERR_UNSUPPORTED (not a single-planar streaming output node), MST_ERR_IO,
/// MST_ERR_NO_MEMORY.
#[no_mangle]
pub extern "C" fn mst_video_output_open(
    track: *const MstTrack,
    device_id: *const c_char,
    out: *mut *mut MstVideoOutput,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let t = super::track::get(track)?;
        let id = device_id_in(device_id, "device_id")?;
        let o = VideoOutput::open(&t, &id)?;
        *out = VIDEO_OUTPUTS.insert(Arc::new(std::sync::Mutex::new(Some(o))))?;
        Ok(())
    })
}

/// The output's counters so far; `status` tells whether it stopped with an error (the node
/// went away: MST_ERR_NO_DEVICE). Thread-safety: any thread.
/// Errors: MST_ERR_NULL_ARG, MST_ERR_INVALID_ARG (not a video output), MST_ERR_INVALID_STATE
/// (closed).
#[no_mangle]
pub extern "C" fn mst_video_output_get_stats(
    output: *const MstVideoOutput,
    out: *mut MstVideoOutputStats,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let entry = VIDEO_OUTPUTS.get(output)?;
        let guard = entry.lock().unwrap_or_else(|p| p.into_inner());
        let o = guard.as_ref().ok_or_else(|| err!(InvalidState, "the video output is being closed"))?;
        *out = video_output_stats_out(&o.stats());
        Ok(())
    })
}

/// Ends the output, stops streaming, closes the node and releases the handle. If the track
/// has ended, what it delivered is written and shown first; if it is still live, output
/// stops at once and what is queued is not written. `out_stats` (may be NULL) gets the final
/// counters.
///
/// Ownership: consumes `output` on every outcome but MST_ERR_NULL_ARG / MST_ERR_INVALID_ARG /
/// MST_ERR_INVALID_STATE. Blocking: a live track: until the output thread has finished its
/// current frame (at most about one frame period of the device); an ended one: until the
/// queue (at most 4 frames) is written and the driver has taken it (at most 2 s more).
/// Errors: MST_ERR_NO_DEVICE (the node went away while streaming, which then stopped),
/// MST_ERR_IO (an ioctl failed), MST_ERR_UNSUPPORTED (the node took no format libmst can
/// write), MST_ERR_INVALID_STATE (already closed).
#[no_mangle]
pub extern "C" fn mst_video_output_close(
    output: *mut MstVideoOutput,
    out_stats: *mut MstVideoOutputStats,
) -> MstStatus {
    ffi_call!({
        if output.is_null() {
            return Err(err!(NullArg, "`output` is NULL"));
        }
        let entry = VIDEO_OUTPUTS.remove(output)?;
        let o = entry.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(o) = o else { return Err(err!(InvalidState, "the video output was already closed")) };
        // The counters before closing stand in when output had stopped with an error.
        let before = o.stats();
        let closed = o.close();
        let stats = closed.as_ref().map_or(before, |s| *s);
        // SAFETY: NULL means "not wanted"; otherwise the caller's writable struct.
        if let Some(o) = unsafe { out_stats.as_mut() } {
            *o = video_output_stats_out(&stats);
        }
        closed.map(|_| ())
    })
}
