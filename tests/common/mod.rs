//! Helpers shared by the integration tests that drive the C ABI from Rust and by
//! benches/handoff.rs, which includes this file with `#[path = "../tests/common/mod.rs"]`.

use mst::ffi::frame::{MstPlaneLayout, MstRect, MstVideoFrameInit, MstVideoPixelFormat};
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

/// An I420 frame init of `w` x `h` at timestamp `ts`: planes tightly packed, everything else
/// default (no duration, the whole coded frame visible, display size = visible size).
pub fn i420_init(w: u32, h: u32, ts: i64) -> MstVideoFrameInit {
    MstVideoFrameInit {
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
    }
}
