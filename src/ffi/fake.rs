//! mst.h, fake devices: a camera and a microphone with scripted faults, listed and opened as
//! real ones, for testing what an application (or libmst) does when devices misbehave.

use std::ffi::c_char;
use std::sync::Arc;

use super::device::MstDeviceKind;
use super::frame::audio_format_in;
use super::support::{read_in_required, utf8, InStruct};
use super::{bytes, ffi_call, opt_c_str, out, sized_struct, symver, MstStatus, Table};
use crate::error::{err, Result};
use crate::frame::AudioSampleFormat;
use crate::source::fake::{
    FakeAudio, FakeDevice, FakeInit, FakeMedia, FakeVideo, Fault, FaultKind, MjpegDamage, Pacing,
};
use crate::source::v4l2::CameraFormat;

/// A fake device in the device list. Opaque handle.
pub struct MstFakeDevice {
    _opaque: [u8; 0],
}

/// What a fault does (MstFault.kind). Values are fixed and only ever appended.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstFaultKind {
    /// The device goes away before frame `at`: its tracks end with MST_END_REASON_DEVICE_LOST,
    /// it leaves the device list and cannot be opened again (mst_fake_device_free() still
    /// releases the handle).
    MST_FAULT_UNPLUG = 1,
    /// `value` frames from `at` on are lost, as a driver with no free buffer loses them: a
    /// camera counts them in MstCameraStats.dropped (the gap in capture_sequence), a
    /// microphone counts one overrun in MstCaptureStats.overruns and its timestamps restart
    /// from the device's clock.
    MST_FAULT_OVERRUN = 2,
    /// From frame `at` on, a camera sends `width` x `height` in `pixel_format` (a fourcc as in
    /// MstCameraOptions; 0 = unchanged), a microphone captures `sample_rate` Hz and `channels`
    /// channels (0 = unchanged). The track's settings follow the frames.
    MST_FAULT_FORMAT_CHANGE = 3,
    /// Before frame `at`, nothing for `value` microseconds (at most an hour): a real wait, and
    /// the device's clock moves on by as much (a camera's next timestamp shows the gap; a
    /// microphone's timestamps count samples, as ALSA's do, and do not).
    MST_FAULT_STALL = 4,
    /// Reading frame `at` fails with errno `value` (positive), taking the real device's error
    /// path: for a camera (V4L2) ENODEV, EINVAL, EIO, EPIPE and ENXIO end the tracks with
    /// MST_END_REASON_DEVICE_LOST and any other errno with MST_END_REASON_ERROR; for a
    /// microphone (ALSA) EAGAIN and EINTR are retried (nothing lost), EPIPE is an overrun and
    /// ESTRPIPE a suspend (that chunk lost, capture goes on), ENODEV, EBADFD, ENXIO and
    /// ESHUTDOWN end with MST_END_REASON_DEVICE_LOST, and any other with MST_END_REASON_ERROR.
    MST_FAULT_READ_ERROR = 5,
    /// The device's clock jumps by `value` microseconds (negative: backwards) before frame
    /// `at`. A camera's timestamps stay strictly increasing (a frame that would go back gets
    /// the previous timestamp + 1); a microphone takes its clock again, as after an overrun,
    /// never going back before the end of the previous chunk.
    MST_FAULT_TIMESTAMP_JUMP = 6,
    /// Frames `at` .. `at` + `value` - 1 of an MJPEG camera are damaged as `damage` (an
    /// MstMjpegDamage) says.
    MST_FAULT_DAMAGED_MJPEG = 7,
}

/// How MST_FAULT_DAMAGED_MJPEG damages a JPEG (MstFault.damage). Values are fixed and only
/// ever appended.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstMjpegDamage {
    /// Cut in the middle of its entropy-coded data (the EOI goes with it).
    MST_MJPEG_DAMAGE_TRUNCATED = 1,
    /// Its entropy-coded data replaced by bytes that are no valid Huffman code.
    MST_MJPEG_DAMAGE_BAD_HUFFMAN = 2,
    /// The final EOI marker removed.
    MST_MJPEG_DAMAGE_MISSING_EOI = 3,
    /// 8 junk bytes (no marker) inserted before the EOI.
    MST_MJPEG_DAMAGE_JUNK_BEFORE_EOI = 4,
    /// No bytes at all (an empty buffer).
    MST_MJPEG_DAMAGE_ZERO_LENGTH = 5,
}

