//! Multi-planar V4L2 nodes, in the VM stage (`scripts/vm-test.sh`): vivid reloaded with
//! `multiplanar=2`, which makes its capture and output nodes speak only the multi-planar API
//! (V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE / _OUTPUT_MPLANE). Besides the formats it offers on a
//! single-planar node, it then offers NM12 (NV12M) and YM12 (YUV420M), whose planes come in
//! separate buffer planes. Every test puts vivid back to the VM's standard parameters
//! (`n_devs=1 node_types=0x101`) before it returns, passing or failing ([`Multiplanar`]).
//!
//! Outside the VM there is no such device, so every test is `#[ignore]`d (see vm_camera.rs).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mst::constraints::ConstrainRange;
use mst::device::{self, DeviceKind};
use mst::frame::{PlaneLayout, VideoFrameInit};
use mst::sink::v4l2::{output_formats, VideoOutput};
use mst::source::v4l2::{camera, camera_modes, camera_stats, CameraFormat, CameraOptions};
use mst::*;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

#[path = "common/vivid_loop.rs"]
mod vivid_loop;
use vivid_loop::{vivid, Loop};

/// Long enough to tell a slow step on a busy host from one that never ends.
const HANG: Duration = Duration::from_secs(20);

const STANDARD: [&str; 3] = ["vivid", "n_devs=1", "node_types=0x101"];

