//! Camera frames carry the colour space the driver reports, against vivid in the VM stage
//! (`scripts/vm-test.sh color`; see vmtest/README.md): vivid's colorspace, Y'CbCr encoding and
//! quantization controls change the capture format it reports and the samples it renders, and
//! a frame's `color_space` follows, so its RGB conversion gives the same colour whatever the
//! range. Every test is `#[ignore]`d outside the VM.

use std::path::Path;
use std::time::Duration;

use mst::constraints::ConstrainRange;
use mst::device::{self, DeviceKind};
use mst::frame::{
    ChromaSiting, ColorPrimaries, MatrixCoefficients, TransferCharacteristics, VideoColorSpace, VideoCopyOptions,
};
use mst::sink::file::FileSink;
use mst::source::v4l2::{camera, CameraFormat, CameraOptions};
use mst::*;
use v4l::video::Capture as _;
use v4l::Device;

#[path = "common/vivid_loop.rs"]
#[allow(dead_code)] // the ids and controls, not the loop
mod vivid_loop;
#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

const W: u32 = 640;
const H: u32 = 360;

fn vivid_camera() -> String {
    vivid_loop::vivid(DeviceKind::VideoInput)
}

fn set_control(dev: &Device, name: &str, value: i32) {
    vivid_loop::set_control(dev, vivid_loop::control_id(dev, name), value);
}

/// vivid's colour controls set for one test; put back to vivid's defaults (sRGB, default
/// encoding and quantization) on drop, so later tests see the device as it was.
struct Colour {
    dev: Device,
}

impl Colour {
    /// `colorspace` is vivid's menu index (0 SMPTE 170M, 1 Rec. 709, 2 sRGB, ...);
    /// `y_cbcr_encoding` and `quantization` are V4L2's enum values.
    fn set(colorspace: i32, y_cbcr_encoding: i32, quantization: i32) -> Colour {
        let dev = Device::with_path(device::v4l2::path_of(&vivid_camera()).unwrap()).unwrap();
        set_control(&dev, "colorspace", colorspace);
        set_control(&dev, "y_cbcr_encoding", y_cbcr_encoding);
        set_control(&dev, "quantization", quantization);
        Colour { dev }
    }
}

impl Drop for Colour {
    fn drop(&mut self) {
        set_control(&self.dev, "colorspace", 2);
        set_control(&self.dev, "y_cbcr_encoding", 0);
        set_control(&self.dev, "quantization", 0);
    }
}

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

/// A YUYV camera track at 640x360 and its first frame after a few (vivid's first frames may
/// predate the format).
fn yuyv_frame() -> (Track, Frame) {
    let c = VideoConstraints { width: exact(W as f64), height: exact(H as f64), ..Default::default() };
    let track = camera(&vivid_camera(), &c, &CameraOptions { format: Some(CameraFormat::Yuyv) }).unwrap();
    let p = Processor::new(&track, 4);
    let mut last = None;
    for i in 0..3 {
        last = Some(p.read(Wait::For(Duration::from_secs(5))).unwrap_or_else(|e| panic!("frame {i}: {e}")).frame);
    }
    (track, last.unwrap())
}

/// What the driver reports for the capture format now: (colorspace, quantization) as the v4l
/// crate names them.
fn reported(dev: &Device) -> String {
    let f = dev.format().unwrap();
    format!("{} / {}", f.colorspace, f.quantization)
}

/// The RGBA and luma of the pixel at (x, y).
fn rgba_and_luma(f: &Frame, x: usize, y: usize) -> ([u8; 4], u8) {
    let opts = VideoCopyOptions { format: Some(VideoPixelFormat::Rgba), ..Default::default() };
    let mut rgba = vec![0u8; f.video_allocation_size(&opts).unwrap()];
    f.video_copy_to(&mut rgba, &opts).unwrap();
    let (luma, stride) = f.plane(0).unwrap();
    let at = (y * W as usize + x) * 4;
    (rgba[at..at + 4].try_into().unwrap(), luma[y * stride + x])
}