/// How a fake device paces its frames (MstFakeDeviceInit.pacing). Values are fixed and only
/// ever appended.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstFakePacing {
    /// The default: as fast as the slowest reader takes frames, losing none. Before each
    /// frame the device waits until a processor or sink is connected and every connected one
    /// has room in its queue. Timestamps are on a virtual clock (frame n at n periods, moved
    /// only by faults): what is delivered does not depend on time or load.
    MST_FAKE_PACING_LOSSLESS = 0,
    /// As fast as it can, waiting only for the first processor or sink: a full queue drops
    /// its oldest frame (counted in discarded_queue_full) as with a real device. Virtual
    /// timestamps. With a reader that does not read, what is queued and discarded is
    /// deterministic.
    MST_FAKE_PACING_FREE = 1,
    /// At the frame rate in real time, timestamps from CLOCK_MONOTONIC, as a real device.
    MST_FAKE_PACING_REAL_TIME = 2,
}

/// One scripted fault (all zero but struct_size and kind = the kind's defaults).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstFault {
    /// sizeof(MstFault) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// An MstFaultKind value.
    pub kind: i32,
    /// The frame (camera) or chunk (microphone: an AudioData of sample_rate / 100 frames) it
    /// hits: the device's n-th, counting those an overrun lost, as in capture_sequence. For
    /// mst_fake_device_inject(), an index already past hits the next frame.
    pub at: u64,
    /// By kind: frames lost (OVERRUN, [1]), microseconds (STALL, TIMESTAMP_JUMP), an errno
    /// (READ_ERROR), frames damaged (DAMAGED_MJPEG, [1]).
    pub value: i64,
    /// FORMAT_CHANGE of a camera: the new size and V4L2 fourcc (0 = unchanged).
    pub width: u32,
    pub height: u32,
    pub pixel_format: u32,
    /// FORMAT_CHANGE of a microphone: the new rate and channel count (0 = unchanged).
    pub sample_rate: u32,
    pub channels: u32,
    /// DAMAGED_MJPEG: an MstMjpegDamage value.
    pub damage: i32,
}

/// A fake device to add (all zero but struct_size, kind and name = the defaults in brackets).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstFakeDeviceInit {
    /// sizeof(MstFakeDeviceInit) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// An MstDeviceKind value: MST_DEVICE_KIND_VIDEO_INPUT (a camera) or
    /// MST_DEVICE_KIND_AUDIO_INPUT (a microphone).
    pub kind: i32,
    /// Required, UTF-8: the device id is "fake:" followed by it, unique among the process's
    /// fake devices until mst_fake_device_free().
    pub name: *const c_char,
    /// UTF-8 [NULL: "Fake camera NAME" / "Fake microphone NAME"].
    pub label: *const c_char,
    /// Camera: [640] x [480], width 8..=16384 (the frame index needs 8 samples), even for
    /// the YUV formats.
    pub width: u32,
    pub height: u32,
    /// Camera: a V4L2 fourcc as in MstCameraOptions [YUYV]. MJPG needs `mjpeg_frames`.
    pub pixel_format: u32,
    /// Camera: bytes between the rows of the first plane, as a driver's bytesperline pads
    /// them (NV12's chroma rows as many, YU12's half) [0: tightly packed]; at least a row.
    /// For the initial format only: a FORMAT_CHANGE packs rows tightly.
    pub bytes_per_line: u32,
    /// Camera: frames per second, 0.001..=1000 [30].
    pub frame_rate: f64,
    /// Microphone: [48000] Hz (100..=768000), [1] channel (up to 32), an interleaved
    /// MstAudioSampleFormat [S16].
    pub sample_rate: u32,
    pub channels: u32,
    pub sample_format: i32,
    /// An MstFakePacing value [MST_FAKE_PACING_LOSSLESS].
    pub pacing: i32,
    /// After this many frames or chunks (those an overrun lost included) the device sends
    /// nothing more; its tracks stay live [0: no end].
    pub frame_count: u64,
    /// `num_faults` faults, each MST_STRUCT_INIT'd, all of one struct_size; copied.
    pub faults: *const MstFault,
    pub num_faults: usize,
    /// MJPG camera: `num_mjpeg_frames` JPEGs of width x height (`mjpeg_frames[i]`,
    /// `mjpeg_sizes[i]` bytes), copied; frame n sends JPEG n modulo their count.
    pub mjpeg_frames: *const *const u8,
    pub mjpeg_sizes: *const usize,
    pub num_mjpeg_frames: usize,
}