/// Runs busybox's rmmod or modprobe; retries rmmod while a node is still open (EAGAIN).
fn module(tool: &str, args: &[&str]) -> bool {
    let deadline = Instant::now() + HANG;
    loop {
        let out = Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
        if out.status.success() {
            return true;
        }
        if Instant::now() >= deadline {
            eprintln!("{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until vivid's two nodes are listed.
fn wait_for_vivid() {
    let deadline = Instant::now() + HANG;
    while !device::enumerate().is_ok_and(|l| {
        [DeviceKind::VideoInput, DeviceKind::VideoOutput]
            .iter()
            .all(|k| l.iter().any(|d| d.kind == *k && d.group_id == "v4l2:platform:vivid-000"))
    }) {
        assert!(Instant::now() < deadline, "vivid's nodes did not appear");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// vivid reloaded with `multiplanar=2`; reloaded with the standard parameters on drop (also
/// when the test fails), so the tests after it find the single-planar nodes as before.
struct Multiplanar;

impl Multiplanar {
    fn new() -> Multiplanar {
        assert!(module("rmmod", &["vivid"]), "rmmod vivid");
        let guard = Multiplanar;
        assert!(module("modprobe", &[&STANDARD[..], &["multiplanar=2"]].concat()), "modprobe vivid multiplanar=2");
        wait_for_vivid();
        guard
    }
}

impl Drop for Multiplanar {
    fn drop(&mut self) {
        module("rmmod", &["vivid"]);
        module("modprobe", &STANDARD);
        wait_for_vivid();
    }
}

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

/// The frame's visible samples, plane by plane, rows tightly packed; NV12's interleaved chroma
/// is split into U and V so that NV12 and I420 frames compare.
fn yuv(f: &Frame) -> [Vec<u8>; 3] {
    let v = f.video().unwrap();
    let (w, h) = (v.visible_rect.width as usize, v.visible_rect.height as usize);
    let rows = |i: usize, row: usize, n: usize| -> Vec<u8> {
        let (p, s) = f.plane(i).unwrap();
        (0..n).flat_map(|y| p[y * s..y * s + row].iter().copied()).collect()
    };
    match v.format {
        VideoPixelFormat::Nv12 => {
            let uv = rows(1, w, h / 2);
            [rows(0, w, h), uv.iter().step_by(2).copied().collect(), uv.iter().skip(1).step_by(2).copied().collect()]
        }
        VideoPixelFormat::I420 => [rows(0, w, h), rows(1, w / 2, h / 2), rows(2, w / 2, h / 2)],
        f => panic!("not 4:2:0: {f:?}"),
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn mplane_nodes_are_listed_with_their_formats() {
    if !in_vm("mplane_nodes_are_listed_with_their_formats") {
        return;
    }
    let _vivid = Multiplanar::new();
    let (cap, out) = (vivid(DeviceKind::VideoInput), vivid(DeviceKind::VideoOutput));
    let modes = camera_modes(&cap).unwrap();
    let formats: Vec<CameraFormat> = modes.iter().map(|m| m.format).fold(Vec::new(), |mut v, f| {
        if !v.contains(&f) {
            v.push(f);
        }
        v
    });
    println!("{cap}: {formats:?}");
    for f in [CameraFormat::Nv12, CameraFormat::Nv12m, CameraFormat::Yu12, CameraFormat::Yu12m, CameraFormat::Yuyv] {
        assert!(formats.contains(&f), "{f:?} not among {formats:?}");
    }
    assert!(modes.iter().any(|m| m.format == CameraFormat::Nv12m && (m.width, m.height) == (640, 360)), "{modes:?}");
    let outs = output_formats(&out).unwrap();
    println!("{out}: {outs:?}");
    let fourccs: Vec<[u8; 4]> = outs.iter().map(|f| f.fourcc).collect();
    assert!(fourccs.contains(b"YU12") && fourccs.contains(b"NV12"), "{outs:?}");
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn mplane_camera_captures_one_and_separate_plane_formats() {
    if !in_vm("mplane_camera_captures_one_and_separate_plane_formats") {
        return;
    }
    let _vivid = Multiplanar::new();
    let id = vivid(DeviceKind::VideoInput);
    let c = VideoConstraints { width: exact(640.0), height: exact(360.0), ..Default::default() };
    let mut bottoms = Vec::new();
    for format in [CameraFormat::Nv12, CameraFormat::Nv12m, CameraFormat::Yu12, CameraFormat::Yu12m] {
        let track = camera(&id, &c, &CameraOptions { format: Some(format) }).unwrap();
        let p = Processor::new(&track, 4);
        let got: Vec<Frame> = (0..4)
            .map(|i| p.read(Wait::For(Duration::from_secs(5))).unwrap_or_else(|e| panic!("{format:?} {i}: {e}")).frame)
            .collect();
        let stats = camera_stats(&track).unwrap();
        println!("{format:?}: {stats:?}");
        track.stop();
        for f in &got {
            let v = f.video().unwrap();
            assert_eq!((v.format, v.visible_rect.width, v.visible_rect.height), (format.delivered(), 640, 360));
        }
        // vivid's on-screen counters change every frame. Under emulation its capture thread,
        // slow to fill a buffer, can wake early enough to fill the next one with the same
        // sequence number and picture (counted out_of_order): only frames of different
        // sequence numbers must differ.
        let seq = |f: &Frame| f.video().unwrap().capture_sequence;
        assert!(
            got.windows(2).all(|w| seq(&w[0]) == seq(&w[1]) || w[0].data() != w[1].data()),
            "{format:?}: two consecutive frames are identical"
        );
        assert!(got.windows(2).any(|w| seq(&w[0]) != seq(&w[1])), "{format:?}: one sequence number for every frame");
        let [y, u, v] = yuv(&got[3]);
        // The colour bars: luma and both chroma planes vary across a row.
        for (name, plane, w) in [("Y", &y, 640), ("U", &u, 320), ("V", &v, 320)] {
            let row = &plane[plane.len() - w..];
            assert!(row.iter().any(|&b| b != row[0]), "{format:?}: a constant {name} row");
        }
        // The bottom rows (below the on-screen text) are the same picture in every format.
        bottoms.push((
            format,
            y[y.len() - 640 * 8..].to_vec(),
            u[u.len() - 320 * 4..].to_vec(),
            v[v.len() - 320 * 4..].to_vec(),
        ));
    }
    let (f0, y0, u0, v0) = &bottoms[0];
    for (f, y, u, v) in &bottoms[1..] {
        assert!(y == y0 && u == u0 && v == v0, "{f:?}'s picture differs from {f0:?}'s");
    }
}

/// A distinctive static 1280x720 I420 picture: every sample depends on its position.
fn pattern(w: usize, h: usize) -> Vec<u8> {
    let mut d = vec![0u8; w * h * 3 / 2];
    for y in 0..h {
        for x in 0..w {
            d[y * w + x] = 16 + ((x * 7 + y * 13 + (x / 37) * (y / 29)) % 220) as u8;
        }
    }
    let (cw, ch) = (w / 2, h / 2);
    for y in 0..ch {
        for x in 0..cw {
            d[w * h + y * cw + x] = 16 + ((x * 3 + y * 5) % 225) as u8;
            d[w * h + cw * ch + y * cw + x] = 16 + ((x * 11 + y * 2 + 100) % 225) as u8;
        }
    }
    d
}

/// vivid loops its output into its capture only when both use the same fourcc: the output
/// writes I420 as YU12 (offered on its multi-planar node too), so the camera captures YU12,
/// here through the multi-planar API. (Separate-plane capture is checked against the same
/// picture in the other formats above.)
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn mplane_output_loops_back_to_mplane_capture_bit_exact() {
    if !in_vm("mplane_output_loops_back_to_mplane_capture_bit_exact") {
        return;
    }
    let _vivid = Multiplanar::new();
    let (cap_id, out_id) = (vivid(DeviceKind::VideoInput), vivid(DeviceKind::VideoOutput));
    let _loop = Loop::new();
    let (w, h) = (1280usize, 720usize);
    let picture = pattern(w, h);
    let init = VideoFrameInit {
        format: VideoPixelFormat::I420,
        coded_width: w as u32,
        coded_height: h as u32,
        timestamp: 0,
        duration: Some(33_333),
        layout: None,
        visible_rect: None,
        display_size: None,
        color_space: None,
    };
    let g = Arc::new(Generator::new(Kind::Video));
    let sink = VideoOutput::open(g.track(), &out_id).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (g, stop, picture) = (g.clone(), stop.clone(), picture.clone());
        std::thread::spawn(move || {
            let mut n = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                let f = Frame::video_copy(&VideoFrameInit { timestamp: n * 33_333, ..init.clone() }, &picture).unwrap();
                g.write(f).map_err(|(e, _)| e).unwrap();
                n += 1;
                std::thread::sleep(Duration::from_millis(40));
            }
        })
    };
    let c = VideoConstraints { width: exact(w as f64), height: exact(h as f64), ..Default::default() };
    let cam = camera(&cap_id, &c, &CameraOptions { format: Some(CameraFormat::Yu12) }).unwrap();
    let p = Processor::new(&cam, 2);
    let want = [picture[..w * h].to_vec(), picture[w * h..w * h * 5 / 4].to_vec(), picture[w * h * 5 / 4..].to_vec()];
    let t0 = Instant::now();
    let (mut seen, mut matched) = (0, false);
    while !matched && t0.elapsed() < Duration::from_secs(40) {
        let f = p.read(Wait::For(Duration::from_secs(5))).unwrap_or_else(|e| panic!("after {seen} frames: {e}")).frame;
        seen += 1;
        matched = yuv(&f) == want;
    }
    stop.store(true, std::sync::atomic::Ordering::Release);
    writer.join().unwrap();
    cam.stop();
    g.close();
    let stats = sink.finish().unwrap();
    println!("{seen} frames read in {:?}; output {stats:?}", t0.elapsed());
    assert!(matched, "the written picture never came back bit for bit in {seen} frames");
    assert_eq!((stats.width, stats.height, &stats.fourcc.to_le_bytes()), (1280, 720, b"YU12"), "{stats:?}");
    assert_eq!(stats.error, None);
}

/// NM12 and YM12 frames are the driver's buffers too: their planes, each in its own buffer
/// plane, are mapped back to back, and a frame is the span over them with each plane where it
/// lies. No media byte is copied, and a frame hands out one DMA-BUF per plane. (The picture is
/// checked against the one-buffer formats above.)
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn separate_plane_formats_are_captured_without_a_copy() {
    if !in_vm("separate_plane_formats_are_captured_without_a_copy") {
        return;
    }
    let _vivid = Multiplanar::new();
    let id = vivid(DeviceKind::VideoInput);
    let c = VideoConstraints { width: exact(640.0), height: exact(360.0), ..Default::default() };
    for format in [CameraFormat::Nv12m, CameraFormat::Yu12m] {
        let track = camera(&id, &c, &CameraOptions { format: Some(format) }).unwrap();
        let p = Processor::new(&track, 2);
        let read = |what: &str| p.read(Wait::For(HANG)).unwrap_or_else(|e| panic!("{format:?} {what}: {e}")).frame;
        for i in 0..3 {
            read(&format!("warm-up frame {i}"));
        }
        let (before, s0) = (stats::media_bytes_copied(), camera_stats(&track).unwrap());
        let n = 20;
        for i in 0..n {
            let f = read(&format!("frame {i}"));
            let v = f.video().unwrap();
            assert_eq!((v.format, v.coded_width, v.coded_height), (format.delivered(), 640, 360), "{v:?}");
            // The chroma is in a buffer plane of its own: past the luma, at a page boundary.
            let planes = v.format.planes().len();
            for l in &v.layout[1..planes] {
                assert!(l.offset >= 640 * 360 && l.offset % 4096 == 0, "{format:?}: {:?}", v.layout);
            }
            // One DMA-BUF per plane, each plane at its start, holding the frame's bytes.
            let d =
                f.dmabuf_planes().unwrap_or_else(|| panic!("{format:?}: vivid exports its buffers, but no DMA-BUF"));
            // Not one DMA-BUF: dmabuf() has one fd to describe every plane with.
            assert_eq!(f.dmabuf(), None, "{format:?}");
            assert!(!d.single() && d.planes == planes, "{format:?}: {d:?}");
            for k in 0..planes {
                assert!(d.fds[k] >= 0 && d.fds[..k].iter().all(|&o| o != d.fds[k]), "{format:?}: {d:?}");
                assert_eq!(d.layout[k], PlaneLayout { offset: 0, stride: v.layout[k].stride }, "{format:?}: {d:?}");
                let (plane, _) = f.plane(k).unwrap();
                let len = plane.len().min(if k == 0 { 640 * 360 } else { v.layout[k].stride * 180 });
                // SAFETY: maps `len` bytes of a DMA-BUF that holds at least the plane.
                let map =
                    unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, d.fds[k], 0) };
                assert_ne!(map, libc::MAP_FAILED, "mmap of plane {k}'s DMA-BUF: {}", std::io::Error::last_os_error());
                // SAFETY: just mapped, `len` bytes.
                let same = unsafe { std::slice::from_raw_parts(map as *const u8, len) } == &plane[..len];
                unsafe { libc::munmap(map, len) };
                assert!(same, "{format:?}: plane {k}'s DMA-BUF differs from the frame's plane");
            }
            if i == 0 {
                println!("{format:?}: {d:?}");
            }
        }
        let copied = stats::media_bytes_copied() - before;
        let s1 = camera_stats(&track).unwrap();
        track.stop();
        println!("{format:?}: {copied} media bytes copied over {n} frames; {s0:?} -> {s1:?}");
        let frames = s1.frames - s0.frames;
        assert!(frames >= n, "{s1:?}");
        assert_eq!(s1.zero_copy - s0.zero_copy, frames - (s1.over_budget - s0.over_budget), "{s1:?}");
        assert!(s1.zero_copy - s0.zero_copy >= n / 2, "{s0:?} {s1:?}");
        assert_eq!(copied, 0, "{format:?} capture copied {copied} media bytes over {n} frames");
    }
}

/// The same through the C ABI: mst_frame_get_dmabuf_plane() gives each NM12 plane its own
/// DMA-BUF, at offset 0 in it; mst_frame_get_dmabuf(), which has one fd to answer with, says
/// MST_ERR_UNSUPPORTED rather than describe the chroma as if it were in the luma's.
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn c_abi_hands_out_one_dmabuf_per_separate_plane() {
    use mst::ffi::camera::{mst_track_create_camera, MstCameraOptions};
    use mst::ffi::frame::{
        mst_frame_free, mst_frame_get_dmabuf, mst_frame_get_dmabuf_plane, MstPlaneLayout, MstPlaneLayouts,
    };
    use mst::ffi::processor::{mst_processor_create, mst_processor_free, mst_processor_read};
    use mst::ffi::track::{mst_track_free, mst_track_stop};
    use mst::ffi::MstStatus::{MST_ERR_INVALID_ARG, MST_ERR_UNSUPPORTED, MST_OK};
    use std::ptr::{null, null_mut};
    if !in_vm("c_abi_hands_out_one_dmabuf_per_separate_plane") {
        return;
    }
    let _vivid = Multiplanar::new();
    let id = std::ffi::CString::new(vivid(DeviceKind::VideoInput)).unwrap();
    let options = MstCameraOptions {
        struct_size: std::mem::size_of::<MstCameraOptions>() as u32,
        pixel_format: u32::from_le_bytes(*b"NM12"),
    };
    let (mut track, mut p, mut f) = (null_mut(), null_mut(), null_mut());
    assert_eq!(mst_track_create_camera(id.as_ptr(), null(), &options, &mut track), MST_OK);
    assert_eq!(mst_processor_create(track, null(), &mut p), MST_OK);
    assert_eq!(mst_processor_read(p, 5000, &mut f), MST_OK);
    let mut got = Vec::new();
    for plane in 0..2 {
        let (mut fd, mut l) = (-1, MstPlaneLayout::default());
        assert_eq!(mst_frame_get_dmabuf_plane(f, plane, &mut fd, &mut l), MST_OK, "plane {plane}");
        assert!(fd >= 0 && l.offset == 0 && l.stride >= 640, "plane {plane}: fd {fd}, {l:?}");
        got.push(fd);
    }
    println!("NM12 planes' DMA-BUFs: {got:?}");
    assert_ne!(got[0], got[1]);
    let (mut fd, mut l) = (-1, MstPlaneLayout::default());
    assert_eq!(mst_frame_get_dmabuf_plane(f, 2, &mut fd, &mut l), MST_ERR_INVALID_ARG);
    let mut layouts =
        MstPlaneLayouts { struct_size: std::mem::size_of::<MstPlaneLayouts>() as u32, ..Default::default() };
    assert_eq!(mst_frame_get_dmabuf(f, &mut fd, &mut layouts), MST_ERR_UNSUPPORTED);
    assert_eq!(fd, -1, "written on MST_OK only");
    assert_eq!(mst_frame_free(f), MST_OK);
    assert_eq!(mst_processor_free(p), MST_OK);
    assert_eq!(mst_track_stop(track), MST_OK);
    assert_eq!(mst_track_free(track), MST_OK);
}

/// GREY on a multi-planar node (one buffer plane): delivered as I420 over the driver's buffer
/// with the neutral chroma mapped after it, as on a single-planar node (tests/vm_grey.rs):
/// nothing copied, the luma's DMA-BUF only.
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn grey_on_a_multiplanar_node_is_captured_without_a_copy() {
    if !in_vm("grey_on_a_multiplanar_node_is_captured_without_a_copy") {
        return;
    }
    let _vivid = Multiplanar::new();
    let c = VideoConstraints { width: exact(640.0), height: exact(360.0), ..Default::default() };
    let track = camera(&vivid(DeviceKind::VideoInput), &c, &CameraOptions { format: Some(CameraFormat::Grey) })
        .expect("vivid offers GREY on its multi-planar node");
    let p = Processor::new(&track, 2);
    let read = |what: &str| p.read(Wait::For(HANG)).unwrap_or_else(|e| panic!("{what}: {e}")).frame;
    for i in 0..3 {
        read(&format!("warm-up frame {i}"));
    }
    let (before, s0) = (stats::media_bytes_copied(), camera_stats(&track).unwrap());
    let n = 20;
    for i in 0..n {
        let f = read(&format!("frame {i}"));
        let v = f.video().unwrap();
        assert_eq!((v.format, v.coded_width, v.coded_height), (VideoPixelFormat::I420, 640, 360), "{v:?}");
        let samples = yuv(&f);
        assert!(samples[0].iter().any(|&y| y != samples[0][0]), "frame {i}: a flat luma");
        assert!(samples[1..].iter().flatten().all(|&c| c == 128), "frame {i}: chroma not neutral");
        assert!(f.dmabuf_plane(0).is_some() && f.dmabuf_plane(1).is_none() && f.dmabuf().is_none(), "frame {i}");
    }
    let copied = stats::media_bytes_copied() - before;
    let s1 = camera_stats(&track).unwrap();
    track.stop();
    println!("GREY on a multi-planar node: {copied} media bytes copied over {n} frames; {s0:?} -> {s1:?}");
    assert!(s1.zero_copy - s0.zero_copy >= n / 2, "{s0:?} {s1:?}");
    assert_eq!(copied, 0);
}
