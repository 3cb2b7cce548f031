//! GREY cameras (infrared, monochrome) against vivid, in the VM stage (`scripts/vm-test.sh`):
//! WebCodecs has no grey format, so a GREY mode is delivered as I420 whose luma is the
//! driver's mmap'd buffer and whose chroma is one read-only memfd of 128s mapped after every
//! buffer: nothing is copied per frame. The luma is checked against vivid's known pattern
//! (its colour bars, where a YU12 capture of the same still picture puts them, at the values
//! vivid's GREY gives them); the luma's DMA-BUF is handed out, the chroma has none.
//!
//! Outside the VM there is no such device, so every test is `#[ignore]`d (see vm_camera.rs).

use std::time::Duration;

use mst::constraints::ConstrainRange;
use mst::device;
use mst::source::v4l2::{camera, camera_modes, camera_stats, CameraFormat, CameraOptions, ZERO_COPY_BUDGET};
use mst::*;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

#[path = "common/vivid_loop.rs"]
#[allow(dead_code)] // only its control helpers
mod vivid_loop;

const W: usize = 640;
const H: usize = 360;

fn read(p: &Processor, what: &str) -> Frame {
    p.read(Wait::For(Duration::from_secs(5))).unwrap_or_else(|e| panic!("{what}: {e}")).frame
}

fn camera_640x360(format: CameraFormat) -> Track {
    let exact = |v: f64| ConstrainRange { exact: Some(v), ..Default::default() };
    let c = VideoConstraints { width: exact(W as f64), height: exact(H as f64), ..Default::default() };
    camera(&vm::vivid_camera(), &c, &CameraOptions { format: Some(format) })
        .unwrap_or_else(|e| panic!("{format:?} camera: {e}"))
}

/// vivid's picture held still (no on-screen text, no movement), its controls put back on drop.
struct Still(v4l::Device, Vec<(u32, i32)>);

impl Still {
    fn new() -> Still {
        let dev = v4l::Device::with_path(device::v4l2::path_of(&vm::vivid_camera()).unwrap()).unwrap();
        let mut saved = Vec::new();
        // "OSD Text Mode" 2: none; the movements' menu item 3: "No Movement".
        for (name, value) in [("osd_text_mode", 2), ("horizontal_movement", 3), ("vertical_movement", 3)] {
            let id = vivid_loop::control_id(&dev, name);
            let mut c = v4l::v4l_sys::v4l2_control { id, value: 0 };
            unsafe {
                v4l::v4l2::ioctl(
                    dev.handle().fd(),
                    v4l::v4l2::vidioc::VIDIOC_G_CTRL,
                    &mut c as *mut _ as *mut std::ffi::c_void,
                )
            }
            .unwrap_or_else(|e| panic!("VIDIOC_G_CTRL {name}: {e}"));
            saved.push((id, c.value));
            vivid_loop::set_control(&dev, id, value);
        }
        Still(dev, saved)
    }
}

impl Drop for Still {
    fn drop(&mut self) {
        for &(id, value) in &self.1 {
            vivid_loop::set_control(&self.0, id, value);
        }
    }
}

/// Rows `rows` of `width` bytes of plane `i`, packed.
fn packed(f: &Frame, i: usize, width: usize, rows: usize) -> Vec<u8> {
    let (p, s) = f.plane(i).unwrap();
    (0..rows).flat_map(|y| p[y * s..y * s + width].to_vec()).collect()
}

/// The line of /proc/self/maps whose range holds `addr`.
fn mapping_of(addr: usize) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .find(|l| {
            let range = l.split(' ').next().unwrap();
            let (a, b) = range.split_once('-').unwrap();
            (usize::from_str_radix(a, 16).unwrap()..usize::from_str_radix(b, 16).unwrap()).contains(&addr)
        })
        .unwrap_or_else(|| panic!("{addr:#x} is in no mapping"))
        .to_owned()
}