static FAKE_DEVICES: Table<Arc<FakeDevice>> = Table::new(0x46, "MstFakeDevice");

fn or<T: PartialEq + Default>(v: T, default: T) -> T {
    if v == T::default() {
        default
    } else {
        v
    }
}

fn fourcc_in(f: u32, what: &str) -> Result<CameraFormat> {
    CameraFormat::from_fourcc_bytes(f.to_le_bytes()).ok_or_else(|| {
        err!(
            InvalidArg,
            "{what} {f:#010x} ({:?}) is not a pixel format libmst captures",
            String::from_utf8_lossy(&f.to_le_bytes())
        )
    })
}

/// The `n` size-prefixed structs at `p`, each as long as the first says.
fn read_array<T: InStruct>(p: *const T, n: usize, name: &'static str) -> Result<Vec<T>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(err!(NullArg, "`{name}` is NULL and its count is {n}"));
    }
    // SAFETY: non-NULL and, per the contract, an array of `n` structs whose first starts with
    // its struct_size.
    let stride = unsafe { p.cast::<u32>().read() } as usize;
    (0..n)
        .map(|i| {
            let at = stride.checked_mul(i).filter(|b| *b <= isize::MAX as usize);
            let at = at.ok_or_else(|| err!(InvalidArg, "`{name}` is too long"))?;
            // SAFETY: within the caller's array of `n` structs of `stride` bytes.
            read_in_required(unsafe { p.cast::<u8>().add(at).cast::<T>() }, name)
        })
        .collect()
}

fn fault_in(f: &MstFault, video: bool) -> Result<Fault> {
    let kind = match f.kind {
        1 => FaultKind::Unplug,
        2 => FaultKind::Overrun {
            count: u64::try_from(or(f.value, 1)).map_err(|_| err!(InvalidArg, "an OVERRUN of {} frames", f.value))?,
        },
        3 if video => FaultKind::VideoFormat { width: f.width, height: f.height, format: CameraFormat::Yuyv },
        3 => FaultKind::AudioFormat { sample_rate: f.sample_rate, channels: f.channels },
        4 => {
            FaultKind::Stall { us: u64::try_from(f.value).map_err(|_| err!(InvalidArg, "a STALL of {} us", f.value))? }
        }
        5 => FaultKind::ReadError { errno: i32::try_from(f.value).unwrap_or(-1) },
        6 => FaultKind::TimestampJump { us: f.value },
        7 => FaultKind::DamagedMjpeg {
            count: u64::try_from(or(f.value, 1)).map_err(|_| err!(InvalidArg, "{} damaged frames", f.value))?,
            damage: match f.damage {
                1 => MjpegDamage::Truncated,
                2 => MjpegDamage::BadHuffman,
                3 => MjpegDamage::MissingEoi,
                4 => MjpegDamage::JunkBeforeEoi,
                5 => MjpegDamage::ZeroLength,
                d => return Err(err!(InvalidArg, "damage {d} is not an MstMjpegDamage (1..=5)")),
            },
        },
        k => return Err(err!(InvalidArg, "kind {k} is not an MstFaultKind (1..=7)")),
    };
    Ok(Fault { at: f.at, kind })
}

