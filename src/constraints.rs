//! Constrainable properties of video tracks (mediacapture-main's applyConstraints, specialised
//! as the breakout-box spec does for generator tracks), settings, capabilities, and the
//! per-track adapter that turns a source frame into what the track's constraints ask for.

use crate::error::{err, Error, Result};
use crate::frame::{Rect, VideoMeta};

/// `ConstrainULong` / `ConstrainDouble`: every member optional.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConstrainRange {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub exact: Option<f64>,
    pub ideal: Option<f64>,
}

impl ConstrainRange {
    pub fn is_empty(&self) -> bool {
        *self == ConstrainRange::default()
    }

    /// The value a track aims for: exact, else ideal, else max.
    fn target(&self) -> Option<f64> {
        self.exact.or(self.ideal).or(self.max)
    }

    fn clamp(&self, v: f64) -> f64 {
        let v = self.min.map_or(v, |m| v.max(m));
        self.max.map_or(v, |m| v.min(m))
    }

    /// Fails with OverconstrainedError when no value in `[cap_min, cap_max]` satisfies the
    /// required members (min, max, exact); `ideal` never fails.
    fn check(&self, name: &'static str, cap_min: f64, cap_max: f64) -> Result<()> {
        for v in [self.min, self.max, self.exact, self.ideal].into_iter().flatten() {
            if v.is_nan() {
                return Err(err!(InvalidArg, "{name}: NaN is not a constraint value"));
            }
        }
        let lo = self.min.unwrap_or(f64::NEG_INFINITY).max(self.exact.unwrap_or(f64::NEG_INFINITY)).max(cap_min);
        let hi = self.max.unwrap_or(f64::INFINITY).min(self.exact.unwrap_or(f64::INFINITY)).min(cap_max);
        if lo > hi {
            return Err(Error::overconstrained(
                name,
                format!(
                    "{name}: no value satisfies {} within the capability range {cap_min}..={cap_max}",
                    self.describe()
                ),
            ));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.exact {
            parts.push(format!("exact {v}"));
        }
        if let Some(v) = self.min {
            parts.push(format!("min {v}"));
        }
        if let Some(v) = self.max {
            parts.push(format!("max {v}"));
        }
        parts.join(", ")
    }
}

/// `VideoResizeModeEnum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizeMode {
    None,
    CropAndScale,
}

impl ResizeMode {
    pub fn name(self) -> &'static str {
        match self {
            ResizeMode::None => "none",
            ResizeMode::CropAndScale => "crop-and-scale",
        }
    }
}

/// The video constraints a track applies to what its source produces.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VideoConstraints {
    pub width: ConstrainRange,
    pub height: ConstrainRange,
    pub frame_rate: ConstrainRange,
    pub aspect_ratio: ConstrainRange,
    /// `ConstrainDOMString` with exact or ideal: both mean "use this mode" here, as both modes
    /// are always available.
    pub resize_mode: Option<ResizeMode>,
}

/// `MediaTrackCapabilities` (ranges are inclusive). Empty for audio generator tracks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Capabilities {
    pub width: Option<(u32, u32)>,
    pub height: Option<(u32, u32)>,
    pub frame_rate: Option<(f64, f64)>,
    pub aspect_ratio: Option<(f64, f64)>,
    /// Both "none" and "crop-and-scale" are offered.
    pub resize_modes: bool,
    /// The one mode a fixed source produces (width, height, frame rate): with resizeMode
    /// "none" a track gets exactly this, so constraints are checked against it.
    pub native: Option<(u32, u32, f64)>,
}

impl Capabilities {
    /// What any video frame can be: the spec's capabilities of a generator's video track.
    pub fn any_video(max_frame_rate: f64) -> Capabilities {
        let max = crate::frame::MAX_DIMENSION;
        Capabilities {
            width: Some((1, max)),
            height: Some((1, max)),
            frame_rate: Some((0.0, max_frame_rate)),
            aspect_ratio: Some((1.0 / max as f64, max as f64)),
            resize_modes: true,
            native: None,
        }
    }

    /// A source with one native mode: the track can only crop, scale down and decimate.
    pub fn fixed_video(width: u32, height: u32, frame_rate: f64) -> Capabilities {
        Capabilities {
            width: Some((1, width)),
            height: Some((1, height)),
            frame_rate: Some((0.0, frame_rate)),
            aspect_ratio: Some((1.0 / height as f64, width as f64)),
            resize_modes: true,
            native: Some((width, height, frame_rate)),
        }
    }