/// vivid's 75% colour bars (white, yellow, cyan, green, magenta, red, blue, black: R', G', B'
/// of 191 or 0) as its GREY gives them: the Rec. 709 luma of the 12-bit values, full range
/// (v4l2-tpg-core.c, precalculate_color: (13879 r + 46688 g + 4713 b) >> 16, then >> 4).
fn grey_bars() -> Vec<u8> {
    let on = 191 << 4;
    [(1, 1, 1), (1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1), (0, 0, 0)]
        .iter()
        .map(|&(r, g, b)| (((13879 * r * on + 46688 * g * on + 4713 * b * on) >> 16) >> 4) as u8)
        .collect()
}

/// The luma vivid's GREY gives for the picture whose YU12 luma is `yu12`: its eight bars are
/// its eight luma values, which in BT.601 fall in the bars' order, white first.
fn grey_of(yu12: &[u8]) -> Vec<u8> {
    let mut levels = yu12.to_vec();
    levels.sort_unstable_by(|a, b| b.cmp(a));
    levels.dedup();
    assert_eq!(levels.len(), 8, "vivid's YU12 picture is not its eight bars: luma levels {levels:?}");
    let grey = grey_bars();
    yu12.iter().map(|y| grey[levels.iter().position(|l| l == y).unwrap()]).collect()
}