/// Fills in what a FORMAT_CHANGE leaves unchanged (0), from the format before it.
fn resolve_format_changes(faults: &mut [Fault], raw: &[MstFault], media: &FakeMedia) -> Result<()> {
    let mut order: Vec<usize> = (0..faults.len()).collect();
    order.sort_by_key(|&i| faults[i].at);
    let (mut w, mut h, mut fmt, mut rate, mut ch) = match media {
        FakeMedia::Video(v) => (v.width, v.height, v.format, 0, 0),
        FakeMedia::Audio(a) => (0, 0, CameraFormat::Yuyv, a.sample_rate, a.channels),
    };
    for i in order {
        match &mut faults[i].kind {
            FaultKind::VideoFormat { width, height, format } => {
                w = or(*width, w);
                h = or(*height, h);
                if raw[i].pixel_format != 0 {
                    fmt = fourcc_in(raw[i].pixel_format, "a FORMAT_CHANGE's pixel_format")?;
                }
                (*width, *height, *format) = (w, h, fmt);
            }
            FaultKind::AudioFormat { sample_rate, channels } => {
                rate = or(*sample_rate, rate);
                ch = or(*channels, ch);
                (*sample_rate, *channels) = (rate, ch);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Adds a fake camera or microphone to the process's device list: mst_devices_enumerate()
/// lists it (id "fake:NAME", last of its kind) and mst_track_create_camera() or
/// mst_track_create_microphone() opens it, one track's source at a time, as a real device.
/// Only the bytes are fake: they go through the real capture path after the read (the
/// camera's conversion, lazy MJPEG decode, colour space, MstCameraStats; the microphone's
/// timestamps and MstCaptureStats; constraints and mode choice; the end reasons of the real
/// read errors). Frame n (the n-th the device produces, lost ones included) has
/// capture_sequence n; a raw camera frame holds n (a little-endian uint64_t) in its first 8
/// luma samples (YUV) or first 8 colour bytes of plane 0 (RGB: not X or A; the rest mid
/// grey); a microphone chunk's first 8 bytes hold n (U8, S16, S32; F32: the first sample is
/// n as a float; the rest silence). Each open runs the script from frame 0, with the faults
/// injected since. Fake devices exist only in the process that adds them.
///
/// Ownership: `init` and what it points to borrowed (copied); on MST_OK the caller owns
/// `*out` and releases it with mst_fake_device_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`init`, `init->name` or `out` is NULL; `faults`,
/// `mjpeg_frames`, `mjpeg_sizes` or a frame NULL with a nonzero count), MST_ERR_INVALID_ARG
/// (a kind that is not a video or audio input; a name that is empty, not UTF-8 or in use; a
/// size, rate, channel count or sample format out of range; an unknown fault kind or damage;
/// a fault of the other kind of device; MJPG without frames; a struct_size below the 1.2
/// size), MST_ERR_UNSUPPORTED (MJPG without libturbojpeg.so.0; nonzero bytes past the structs
/// this libmst knows), MST_ERR_NO_MEMORY (no handle left).
/// Spec: libmst extension (testing).
#[no_mangle]
pub extern "C" fn mst_fake_device_add(init: *const MstFakeDeviceInit, out: *mut *mut MstFakeDevice) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let i = read_in_required(init, "init")?;
        let name = utf8(opt_c_str!(i.name).ok_or_else(|| err!(NullArg, "`init->name` is NULL"))?, "init->name")?;
        let label = match opt_c_str!(i.label) {
            Some(l) => utf8(l, "init->label")?.to_owned(),
            None => String::new(),
        };
        let video = match i.kind {
            k if k == MstDeviceKind::MST_DEVICE_KIND_VIDEO_INPUT as i32 => true,
            k if k == MstDeviceKind::MST_DEVICE_KIND_AUDIO_INPUT as i32 => false,
            k => {
                return Err(err!(
                    InvalidArg,
                    "init->kind {k} is neither MST_DEVICE_KIND_VIDEO_INPUT (3) nor MST_DEVICE_KIND_AUDIO_INPUT (1)"
                ))
            }
        };
        let media = if video {
            let format = match i.pixel_format {
                0 => CameraFormat::Yuyv,
                f => fourcc_in(f, "init->pixel_format")?,
            };
            let n = i.num_mjpeg_frames;
            let jpeg_frames = if n == 0 {
                Vec::new()
            } else {
                if i.mjpeg_frames.is_null() || i.mjpeg_sizes.is_null() {
                    return Err(err!(
                        NullArg,
                        "`init->mjpeg_frames` or `init->mjpeg_sizes` is NULL and num_mjpeg_frames is {n}"
                    ));
                }
                (0..n)
                    .map(|k| {
                        // SAFETY: both arrays have `n` entries (checked non-NULL above).
                        let (p, len) = unsafe { (*i.mjpeg_frames.add(k), *i.mjpeg_sizes.add(k)) };
                        Ok(bytes!(p, len, "init->mjpeg_frames[i]").to_vec())
                    })
                    .collect::<Result<Vec<_>>>()?
            };
            FakeMedia::Video(FakeVideo {
                width: or(i.width, 640),
                height: or(i.height, 480),
                format,
                stride: i.bytes_per_line,
                frame_rate: or(i.frame_rate, 30.0),
                jpeg_frames,
            })
        } else {
            let format = match i.sample_format {
                0 => AudioSampleFormat::S16,
                f => audio_format_in(f, "init->sample_format")?,
            };
            FakeMedia::Audio(FakeAudio { sample_rate: or(i.sample_rate, 48_000), channels: or(i.channels, 1), format })
        };
        let pacing = match i.pacing {
            0 => Pacing::Lossless,
            1 => Pacing::Free,
            2 => Pacing::RealTime,
            p => return Err(err!(InvalidArg, "init->pacing {p} is not an MstFakePacing (0..=2)")),
        };
        let raw = read_array(i.faults, i.num_faults, "init->faults")?;
        let mut faults = raw.iter().map(|f| fault_in(f, video)).collect::<Result<Vec<_>>>()?;
        resolve_format_changes(&mut faults, &raw, &media)?;
        let dev = FakeDevice::add(FakeInit {
            name: name.to_owned(),
            label,
            media,
            pacing,
            frame_count: i.frame_count,
            faults,
        })?;
        match FAKE_DEVICES.insert(dev.clone()) {
            Ok(h) => *out = h,
            Err(e) => {
                dev.remove();
                return Err(e);
            }
        }
        Ok(())
    })
}

/// The device's id, "fake:NAME": what mst_devices_enumerate() lists and the track creators
/// take.
///
/// Ownership: `dev` borrowed; `*out` points into it, valid until mst_fake_device_free(dev).
/// `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`dev` or `out` is NULL), MST_ERR_INVALID_ARG (not a fake device
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: libmst extension (testing).
#[no_mangle]
pub extern "C" fn mst_fake_device_get_id(dev: *const MstFakeDevice, out: *mut *const c_char) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        // The table keeps the device, and so the string, until the handle is freed.
        *out = FAKE_DEVICES.get(dev)?.id_c().as_ptr();
        Ok(())
    })
}