/// vivid's default pattern is 75% colour bars, white first: R' = G' = B' = 0.75 (191).
fn assert_white_75(f: &Frame, what: &str) -> u8 {
    let (px, y) = rgba_and_luma(f, 20, H as usize / 2);
    for c in 0..3 {
        assert!(px[c].abs_diff(191) <= 3, "{what}: 75% white bar is {px:?} (Y {y})");
    }
    y
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_frames_carry_the_reported_colour_space() {
    if !in_vm("camera_frames_carry_the_reported_colour_space") {
        return;
    }
    // vivid's defaults: sRGB, default encoding (ITU-R 601), default quantization (limited).
    let limited = {
        let c = Colour::set(2, 0, 0);
        let (_track, f) = yuyv_frame();
        println!("driver: {}; frame: {:?}", reported(&c.dev), f.video().unwrap().color_space);
        assert!(reported(&c.dev).starts_with("sRGB / default"), "{}", reported(&c.dev));
        let v = f.video().unwrap();
        assert_eq!(
            v.color_space,
            VideoColorSpace {
                primaries: Some(ColorPrimaries::Bt709),
                transfer: Some(TransferCharacteristics::Iec61966_2_1),
                matrix: Some(MatrixCoefficients::Smpte170m),
                full_range: Some(false),
            }
        );
        assert_eq!(v.chroma_siting, ChromaSiting::Left, "YUYV is co-sited");
        assert_white_75(&f, "sRGB limited")
    };

    // Rec. 709, full range: reported so, rendered so (white's Y is higher), converted so.
    let full = {
        let c = Colour::set(1, 0, 1);
        let (track, f) = yuyv_frame();
        println!("driver: {}; frame: {:?}", reported(&c.dev), f.video().unwrap().color_space);
        assert!(reported(&c.dev).starts_with("Rec. 709 / full range"), "{}", reported(&c.dev));
        assert_eq!(
            f.video().unwrap().color_space,
            VideoColorSpace { full_range: Some(true), ..VideoColorSpace::REC709 }
        );
        let y = assert_white_75(&f, "Rec. 709 full");

        // A Y4M recording of the track says so too.
        let path = Path::new("/tmp/mst-vm-color.y4m");
        let sink = FileSink::open(&track, path).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        sink.finish().unwrap();
        let bytes = std::fs::read(path).unwrap();
        let header = b"YUV4MPEG2 W640 H360 ";
        assert!(bytes.starts_with(header), "{:?}", String::from_utf8_lossy(&bytes[..80.min(bytes.len())]));
        let line = String::from_utf8_lossy(&bytes[..bytes.iter().position(|&b| b == b'\n').unwrap()]).into_owned();
        assert!(line.ends_with("C420mpeg2 XCOLORRANGE=FULL XMST_MATRIX=BT709"), "{line}");
        std::fs::remove_file(path).unwrap();
        y
    };
    // 75% white: 16 + 0.75 * 219 = 180 at limited range, 0.75 * 255 = 191 at full.
    assert!(limited.abs_diff(180) <= 3 && full.abs_diff(191) <= 3, "white's Y: limited {limited}, full {full}");

    // SMPTE 170M with an explicit Rec. 709 encoding, explicitly limited.
    let c = Colour::set(0, 2, 2);
    let (_track, f) = yuyv_frame();
    println!("driver: {}; frame: {:?}", reported(&c.dev), f.video().unwrap().color_space);
    assert_eq!(
        f.video().unwrap().color_space,
        VideoColorSpace {
            primaries: Some(ColorPrimaries::Smpte170m),
            transfer: Some(TransferCharacteristics::Smpte170m),
            matrix: Some(MatrixCoefficients::Bt709),
            full_range: Some(false),
        }
    );
    assert_white_75(&f, "SMPTE 170M, Rec. 709 encoding");
}