    /// Checks `c` against these capabilities: OverconstrainedError names the first property
    /// that cannot be met.
    pub fn check(&self, c: &VideoConstraints) -> Result<()> {
        type Property<'a> = (&'static str, &'a ConstrainRange, Option<(f64, f64)>);
        let props: [Property; 4] = [
            ("width", &c.width, self.width.map(|(a, b)| (a as f64, b as f64))),
            ("height", &c.height, self.height.map(|(a, b)| (a as f64, b as f64))),
            ("frameRate", &c.frame_rate, self.frame_rate),
            ("aspectRatio", &c.aspect_ratio, self.aspect_ratio),
        ];
        for (name, range, cap) in props {
            match cap {
                Some((lo, hi)) => range.check(name, lo, hi)?,
                None if !range.is_empty() => {
                    return Err(Error::overconstrained(name, format!("{name} is not a capability of this track")))
                }
                None => {}
            }
        }
        if c.resize_mode.is_some() && !self.resize_modes {
            return Err(Error::overconstrained("resizeMode", "resizeMode is not a capability of this track"));
        }
        // Without resizing, a fixed source's frames are its native mode: that must fit.
        if let (ResizeMode::None, Some((w, h, fps))) = (c.effective_resize_mode(), self.native) {
            c.width.check("width", w as f64, w as f64)?;
            c.height.check("height", h as f64, h as f64)?;
            c.frame_rate.check("frameRate", fps, fps)?;
            c.aspect_ratio.check("aspectRatio", w as f64 / h as f64, w as f64 / h as f64)?;
        }
        Ok(())
    }
}

/// `MediaTrackSettings`: present members only.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Settings {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub frame_rate: Option<f64>,
    pub aspect_ratio: Option<f64>,
    pub resize_mode: Option<ResizeMode>,
    pub sample_rate: Option<f64>,
    pub channel_count: Option<u32>,
    pub sample_size: Option<u32>,
}

/// What a track does to one source frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Deliver the source frame itself.
    PassThrough,
    /// Deliver `crop` of the source (inside its coded frame) as a view, no pixels touched.
    Crop(Rect),
    /// Scale `crop` of the source to `width` x `height`.
    Scale { crop: Rect, width: u32, height: u32 },
}

fn floor_even(v: u32) -> u32 {
    if v >= 2 {
        v & !1
    } else {
        v
    }
}

impl VideoConstraints {
    /// The resize mode in force: the asked one, else crop-and-scale when width, height,
    /// aspectRatio or frameRate is constrained (the track must adapt), else none.
    pub fn effective_resize_mode(&self) -> ResizeMode {
        self.resize_mode.unwrap_or(
            if self.width.is_empty()
                && self.height.is_empty()
                && self.aspect_ratio.is_empty()
                && self.frame_rate.is_empty()
            {
                ResizeMode::None
            } else {
                ResizeMode::CropAndScale
            },
        )
    }

    /// crop-and-scale: clamp the target size to the constraints and to the source (never
    /// upscale), crop the source centred to the target aspect ratio, keep even dimensions,
    /// and scale the crop down to fit the target.
    pub fn plan(&self, v: &VideoMeta) -> Plan {
        if self.effective_resize_mode() == ResizeMode::None {
            return Plan::PassThrough;
        }
        let src = v.visible_rect;
        let (sw, sh) = (src.width as f64, src.height as f64);
        let target = |r: &ConstrainRange, s: f64| r.clamp(r.target().unwrap_or(s)).min(s).max(1.0);
        let tw = target(&self.width, sw);
        let th = target(&self.height, sh);
        let explicit = |r: &ConstrainRange| r.target().is_some();
        let ar = match self.aspect_ratio.exact.or(self.aspect_ratio.ideal) {
            Some(a) => a,
            None if explicit(&self.width) && explicit(&self.height) => tw / th,
            None => sw / sh,
        };
        let ar = self.aspect_ratio.clamp(ar);
        let (cw, ch) =
            if sw / sh > ar { ((sh * ar).round().clamp(1.0, sw), sh) } else { (sw, (sw / ar).round().clamp(1.0, sh)) };
        let s = (tw / cw).min(th / ch).min(1.0);
        let (ax, ay) = v.format.alignment();
        let out_w = floor_even(((cw * s).round() as u32).max(1));
        let out_h = floor_even(((ch * s).round() as u32).max(1));
        let (cw, ch) = if s >= 1.0 { (floor_even(cw as u32), floor_even(ch as u32)) } else { (cw as u32, ch as u32) };
        let x = src.x + ((src.width - cw) / 2) / ax as u32 * ax as u32;
        let y = src.y + ((src.height - ch) / 2) / ay as u32 * ay as u32;
        let crop = Rect { x, y, width: cw, height: ch };
        if (out_w, out_h) == (cw, ch) {
            if crop == src {
                Plan::PassThrough
            } else {
                Plan::Crop(crop)
            }
        } else {
            Plan::Scale { crop, width: out_w, height: out_h }
        }
    }