/// What a GREY frame must be: I420 at 640x360, full range, the luma `luma`, the chroma all 128.
fn assert_grey(f: &Frame, luma: &[u8], what: &str) {
    let v = f.video().unwrap();
    assert_eq!((v.format, v.coded_width, v.coded_height), (VideoPixelFormat::I420, W as u32, H as u32), "{what}");
    assert_eq!(v.color_space.full_range, Some(true), "{what}");
    let got = packed(f, 0, W, H);
    if got != luma {
        let diff: Vec<(usize, u8, u8)> =
            got.iter().zip(luma).enumerate().filter(|(_, (a, b))| a != b).map(|(i, (a, b))| (i, *a, *b)).collect();
        let mut pairs: Vec<(u8, u8)> = diff.iter().map(|&(_, a, b)| (b, a)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        panic!(
            "{what}: the luma is not vivid's: {} of {} bytes differ, first {:?}; (YU12, GREY) pairs {:?}; {:?}",
            diff.len(),
            got.len(),
            &diff[..diff.len().min(8)],
            &pairs[..pairs.len().min(40)],
            v.color_space
        );
    }
    for p in [1, 2] {
        assert!(packed(f, p, W / 2, H / 2).iter().all(|&b| b == 128), "{what}: plane {p} is not all 128");
    }
}

/// vivid offers GREY; libmst lists it, opens it, and delivers the driver's luma (vivid's bars
/// where its YU12 capture has them, at vivid's GREY values) with neutral chroma, copying
/// nothing, the chroma being a read-only memfd. Beyond the lending budget, frames are copied,
/// with the same picture. The luma's DMA-BUF is the frame's plane 0; the chroma has none.
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn grey_capture_lends_the_drivers_luma_with_neutral_chroma() {
    if !in_vm("grey_capture_lends_the_drivers_luma_with_neutral_chroma") {
        return;
    }
    let modes = camera_modes(&vm::vivid_camera()).unwrap();
    assert!(modes.iter().any(|m| m.format == CameraFormat::Grey), "vivid offers GREY: {modes:?}");
    assert_eq!(CameraFormat::Grey.delivered(), VideoPixelFormat::I420);
    let _still = Still::new();

    let yu12 = camera_640x360(CameraFormat::Yu12);
    let p = Processor::new(&yu12, 2);
    for i in 0..3 {
        read(&p, &format!("YU12 warm-up frame {i}"));
    }
    let luma = grey_of(&packed(&read(&p, "YU12 frame"), 0, W, H));
    yu12.stop();
    drop(p);

    let track = camera_640x360(CameraFormat::Grey);
    let p = Processor::new(&track, 2);
    for i in 0..3 {
        read(&p, &format!("warm-up frame {i}"));
    }
    let (before, s0) = (stats::media_bytes_copied(), camera_stats(&track).unwrap());
    let n = 30;
    for i in 0..n {
        assert_grey(&read(&p, &format!("frame {i}")), &luma, &format!("frame {i}"));
    }
    let copied = stats::media_bytes_copied() - before;
    let s1 = camera_stats(&track).unwrap();
    println!("GREY 640x360: {copied} media bytes copied over {n} frames; {s0:?} -> {s1:?}");
    let frames = s1.frames - s0.frames;
    assert!(frames >= n, "{s1:?}");
    assert_eq!(s1.zero_copy - s0.zero_copy, frames - (s1.over_budget - s0.over_budget), "{s1:?}");
    assert!(s1.zero_copy - s0.zero_copy >= n / 2, "{s0:?} {s1:?}");
    assert_eq!(copied, 0, "GREY capture copied {copied} media bytes over {n} frames");

    // The chroma is the one read-only memfd, wherever it is mapped.
    let f = read(&p, "frame for the mappings");
    let (u, _) = f.plane(1).unwrap();
    let (v, _) = f.plane(2).unwrap();
    for (name, plane) in [("U", u), ("V", v)] {
        let line = mapping_of(plane.as_ptr() as usize);
        println!("{name}: {line}");
        assert!(line.split(' ').nth(1).unwrap().starts_with("r--"), "{name} is writable: {line}");
        assert!(line.contains("memfd:mst-constant"), "{name} is not the neutral chroma memfd: {line}");
    }
    let luma_map = mapping_of(f.plane(0).unwrap().0.as_ptr() as usize);
    assert!(luma_map.contains("/dev/video"), "the luma is not the driver's buffer: {luma_map}");

    // The luma is a DMA-BUF (vivid exports its buffers), the chroma none.
    assert!(f.dmabuf().is_none(), "a GREY frame is not one DMA-BUF");
    let (fd, l) = f.dmabuf_plane(0).expect("the luma's DMA-BUF");
    assert_eq!((l.offset, l.stride), (0, f.video().unwrap().layout[0].stride));
    let len = l.stride * H;
    let map = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, fd, 0) };
    assert_ne!(map, libc::MAP_FAILED, "mmap of the luma's DMA-BUF: {}", std::io::Error::last_os_error());
    let same = unsafe { std::slice::from_raw_parts(map as *const u8, len) } == &f.plane(0).unwrap().0[..len];
    unsafe { libc::munmap(map, len) };
    assert!(same, "the DMA-BUF's bytes differ from the frame's luma");
    assert_eq!((f.dmabuf_plane(1), f.dmabuf_plane(2)), (None, None));
    drop(f);

    // Beyond the budget: copied, with the same picture and neutral chroma of its own.
    let held: Vec<Frame> = (0..ZERO_COPY_BUDGET + 3).map(|i| read(&p, &format!("held frame {i}"))).collect();
    let s = camera_stats(&track).unwrap();
    assert!(s.over_budget > s1.over_budget, "nothing copied beyond the budget: {s:?}");
    let copies: Vec<&Frame> = held.iter().filter(|f| f.dmabuf_plane(0).is_none()).collect();
    assert!(!copies.is_empty(), "no copied frame among those held: {s:?}");
    for (i, f) in copies.iter().enumerate() {
        assert_grey(f, &luma, &format!("copied frame {i}"));
    }
    drop(held);
    track.stop();
}

fn last_message() -> String {
    // SAFETY: mst_last_error_message never returns NULL.
    unsafe { std::ffi::CStr::from_ptr(mst::ffi::mst_last_error_message()) }.to_string_lossy().into_owned()
}