/// Adds `fault` to the device's script as it runs: it hits frame `fault->at`, or the next
/// frame the device produces if that one is past (so `at` = 0 means "now"). The producing
/// thread takes it before its next frame. With no track open, it is kept for the next open.
/// A FORMAT_CHANGE's zero fields take the values the device was added with.
///
/// Ownership: `dev` and `fault` borrowed (copied).
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`dev` or `fault` is NULL), MST_ERR_INVALID_ARG (not a fake
/// device handle; an unknown kind or damage, a fault of the other kind of device, a value
/// out of range, a struct_size below the 1.2 size), MST_ERR_INVALID_STATE (freed),
/// MST_ERR_UNSUPPORTED (nonzero bytes past the MstFault this libmst knows).
/// Spec: libmst extension (testing).
#[no_mangle]
pub extern "C" fn mst_fake_device_inject(dev: *mut MstFakeDevice, fault: *const MstFault) -> MstStatus {
    ffi_call!({
        let d = FAKE_DEVICES.get(dev)?;
        let raw = read_in_required(fault, "fault")?;
        let video = d.kind() == crate::device::DeviceKind::VideoInput;
        let mut f = [fault_in(&raw, video)?];
        resolve_format_changes(&mut f, &[raw], d.media())?;
        d.inject(f[0])
    })
}

/// Removes the device from the device list and releases the handle; the tracks on it end
/// with MST_END_REASON_DEVICE_LOST before this returns (as an unplug). NULL is MST_OK.
///
/// Ownership: releases `dev`; the id string it lent is gone.
/// Thread safety: any thread.
/// Blocking: until the device's thread has stopped.
/// Errors: MST_ERR_INVALID_ARG (not a fake device handle), MST_ERR_INVALID_STATE (already
/// freed).
/// Spec: libmst extension (testing).
#[no_mangle]
pub extern "C" fn mst_fake_device_free(dev: *mut MstFakeDevice) -> MstStatus {
    ffi_call!({
        if dev.is_null() {
            return Ok(());
        }
        let d = FAKE_DEVICES.remove(dev)?;
        d.remove();
        Ok(())
    })
}

sized_struct!(in MstFault = 48, in MstFakeDeviceInit = 112);

symver!(
    version "MST_1.2": mst_fake_device_add,
    mst_fake_device_get_id,
    mst_fake_device_inject,
    mst_fake_device_free
);