    /// The frame rate the track decimates to, if any.
    pub fn target_frame_rate(&self) -> Option<f64> {
        if self.effective_resize_mode() == ResizeMode::None {
            return None;
        }
        self.frame_rate.exact.or(self.frame_rate.max).or(self.frame_rate.ideal).filter(|f| *f > 0.0)
    }
}

/// Drops frames so a track runs at most at its target rate, judged by frame timestamps (so
/// it is exact for paced and unpaced sources alike), with a tenth of a period of tolerance
/// for timestamp jitter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Decimator {
    next_due: Option<i64>,
}

impl Decimator {
    pub fn admit(&mut self, timestamp: i64, frame_rate: Option<f64>) -> bool {
        let Some(fps) = frame_rate else {
            self.next_due = None;
            return true;
        };
        // Saturating: caller timestamps may be anywhere in i64, and a tiny rate makes a huge
        // period (the float-to-int cast saturates too).
        let period = (1_000_000.0 / fps) as i64;
        match self.next_due {
            Some(due) if timestamp < due.saturating_sub(period / 10) => false,
            Some(due) if timestamp < due.saturating_add(period) => {
                self.next_due = Some(due.saturating_add(period));
                true
            }
            _ => {
                self.next_due = Some(timestamp.saturating_add(period));
                true
            }
        }
    }
}

/// A frame-rate estimate from the timestamps of recently delivered frames.
#[derive(Clone, Copy, Debug, Default)]
pub struct RateEstimator {
    last: Option<i64>,
    rate: Option<f64>,
}

impl RateEstimator {
    pub fn update(&mut self, timestamp: i64, duration: Option<i64>) -> Option<f64> {
        match self.last {
            Some(last) if timestamp > last => {
                let inst = 1_000_000.0 / (timestamp as f64 - last as f64);
                self.rate = Some(self.rate.map_or(inst, |r| r * 0.75 + inst * 0.25));
            }
            None => self.rate = duration.filter(|d| *d > 0).map(|d| 1_000_000.0 / d as f64),
            _ => {}
        }
        self.last = Some(timestamp);
        self.rate
    }
}

/// The settings of an audio source's mode, reported before its first chunk.
pub fn audio_settings(sample_rate: u32, channels: u32, format: crate::frame::AudioSampleFormat) -> Settings {
    Settings {
        sample_rate: Some(sample_rate as f64),
        channel_count: Some(channels),
        sample_size: Some(format.bytes_per_sample() as u32 * 8),
        ..Settings::default()
    }
}

