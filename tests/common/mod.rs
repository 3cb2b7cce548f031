//! Helpers shared by the integration tests that drive the C ABI from Rust and by
//! benches/handoff.rs, which includes this file with `#[path = "../tests/common/mod.rs"]`.

use std::mem::MaybeUninit;

use mst::ffi::frame::{
    mst_frame_get_audio_info, mst_frame_get_video_info, MstAudioDataInfo, MstFrame, MstPlaneLayout, MstRect,
    MstVideoFrameInfo, MstVideoFrameInit, MstVideoPixelFormat,
};
use mst::ffi::processor::MstProcessorOptions;
use mst::ffi::MstStatus::{self, MST_OK};

/// Panics, naming the status and the library's last error message, unless `s` is MST_OK.
#[track_caller]
pub fn ok(s: MstStatus) {
    if s != MST_OK {
        // SAFETY: mst_last_error_message never returns NULL.
        let msg = unsafe { std::ffi::CStr::from_ptr(mst::ffi::mst_last_error_message()) };
        panic!("{s:?}: {}", msg.to_string_lossy());
    }
}

/// `sizeof(T)` as the `struct_size` of a size-prefixed struct (what MST_STRUCT_INIT sets).
pub fn struct_size<T>() -> u32 {
    std::mem::size_of::<T>() as u32
}

/// Processor options with maxBufferSize `n` (0 = the default).
pub fn buffer(n: u32) -> MstProcessorOptions {
    MstProcessorOptions { struct_size: struct_size::<MstProcessorOptions>(), max_buffer_size: n, flags: 0 }
}

/// An I420 frame init of `w` x `h` at timestamp `ts`: planes tightly packed, everything else
/// default (no duration, the whole coded frame visible, display size = visible size).
pub fn i420_init(w: u32, h: u32, ts: i64) -> MstVideoFrameInit {
    MstVideoFrameInit {
        struct_size: struct_size::<MstVideoFrameInit>(),
        format: MstVideoPixelFormat::MST_VIDEO_PIXEL_FORMAT_I420 as i32,
        coded_width: w,
        coded_height: h,
        timestamp: ts,
        duration: 0,
        num_planes: 0,
        layout: [MstPlaneLayout::default(); 4],
        visible_rect: MstRect::default(),
        display_width: 0,
        display_height: 0,
        color_primaries: 0,
        color_transfer: 0,
        color_matrix: 0,
        color_range: 0,
    }
}

/// An out-struct with only `struct_size` set, for a getter to fill (it has enums with no zero
/// value, so it is not a `Default`).
fn sized_out<T>() -> MaybeUninit<T> {
    let mut v = MaybeUninit::<T>::zeroed();
    // SAFETY: every size-prefixed struct starts with its u32 struct_size.
    unsafe { v.as_mut_ptr().cast::<u32>().write(struct_size::<T>()) };
    v
}

/// mst_frame_get_video_info, which must succeed.
#[track_caller]
pub fn video_info(f: *const MstFrame) -> MstVideoFrameInfo {
    let mut info = sized_out::<MstVideoFrameInfo>();
    ok(mst_frame_get_video_info(f, info.as_mut_ptr()));
    // SAFETY: on MST_OK every byte after struct_size was written, with valid values.
    unsafe { info.assume_init() }
}

/// mst_frame_get_audio_info, which must succeed.
#[track_caller]
#[allow(dead_code)] // benches/handoff.rs includes this file and reads no audio
pub fn audio_info(f: *const MstFrame) -> MstAudioDataInfo {
    let mut info = sized_out::<MstAudioDataInfo>();
    ok(mst_frame_get_audio_info(f, info.as_mut_ptr()));
    // SAFETY: as in video_info.
    unsafe { info.assume_init() }
}