/// The same through the C ABI: GREY selected by its fourcc; the frame says when libmst
/// dequeued it (MstVideoFrameInfo.received, 1.3); mst_frame_get_dmabuf() says
/// MST_ERR_UNSUPPORTED (the chroma is no DMA-BUF) and names the way to plane 0;
/// mst_frame_get_dmabuf_plane() gives plane 0 and MST_ERR_UNSUPPORTED for planes 1 and 2.
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn c_abi_hands_out_the_grey_lumas_dmabuf_only() {
    use mst::ffi::camera::{mst_track_create_camera, MstCameraOptions};
    use mst::ffi::frame::{
        mst_frame_free, mst_frame_get_dmabuf, mst_frame_get_dmabuf_plane, mst_frame_get_video_info, MstPlaneLayout,
        MstPlaneLayouts, MstVideoFrameInfo,
    };
    use mst::ffi::processor::{mst_processor_create, mst_processor_free, mst_processor_read};
    use mst::ffi::track::{mst_track_free, mst_track_stop};
    use mst::ffi::MstStatus::{MST_ERR_UNSUPPORTED, MST_OK};
    use std::ptr::{null, null_mut};
    if !in_vm("c_abi_hands_out_the_grey_lumas_dmabuf_only") {
        return;
    }
    let id = std::ffi::CString::new(vm::vivid_camera()).unwrap();
    let options = MstCameraOptions {
        struct_size: std::mem::size_of::<MstCameraOptions>() as u32,
        pixel_format: u32::from_le_bytes(*b"GREY"),
    };
    let (mut track, mut p, mut f) = (null_mut(), null_mut(), null_mut());
    assert_eq!(mst_track_create_camera(id.as_ptr(), null(), &options, &mut track), MST_OK);
    assert_eq!(mst_processor_create(track, null(), &mut p), MST_OK);
    assert_eq!(mst_processor_read(p, 5000, &mut f), MST_OK);
    // When libmst dequeued it, on CLOCK_MONOTONIC: before now, and not long before.
    let mut info = std::mem::MaybeUninit::<MstVideoFrameInfo>::zeroed();
    unsafe { (*info.as_mut_ptr()).struct_size = std::mem::size_of::<MstVideoFrameInfo>() as u32 };
    assert_eq!(mst_frame_get_video_info(f, info.as_mut_ptr()), MST_OK);
    // SAFETY: written whole on MST_OK.
    let info = unsafe { info.assume_init() };
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let now = ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000;
    println!(
        "GREY frame dequeued {} us before it was read, timestamp {} us before",
        now - info.received,
        now - info.timestamp
    );
    assert!(
        info.received > 0 && info.received <= now && now - info.received < 5_000_000,
        "received {}, now {now}",
        info.received
    );
    let (mut fd, mut l) = (-1, MstPlaneLayout::default());
    assert_eq!(mst_frame_get_dmabuf_plane(f, 0, &mut fd, &mut l), MST_OK);
    assert!(fd >= 0 && l.offset == 0 && l.stride >= 640, "fd {fd}, {l:?}");
    for plane in [1, 2] {
        let (mut fd, mut l) = (-1, MstPlaneLayout::default());
        assert_eq!(mst_frame_get_dmabuf_plane(f, plane, &mut fd, &mut l), MST_ERR_UNSUPPORTED, "plane {plane}");
        let why = last_message();
        assert!(why.contains("GREY") && why.contains("plane 0"), "{why}");
        assert_eq!(fd, -1, "written on MST_OK only");
    }
    let mut layouts =
        MstPlaneLayouts { struct_size: std::mem::size_of::<MstPlaneLayouts>() as u32, ..Default::default() };
    let mut fd = -1;
    assert_eq!(mst_frame_get_dmabuf(f, &mut fd, &mut layouts), MST_ERR_UNSUPPORTED);
    let why = last_message();
    assert!(why.contains("luma") && why.contains("mst_frame_get_dmabuf_plane"), "{why}");
    assert_eq!(fd, -1, "written on MST_OK only");
    assert_eq!(mst_frame_free(f), MST_OK);
    assert_eq!(mst_processor_free(p), MST_OK);
    assert_eq!(mst_track_stop(track), MST_OK);
    assert_eq!(mst_track_free(track), MST_OK);
}