/// The aspect ratio as a setting: width / height rounded to the tenth decimal place.
pub fn aspect_setting(width: u32, height: u32) -> f64 {
    ((width as f64 / height as f64) * 1e10).round() / 1e10
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{PlaneLayout, VideoPixelFormat};

    fn meta(w: u32, h: u32) -> VideoMeta {
        VideoMeta {
            format: VideoPixelFormat::I420,
            coded_width: w,
            coded_height: h,
            visible_rect: Rect { x: 0, y: 0, width: w, height: h },
            display_width: w,
            display_height: h,
            timestamp: 0,
            duration: None,
            layout: [PlaneLayout::default(); 4],
            capture_sequence: None,
        }
    }

    fn exact(v: f64) -> ConstrainRange {
        ConstrainRange { exact: Some(v), ..Default::default() }
    }

    #[test]
    fn no_constraints_pass_through() {
        assert_eq!(VideoConstraints::default().plan(&meta(1280, 720)), Plan::PassThrough);
    }

    #[test]
    fn width_and_height_scale_down() {
        let c = VideoConstraints { width: exact(640.0), height: exact(360.0), ..Default::default() };
        assert_eq!(
            c.plan(&meta(1280, 720)),
            Plan::Scale { crop: Rect { x: 0, y: 0, width: 1280, height: 720 }, width: 640, height: 360 }
        );
    }

    #[test]
    fn square_aspect_crops_centred_as_a_view() {
        let c = VideoConstraints { aspect_ratio: exact(1.0), ..Default::default() };
        assert_eq!(c.plan(&meta(1280, 720)), Plan::Crop(Rect { x: 280, y: 0, width: 720, height: 720 }));
    }

    #[test]
    fn never_upscales_and_keeps_even_sizes() {
        let c = VideoConstraints { width: exact(1000.0), ..Default::default() };
        assert_eq!(c.plan(&meta(640, 360)), Plan::PassThrough);
        let c = VideoConstraints {
            width: ConstrainRange { ideal: Some(333.0), ..Default::default() },
            ..Default::default()
        };
        match c.plan(&meta(640, 360)) {
            Plan::Scale { width, height, .. } => assert_eq!((width % 2, height % 2, width), (0, 0, 332)),
            p => panic!("expected a scale, got {p:?}"),
        }
    }

    #[test]
    fn resize_mode_none_ignores_geometry() {
        let c = VideoConstraints { width: exact(320.0), resize_mode: Some(ResizeMode::None), ..Default::default() };
        assert_eq!(c.plan(&meta(640, 360)), Plan::PassThrough);
        assert_eq!(c.target_frame_rate(), None);
    }

    #[test]
    fn overconstrained_names_the_property() {
        let caps = Capabilities::fixed_video(640, 360, 30.0);
        let e = caps.check(&VideoConstraints { height: exact(720.0), ..Default::default() }).unwrap_err();
        assert_eq!((e.kind, e.constraint), (crate::error::ErrorKind::Overconstrained, Some("height")));
        let none = Some(ResizeMode::None);
        let e =
            caps.check(&VideoConstraints { width: exact(320.0), resize_mode: none, ..Default::default() }).unwrap_err();
        assert_eq!(e.constraint, Some("width"), "without resizing, a 640-wide source cannot give 320");
        assert!(caps.check(&VideoConstraints { width: exact(640.0), resize_mode: none, ..Default::default() }).is_ok());
        assert!(Capabilities::any_video(1000.0)
            .check(&VideoConstraints { width: exact(320.0), resize_mode: none, ..Default::default() })
            .is_ok());
        let min_over_max = ConstrainRange { min: Some(300.0), max: Some(200.0), ..Default::default() };
        assert_eq!(
            caps.check(&VideoConstraints { width: min_over_max, ..Default::default() }).unwrap_err().constraint,
            Some("width")
        );
        assert!(caps
            .check(&VideoConstraints {
                width: ConstrainRange { ideal: Some(5000.0), ..Default::default() },
                ..Default::default()
            })
            .is_ok());
    }

    #[test]
    fn a_frame_rate_constraint_alone_decimates_without_resizing() {
        let c = VideoConstraints {
            frame_rate: ConstrainRange { max: Some(10.0), ..Default::default() },
            ..Default::default()
        };
        assert_eq!(c.target_frame_rate(), Some(10.0));
        assert_eq!(c.plan(&meta(640, 360)), Plan::PassThrough);
    }

    #[test]
    fn decimates_30_to_10_and_20() {
        let ts: Vec<i64> = (0..30).map(|i| i * 1_000_000 / 30).collect();
        let mut d = Decimator::default();
        assert_eq!(ts.iter().filter(|&&t| d.admit(t, Some(10.0))).count(), 10);
        let mut d = Decimator::default();
        assert_eq!(ts.iter().filter(|&&t| d.admit(t, Some(20.0))).count(), 20);
        let mut d = Decimator::default();
        assert_eq!(ts.iter().filter(|&&t| d.admit(t, Some(60.0))).count(), 30);
    }

    #[test]
    fn extreme_timestamps_and_rates_do_not_overflow() {
        let mut d = Decimator::default();
        assert!(d.admit(0, Some(1e-15)));
        assert!(!d.admit(1_000_000, Some(1e-15)), "the next frame is due in ~3e7 years");
        let mut d = Decimator::default();
        assert!(d.admit(i64::MAX - 5, Some(30.0)));
        d.admit(i64::MAX - 4, Some(30.0));
        d.admit(i64::MIN, Some(30.0));
        let mut r = RateEstimator::default();
        r.update(-9_000_000_000_000_000_000, None);
        let rate = r.update(9_000_000_000_000_000_000, None).unwrap();
        assert!(rate > 0.0 && rate < 1e-6);
    }

    #[test]
    fn rate_estimate_converges() {
        let mut r = RateEstimator::default();
        let mut last = None;
        for i in 0..50 {
            last = r.update(i * 40_000, None);
        }
        assert!((last.unwrap() - 25.0).abs() < 1e-6);
    }
}
