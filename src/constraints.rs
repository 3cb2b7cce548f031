//! Constrainable properties (mediacapture-main's constraints, specialised as the breakout-box
//! spec does for generator tracks): the one value check, fitness distance and SelectSettings
//! that every source and `applyConstraints` use, settings, capabilities, and the per-track
//! adapter that turns a source frame into what the track's constraints ask for.
//!
//! Sources only list what a device offers (its modes, or the values of one property) and call
//! [`select_settings`]; what "best" means lives here alone.

use crate::error::{err, Error, Result};
use crate::frame::{Rect, VideoMeta};

/// The constrainable properties libmst implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    Width,
    Height,
    AspectRatio,
    FrameRate,
    SampleRate,
    ChannelCount,
    SampleSize,
    /// Media Capture Image's numeric camera controls.
    Control(Control),
    /// Media Capture Image's camera controls whose value is a [`MeteringMode`].
    Mode(ModeControl),
}

impl Property {
    /// The spec's name (what OverconstrainedError's `constraint` says).
    pub fn name(self) -> &'static str {
        match self {
            Property::Width => "width",
            Property::Height => "height",
            Property::AspectRatio => "aspectRatio",
            Property::FrameRate => "frameRate",
            Property::SampleRate => "sampleRate",
            Property::ChannelCount => "channelCount",
            Property::SampleSize => "sampleSize",
            Property::Control(c) => c.name(),
            Property::Mode(m) => m.name(),
        }
    }

    /// The value a device is opened at when nothing asks for another: mediacapture-main's
    /// 640x480 at 30 fps for cameras (the aspect ratio follows from the size), and 48 kHz
    /// stereo 16-bit for microphones. SelectSettings breaks ties by closeness to it.
    pub fn default_value(self) -> Option<f64> {
        match self {
            Property::Width => Some(640.0),
            Property::Height => Some(480.0),
            Property::AspectRatio => None,
            Property::FrameRate => Some(30.0),
            Property::SampleRate => Some(48_000.0),
            Property::ChannelCount => Some(2.0),
            Property::SampleSize => Some(16.0),
            // A camera control keeps its current value unless asked otherwise.
            Property::Control(_) | Property::Mode(_) => None,
        }
    }
}

/// `ConstrainULong` / `ConstrainDouble`: every member optional. `min`, `max` and `exact` are
/// required (a value outside them fails); `ideal` only steers the choice among values that
/// meet them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConstrainRange {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub exact: Option<f64>,
    pub ideal: Option<f64>,
}

/// Relative slack when comparing a value with a required bound: frame rates come from
/// integer fractions (1/30 s) and must still equal the rate they were made from.
const TOLERANCE: f64 = 1e-9;

fn slack(a: f64, b: f64) -> f64 {
    TOLERANCE * a.abs().max(b.abs()).max(1.0)
}

/// mediacapture-main's numeric distance: `|a - b| / max(|a|, |b|)`, 0 when equal.
fn distance(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// `v` moved into `[lo, hi]`; `lo` wins when the bounds cross (by no more than the slack).
fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    v.min(hi).max(lo)
}

impl ConstrainRange {
    /// Bits of a C caller's `present` mask: which members are set.
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 2;
    pub const EXACT: u32 = 4;
    pub const IDEAL: u32 = 8;

    /// The range a C caller describes with a `present` mask of [`Self::MIN`], [`Self::MAX`],
    /// [`Self::EXACT`] and [`Self::IDEAL`] (members whose bit is clear are unset whatever
    /// their value). Errors: InvalidArg for any other bit, in [`validate`](Self::validate)'s
    /// message shape.
    pub fn from_present(
        p: Property,
        present: u32,
        min: f64,
        max: f64,
        exact: f64,
        ideal: f64,
    ) -> Result<ConstrainRange> {
        let unknown = present & !(Self::MIN | Self::MAX | Self::EXACT | Self::IDEAL);
        if unknown != 0 {
            return Err(err!(InvalidArg, "{}: present bits {unknown:#x} are not a constraint member", p.name()));
        }
        let pick = |bit: u32, v: f64| (present & bit != 0).then_some(v);
        Ok(ConstrainRange {
            min: pick(Self::MIN, min),
            max: pick(Self::MAX, max),
            exact: pick(Self::EXACT, exact),
            ideal: pick(Self::IDEAL, ideal),
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == ConstrainRange::default()
    }

    fn members(&self) -> [(&'static str, Option<f64>); 4] {
        [("exact", self.exact), ("min", self.min), ("max", self.max), ("ideal", self.ideal)]
    }

    /// Whether a value can fail it (it has min, max or exact, not only ideal).
    pub fn is_required(&self) -> bool {
        self.min.is_some() || self.max.is_some() || self.exact.is_some()
    }

    /// The values the required members allow: `[max(min, exact), min(max, exact)]`.
    fn required(&self) -> (f64, f64) {
        let lo = self.min.unwrap_or(f64::NEG_INFINITY).max(self.exact.unwrap_or(f64::NEG_INFINITY));
        let hi = self.max.unwrap_or(f64::INFINITY).min(self.exact.unwrap_or(f64::INFINITY));
        (lo, hi)
    }

    /// The check every constraint passes before a device is opened or a track changes, the
    /// same for audio and video. Errors: InvalidArg when a member is NaN or infinite (WebIDL's
    /// `double` refuses them); Overconstrained naming `p` when the required members exclude
    /// each other (min above max, exact outside them): nothing `source` (what the constraints
    /// were asked of, for the message) could offer would meet them.
    pub fn validate(&self, p: Property, source: &str) -> Result<()> {
        for (member, v) in self.members() {
            if let Some(v) = v.filter(|v| !v.is_finite()) {
                return Err(err!(
                    InvalidArg,
                    "{}: {member} {v} is not a constraint value (it must be finite)",
                    p.name()
                ));
            }
        }
        let (lo, hi) = self.required();
        if lo > hi + slack(lo, hi) {
            let (name, asked) = (p.name(), self.describe());
            return Err(Error::overconstrained(
                name,
                format!("{name}: no value satisfies {asked} (asked of {source})"),
            ));
        }
        Ok(())
    }

    /// The required members for messages: "exact 5000", "min 300, max 200" (else the ideal,
    /// else "anything").
    pub fn describe(&self) -> String {
        let show = |members: &[(&str, Option<f64>)]| -> Vec<String> {
            members.iter().filter_map(|(member, v)| v.map(|v| format!("{member} {v}"))).collect()
        };
        let members = self.members();
        let mut shown = show(&members[..3]);
        if shown.is_empty() {
            shown = show(&members[3..]);
        }
        if shown.is_empty() {
            "anything".into()
        } else {
            shown.join(", ")
        }
    }

    /// The value the constraint aims at: `ideal`, else `default`, moved into what the required
    /// members allow. A track settles there within its own range; among a device's values the
    /// one nearest to it breaks ties.
    pub fn aim(&self, default: f64) -> f64 {
        let (lo, hi) = self.required();
        clamp(self.ideal.unwrap_or(default), lo, hi)
    }

    /// How far a device's own value `native` is from what is asked, to break ties between
    /// candidates of equal fitness: first from what the constraint itself wants (its ideal
    /// moved into the required range; without an ideal, the required range), then from `p`'s
    /// default moved into that range. Lower is nearer.
    fn tie_distance(&self, p: Property, native: f64) -> [f64; 2] {
        let (lo, hi) = self.required();
        let wanted = self.ideal.map_or(clamp(native, lo, hi), |ideal| clamp(ideal, lo, hi));
        let default = p.default_value().map_or(0.0, |d| distance(native, self.aim(d)));
        [distance(native, wanted), default]
    }

    /// The values of the continuous range `[lo, hi]` the best one is always among (its ends,
    /// and each member and `p`'s default moved into it), for a device that takes any value
    /// of a range but must be asked for each: test these, then select among those it takes.
    pub fn probes(&self, p: Property, lo: f64, hi: f64) -> Vec<f64> {
        let mut v = vec![lo, hi];
        for x in [self.min, self.max, self.exact, self.ideal, p.default_value()].into_iter().flatten() {
            v.push(clamp(x, lo, hi));
        }
        v
    }

    /// The spec's fitness distance of one property: None (infinity) when no value `offer`
    /// can reach meets the required members; else how far the value the track settles on
    /// (the reachable one nearest to `ideal`) is from `ideal`, 0 without an ideal.
    pub fn fitness_distance(&self, offer: Offer) -> Option<f64> {
        let (lo, hi) = self.required();
        let (lo, hi) = (lo.max(offer.reach.0), hi.min(offer.reach.1));
        if lo > hi + slack(lo, hi) {
            return None;
        }
        Some(self.ideal.map_or(0.0, |ideal| distance(clamp(ideal, lo, hi), ideal)))
    }
}

/// What one candidate (a device mode, a track's capabilities) offers for one property.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Offer {
    /// What the device produces, if it is one value: closeness to what the constraints ask
    /// breaks ties between candidates.
    pub native: Option<f64>,
    /// The values a track can have from it (by cropping, scaling down or decimating), inclusive.
    pub reach: (f64, f64),
}

impl Offer {
    /// A value the track gets as it is.
    pub fn fixed(v: f64) -> Offer {
        Offer { native: Some(v), reach: (v, v) }
    }
}

impl std::fmt::Display for Offer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.reach {
            (lo, hi) if lo == hi => write!(f, "{lo}"),
            (lo, hi) => write!(f, "{lo}..={hi}"),
        }
    }
}

/// mediacapture-main's SelectSettings over `candidates`, as browsers compute it: a candidate
/// that cannot meet a required member of `set` is out; the one with the least fitness
/// distance (the sum over `set`, measured on the values the track settles on) wins; ties go to
/// the candidate whose own values are nearest to what the constraints want, then to the
/// property defaults (both moved into the required ranges), then to the earlier candidate.
/// `offer` says what a candidate offers for a property (None: it lacks the property, which
/// then fails any non-empty constraint, an ideal alone too, as applyConstraints with a video
/// constraint on an audio track always has).
///
/// Err: the property to name in the OverconstrainedError: the first of `set` that no
/// candidate meets on its own (the spec's failedConstraint: with no candidates, the first
/// with a required member), else the first one a candidate failed; None when none is to blame.
pub fn select_settings<C>(
    candidates: &[C],
    set: &[(Property, ConstrainRange)],
    offer: impl Fn(&C, Property) -> Option<Offer>,
) -> std::result::Result<usize, Option<Property>> {
    let fitness = |c: &C, p: Property, r: &ConstrainRange| match offer(c, p) {
        Some(o) => r.fitness_distance(o).map(|d| (d, o.native)),
        None if r.is_empty() => Some((0.0, None)),
        None => None,
    };
    // Fitness distance, then the two tie distances: compared in that order.
    let mut best: Option<(usize, [f64; 3])> = None;
    let mut first_failed = None;
    'candidates: for (i, c) in candidates.iter().enumerate() {
        let mut score = [0.0; 3];
        for (p, r) in set {
            let Some((d, native)) = fitness(c, *p, r) else {
                first_failed.get_or_insert(*p);
                continue 'candidates;
            };
            let [near_wanted, near_default] = native.map_or([0.0; 2], |n| r.tie_distance(*p, n));
            score[0] += d;
            score[1] += near_wanted;
            score[2] += near_default;
        }
        let better = best.is_none_or(|(_, b)| {
            score.iter().zip(b).find(|(s, b)| (**s - *b).abs() > slack(**s, *b)).is_some_and(|(s, b)| *s < b)
        });
        if better {
            best = Some((i, score));
        }
    }
    if let Some((i, _)) = best {
        return Ok(i);
    }
    let alone = set
        .iter()
        .find(|(p, r)| {
            (r.is_required() || !candidates.is_empty()) && candidates.iter().all(|c| fitness(c, *p, r).is_none())
        })
        .map(|(p, _)| *p);
    Err(alone.or(first_failed))
}

/// The OverconstrainedError of a property `source` cannot meet: "{name}: {source} offers
/// {offered}, asked {required members}".
pub fn overconstrained(p: Property, c: &ConstrainRange, source: &str, offered: &str) -> Error {
    Error::overconstrained(p.name(), format!("{}: {source} offers {offered}, asked {}", p.name(), c.describe()))
}

/// The audio constraints a microphone is opened with (`MediaTrackConstraints` for audio).
/// Required members (min, max, exact) that the device cannot meet give OverconstrainedError
/// naming the property; `ideal` only steers the choice.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AudioConstraints {
    /// Hz. Default: 48000 if the device allows it, else the nearest rate it has.
    pub sample_rate: ConstrainRange,
    /// Default: 2 if allowed, else the nearest count.
    pub channel_count: ConstrainRange,
    /// Bits per sample: 8 (u8), 16 (s16), 32 (s32 or f32). Default: 16, else 32, else 8.
    pub sample_size: ConstrainRange,
}

impl AudioConstraints {
    /// The constraint set, in the order failures are named.
    pub fn set(&self) -> [(Property, ConstrainRange); 3] {
        [
            (Property::SampleRate, self.sample_rate),
            (Property::ChannelCount, self.channel_count),
            (Property::SampleSize, self.sample_size),
        ]
    }

    /// [`ConstrainRange::validate`] for every property.
    pub fn validate(&self, source: &str) -> Result<()> {
        self.set().iter().try_for_each(|(p, r)| r.validate(*p, source))
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
    /// Camera controls, set on the device (every track of the camera sees them).
    pub controls: ControlConstraints,
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
    /// The camera controls the device has.
    pub controls: ControlCapabilities,
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
            controls: ControlCapabilities::default(),
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
            controls: ControlCapabilities::default(),
        }
    }

    /// What these capabilities offer for `p`: with resizing, the whole capability range;
    /// without, a fixed source's native value alone. None: `p` is not a capability.
    pub fn offer(&self, p: Property, resize: ResizeMode) -> Option<Offer> {
        let native = self.native.and_then(|(w, h, fps)| match p {
            Property::Width => Some(w as f64),
            Property::Height => Some(h as f64),
            Property::AspectRatio => Some(w as f64 / h as f64),
            Property::FrameRate => Some(fps),
            _ => None,
        });
        let range = match p {
            Property::Width => self.width.map(|(a, b)| (a as f64, b as f64)),
            Property::Height => self.height.map(|(a, b)| (a as f64, b as f64)),
            Property::AspectRatio => self.aspect_ratio,
            Property::FrameRate => self.frame_rate,
            _ => None,
        }?;
        match (resize, native) {
            (ResizeMode::None, Some(v)) => Some(Offer::fixed(v)),
            _ => Some(Offer { native, reach: range }),
        }
    }

    /// applyConstraints' check (SelectSettings over the settings this track can have): the
    /// values first ([`VideoConstraints::validate`]), then OverconstrainedError naming the
    /// first property these capabilities cannot meet.
    pub fn check(&self, c: &VideoConstraints) -> Result<()> {
        c.validate("this track")?;
        let resize = c.effective_resize_mode();
        select_settings(std::slice::from_ref(self), &c.set(), |caps, p| caps.offer(p, resize)).map_err(|failed| {
            let (p, r) = c.set().into_iter().find(|(p, _)| Some(*p) == failed).unwrap_or(c.set()[0]);
            match self.offer(p, resize) {
                Some(o) => overconstrained(p, &r, "this track", &o.to_string()),
                None => Error::overconstrained(p.name(), format!("{} is not a capability of this track", p.name())),
            }
        })?;
        if c.resize_mode.is_some() && !self.resize_modes {
            return Err(Error::overconstrained("resizeMode", "resizeMode is not a capability of this track"));
        }
        // A track with no video capabilities (audio) fails every constraint, an ideal too.
        if self.width.is_none() {
            if let Some(p) = c.controls.first_constrained() {
                return Err(not_a_capability(p, "this track"));
            }
        }
        self.controls.select(&c.controls, &ControlSettings::default(), "this track").map(drop)
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
    pub controls: ControlSettings,
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
    /// The numeric constraint set, in the order failures are named.
    pub fn set(&self) -> [(Property, ConstrainRange); 4] {
        [
            (Property::Width, self.width),
            (Property::Height, self.height),
            (Property::FrameRate, self.frame_rate),
            (Property::AspectRatio, self.aspect_ratio),
        ]
    }

    /// [`ConstrainRange::validate`] for every property, the camera controls' too.
    pub fn validate(&self, source: &str) -> Result<()> {
        self.set().iter().try_for_each(|(p, r)| r.validate(*p, source))?;
        self.controls.validate(source)
    }

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
        // Without an ideal a side stays the source's, within the required range.
        let target = |r: &ConstrainRange, s: f64| r.aim(s).min(s).max(1.0);
        let tw = target(&self.width, sw);
        let th = target(&self.height, sh);
        // Sizes the constraints pin (not only bound from below) give the shape to crop to.
        let pinned = |r: &ConstrainRange| r.exact.is_some() || r.ideal.is_some() || r.max.is_some();
        let ar = self.aspect_ratio.aim(if pinned(&self.width) && pinned(&self.height) { tw / th } else { sw / sh });
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
        // Without an ideal: as fast as the source goes, within the required range.
        Some(self.frame_rate.aim(f64::INFINITY)).filter(|f| f.is_finite() && *f > 0.0)
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

/// Media Capture Image's `MeteringMode`: how a camera sets exposure, white balance or focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeteringMode {
    None,
    Manual,
    SingleShot,
    Continuous,
}

impl MeteringMode {
    pub const ALL: [MeteringMode; 4] =
        [MeteringMode::None, MeteringMode::Manual, MeteringMode::SingleShot, MeteringMode::Continuous];

    pub fn name(self) -> &'static str {
        match self {
            MeteringMode::None => "none",
            MeteringMode::Manual => "manual",
            MeteringMode::SingleShot => "single-shot",
            MeteringMode::Continuous => "continuous",
        }
    }

    pub fn from_name(name: &str) -> Option<MeteringMode> {
        MeteringMode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The mode as a number SelectSettings can compare: equal or not is all that matters.
    fn ordinal(self) -> f64 {
        MeteringMode::ALL.iter().position(|m| *m == self).unwrap_or(0) as f64
    }
}

/// A set of [`MeteringMode`]s: a capability's mode list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModeSet(u8);

impl ModeSet {
    pub fn with(self, m: MeteringMode) -> ModeSet {
        ModeSet(self.0 | 1 << m.ordinal() as u8)
    }

    pub fn contains(self, m: MeteringMode) -> bool {
        self.0 & 1 << m.ordinal() as u8 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// In the spec's enum order.
    pub fn iter(self) -> impl Iterator<Item = MeteringMode> {
        MeteringMode::ALL.into_iter().filter(move |m| self.contains(*m))
    }
}

impl std::fmt::Display for ModeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.iter().map(|m| format!("\"{}\"", m.name())).collect();
        write!(f, "{}", names.join(", "))
    }
}

/// The numeric camera controls (`ConstrainDouble` in constraints, `MediaSettingsRange` in
/// capabilities, `double` in settings), in the order failures are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Brightness,
    Contrast,
    Saturation,
    Sharpness,
    ExposureTime,
    ColorTemperature,
    FocusDistance,
    Zoom,
    Pan,
    Tilt,
}

impl Control {
    pub const ALL: [Control; 10] = [
        Control::Brightness,
        Control::Contrast,
        Control::Saturation,
        Control::Sharpness,
        Control::ExposureTime,
        Control::ColorTemperature,
        Control::FocusDistance,
        Control::Zoom,
        Control::Pan,
        Control::Tilt,
    ];

    pub fn property(self) -> Property {
        Property::Control(self)
    }

    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            Control::Brightness => "brightness",
            Control::Contrast => "contrast",
            Control::Saturation => "saturation",
            Control::Sharpness => "sharpness",
            Control::ExposureTime => "exposureTime",
            Control::ColorTemperature => "colorTemperature",
            Control::FocusDistance => "focusDistance",
            Control::Zoom => "zoom",
            Control::Pan => "pan",
            Control::Tilt => "tilt",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The mode control whose "manual" the value needs: a camera in an automatic mode moves
    /// it itself.
    pub fn mode(self) -> Option<ModeControl> {
        ModeControl::ALL.into_iter().find(|m| m.value() == self)
    }
}

/// The camera controls whose value is a [`MeteringMode`] (`ConstrainDOMString` in
/// constraints, a mode list in capabilities), in the order failures are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeControl {
    Exposure,
    WhiteBalance,
    Focus,
}

impl ModeControl {
    pub const ALL: [ModeControl; 3] = [ModeControl::Exposure, ModeControl::WhiteBalance, ModeControl::Focus];

    pub fn property(self) -> Property {
        Property::Mode(self)
    }

    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            ModeControl::Exposure => "exposureMode",
            ModeControl::WhiteBalance => "whiteBalanceMode",
            ModeControl::Focus => "focusMode",
        }
    }

    /// The value this mode sets automatically unless it is "manual".
    pub fn value(self) -> Control {
        match self {
            ModeControl::Exposure => Control::ExposureTime,
            ModeControl::WhiteBalance => Control::ColorTemperature,
            ModeControl::Focus => Control::FocusDistance,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// `ConstrainDOMString` over [`MeteringMode`]: `exact` is required, `ideal` only steers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConstrainMode {
    pub exact: Option<MeteringMode>,
    pub ideal: Option<MeteringMode>,
}

/// `MediaSettingsRange`: the values `min`, `min + step`, ... up to `max` (any value between
/// them when `step` is 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SettingsRange {
    pub min: f64,
    pub max: f64,
    pub step: f64,
}

impl SettingsRange {
    /// The values of the range on either side of `v` (both `v` itself when it is one).
    fn around(&self, v: f64) -> [f64; 2] {
        let v = clamp(v, self.min, self.max);
        if self.step <= 0.0 {
            return [v, v];
        }
        let k = (v - self.min) / self.step;
        let at = |k: f64| clamp(self.min + k * self.step, self.min, self.max);
        [at(k.floor()), at(k.ceil())]
    }
}

impl std::fmt::Display for SettingsRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..={} step {}", self.min, self.max, self.step)
    }
}

/// The camera-control part of `MediaTrackConstraints`, indexed by [`Control::index`] and
/// [`ModeControl::index`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ControlConstraints {
    pub values: [ConstrainRange; 10],
    pub modes: [ConstrainMode; 3],
}

impl ControlConstraints {
    pub fn is_empty(&self) -> bool {
        *self == ControlConstraints::default()
    }

    /// The first control with a constraint, in the order failures are named.
    pub fn first_constrained(&self) -> Option<Property> {
        let values = Control::ALL.into_iter().filter(|c| !self.values[c.index()].is_empty()).map(Control::property);
        let modes = ModeControl::ALL
            .into_iter()
            .filter(|m| self.modes[m.index()] != ConstrainMode::default())
            .map(ModeControl::property);
        values.chain(modes).next()
    }

    /// [`ConstrainRange::validate`] for every numeric control.
    pub fn validate(&self, source: &str) -> Result<()> {
        Control::ALL.iter().try_for_each(|c| self.values[c.index()].validate(c.property(), source))
    }
}

/// The camera-control part of `MediaTrackCapabilities`: what the device has (None, or an
/// empty set: it lacks the control).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ControlCapabilities {
    pub ranges: [Option<SettingsRange>; 10],
    pub modes: [ModeSet; 3],
}

/// The camera-control part of `MediaTrackSettings`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ControlSettings {
    pub values: [Option<f64>; 10],
    pub modes: [Option<MeteringMode>; 3],
}

fn not_a_capability(p: Property, source: &str) -> Error {
    Error::overconstrained(p.name(), format!("{}: {source} does not have it", p.name()))
}

impl ControlCapabilities {
    /// SelectSettings for each constrained camera control, over the values the device takes
    /// (the spec's algorithm, [`select_settings`], one property at a time: each control is
    /// its own setting). A control without constraints is left out of the result (None); one
    /// that `current` already satisfies keeps its value (the earlier candidate wins ties), else
    /// the value nearest to the ideal, else nearest to the current value, within the required
    /// members. A control the device lacks: a required member is OverconstrainedError naming
    /// it, an ideal alone is ignored (the spec's fitness distance is 0 for a property the
    /// device does not have, unless required).
    ///
    /// exposureTime, colorTemperature and focusDistance hold only in their mode's "manual"
    /// (the camera moves them itself otherwise, and a UVC camera refuses the write). The
    /// Image Capture draft says only that colorTemperature is significant in "manual"
    /// whiteBalanceMode; the rest is libmst's rule: a constraint on one of them whose mode is not constrained sets that
    /// mode to "manual" as well, as a photographer's dial does. When the mode is constrained,
    /// the mode is chosen first, among the modes a required value leaves (only "manual", so a
    /// required value beats an ideal automatic mode); in an automatic mode an ideal value is
    /// not written. Errors: Overconstrained naming the first control no value of the device
    /// meets, in [`overconstrained`]'s message shape, or naming the value (libmst's choice:
    /// the value is what cannot hold) when its required members ask for "manual" and the
    /// mode's exact or the device's modes refuse it.
    pub fn select(&self, c: &ControlConstraints, current: &ControlSettings, source: &str) -> Result<ControlSettings> {
        let mut chosen = ControlSettings::default();
        // The modes first (a value is written only in "manual"); their failures are named
        // after the values', in the order failures are named.
        let mut mode_failed = None;
        for m in ModeControl::ALL {
            match self.select_mode(c, m, current, source) {
                Ok(mode) => chosen.modes[m.index()] = mode,
                Err(e) => {
                    mode_failed.get_or_insert(e);
                }
            }
        }
        for ctl in Control::ALL {
            let (p, r) = (ctl.property(), c.values[ctl.index()]);
            if r.is_empty() {
                continue;
            }
            let Some(range) = self.ranges[ctl.index()] else {
                if r.is_required() {
                    return Err(not_a_capability(p, source));
                }
                continue;
            };
            // An ideal alone does not hold in an automatic mode: it is not written. (A
            // required value there failed in select_mode.)
            if ctl.mode().is_some_and(|m| self.is_automatic(m, chosen.modes[m.index()], current)) {
                continue;
            }
            let (lo, hi) = r.required();
            let now = current.values[ctl.index()];
            // The current value first, then the values nearest to it within the required
            // members: without an ideal every value that meets them ties, and the earliest wins.
            let near_now = now.map(|v| clamp(v, lo, hi));
            let probes = near_now.into_iter().chain(r.probes(p, range.min, range.max));
            let candidates: Vec<f64> = now.into_iter().chain(probes.flat_map(|v| range.around(v))).collect();
            match select_settings(&candidates, &[(p, r)], |v, _| Some(Offer::fixed(*v))) {
                Ok(i) => chosen.values[ctl.index()] = Some(candidates[i]),
                Err(_) => return Err(overconstrained(p, &r, source, &range.to_string())),
            }
        }
        mode_failed.map_or(Ok(chosen), Err)
    }

    /// Whether mode control `m` is (or is about to be) in a mode where the device moves its
    /// value itself: the mode `chosen`, else the current one; a device without the mode
    /// control has only its value.
    fn is_automatic(&self, m: ModeControl, chosen: Option<MeteringMode>, current: &ControlSettings) -> bool {
        !self.modes[m.index()].is_empty()
            && chosen.or(current.modes[m.index()]).is_some_and(|x| x != MeteringMode::Manual)
    }

    /// The mode [`select`](Self::select) chooses for `m` (None: left as it is).
    fn select_mode(
        &self,
        c: &ControlConstraints,
        m: ModeControl,
        current: &ControlSettings,
        source: &str,
    ) -> Result<Option<MeteringMode>> {
        let (p, cm) = (m.property(), c.modes[m.index()]);
        let offered = self.modes[m.index()];
        let value = m.value();
        let v = c.values[value.index()];
        // The value's constraint counts only if the device has the value.
        let v = if self.ranges[value.index()].is_some() { v } else { ConstrainRange::default() };
        let needs_manual = |asked: Option<MeteringMode>| {
            let vp = value.property();
            let asked = asked.map_or(String::new(), |a| format!(", asked {} exact \"{}\"", p.name(), a.name()));
            Error::overconstrained(
                vp.name(),
                format!(
                    "{}: a required value holds only in {} \"manual\"; {source} offers {offered}{asked}",
                    vp.name(),
                    p.name()
                ),
            )
        };
        if cm == ConstrainMode::default() {
            if v.is_empty() || offered.is_empty() {
                return Ok(None);
            }
            if offered.contains(MeteringMode::Manual) {
                return Ok(Some(MeteringMode::Manual));
            }
            // A mode control without "manual": an ideal value is not written, a required
            // one cannot hold.
            return if v.is_required() { Err(needs_manual(None)) } else { Ok(None) };
        }
        if offered.is_empty() {
            if cm.exact.is_some() {
                return Err(not_a_capability(p, source));
            }
            return Ok(None);
        }
        // An ideal mode the device lacks is as far as every other mode (the spec's string
        // distance is 0 or 1): it leaves the choice to the tie-break, the current mode.
        let r = ConstrainRange {
            exact: cm.exact.map(MeteringMode::ordinal),
            ideal: cm.ideal.filter(|i| offered.contains(*i)).map(MeteringMode::ordinal),
            ..Default::default()
        };
        let candidates: Vec<MeteringMode> =
            current.modes[m.index()].filter(|c| offered.contains(*c)).into_iter().chain(offered.iter()).collect();
        let asked = cm.exact.map_or("", MeteringMode::name);
        let Ok(i) = select_settings(&candidates, &[(p, r)], |v, _| Some(Offer::fixed(v.ordinal()))) else {
            return Err(Error::overconstrained(
                p.name(),
                format!("{}: {source} offers {offered}, asked exact \"{asked}\"", p.name()),
            ));
        };
        if !v.is_required() {
            return Ok(Some(candidates[i]));
        }
        // A required value leaves "manual" only: the mode's ideal does not count then.
        match cm.exact {
            Some(MeteringMode::Manual) | None if offered.contains(MeteringMode::Manual) => {
                Ok(Some(MeteringMode::Manual))
            }
            exact => Err(needs_manual(exact)),
        }
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
            received: None,
            color_space: crate::frame::VideoColorSpace::REC709,
            chroma_siting: crate::frame::ChromaSiting::Center,
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

    fn range(min: Option<f64>, max: Option<f64>, exact: Option<f64>, ideal: Option<f64>) -> ConstrainRange {
        ConstrainRange { min, max, exact, ideal }
    }

    const AUDIO: [Property; 3] = [Property::SampleRate, Property::ChannelCount, Property::SampleSize];
    const VIDEO: [Property; 4] = [Property::Width, Property::Height, Property::FrameRate, Property::AspectRatio];

    /// The check a microphone or a camera runs before opening (asked of "d"), with `r` on `p`.
    fn validate_as(p: Property, r: ConstrainRange) -> Result<()> {
        let (mut a, mut v) = (AudioConstraints::default(), VideoConstraints::default());
        match p {
            Property::SampleRate => a.sample_rate = r,
            Property::ChannelCount => a.channel_count = r,
            Property::SampleSize => a.sample_size = r,
            Property::Width => v.width = r,
            Property::Height => v.height = r,
            Property::FrameRate => v.frame_rate = r,
            Property::AspectRatio => v.aspect_ratio = r,
            Property::Control(ctl) => v.controls.values[ctl.index()] = r,
            Property::Mode(_) => panic!("a mode is not a range"),
        }
        if AUDIO.contains(&p) {
            a.validate("d")
        } else {
            v.validate("d")
        }
    }

    #[test]
    fn values_are_checked_alike_for_audio_and_video() {
        use crate::error::ErrorKind;
        for p in AUDIO.into_iter().chain(VIDEO).chain(Control::ALL.map(Control::property)) {
            let name = p.name();
            for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let members = [
                    ("exact", range(None, None, Some(v), None)),
                    ("min", range(Some(v), None, None, None)),
                    ("max", range(None, Some(v), None, None)),
                    ("ideal", range(None, None, None, Some(v))),
                ];
                for (member, r) in members {
                    let e = validate_as(p, r).unwrap_err();
                    assert_eq!((e.kind, e.constraint), (ErrorKind::InvalidArg, None), "{e}");
                    assert_eq!(
                        e.message,
                        format!("{name}: {member} {v} is not a constraint value (it must be finite)")
                    );
                }
            }
            let exclusive = [
                (range(Some(300.0), Some(200.0), None, None), "min 300, max 200"),
                (range(Some(200.0), None, Some(100.0), None), "exact 100, min 200"),
                (range(None, Some(400.0), Some(500.0), Some(450.0)), "exact 500, max 400"),
            ];
            for (r, asked) in exclusive {
                let e = validate_as(p, r).unwrap_err();
                assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some(name)), "{e}");
                assert_eq!(e.message, format!("{name}: no value satisfies {asked} (asked of d)"));
            }
            // An ideal outside the required range only steers; equal bounds are one value.
            assert!(validate_as(p, range(Some(2.0), Some(2.0), Some(2.0), Some(1e300))).is_ok());

            let e = ConstrainRange::from_present(p, 0x30 | ConstrainRange::MIN, 1.0, 0.0, 0.0, 0.0).unwrap_err();
            assert_eq!((e.kind, e.constraint), (ErrorKind::InvalidArg, None), "{e}");
            assert_eq!(e.message, format!("{name}: present bits 0x30 are not a constraint member"));
            let bits = ConstrainRange::EXACT | ConstrainRange::IDEAL;
            assert_eq!(
                ConstrainRange::from_present(p, bits, 9.0, 9.0, 2.0, 3.0),
                Ok(range(None, None, Some(2.0), Some(3.0)))
            );
        }
        // applyConstraints runs the same check first, whatever the track's capabilities.
        let nan = VideoConstraints { frame_rate: range(None, None, Some(f64::NAN), None), ..Default::default() };
        for caps in [Capabilities::default(), Capabilities::any_video(1000.0), Capabilities::fixed_video(64, 48, 30.0)]
        {
            let e = caps.check(&nan).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArg);
            assert_eq!(e.message, "frameRate: exact NaN is not a constraint value (it must be finite)");
        }
    }

    /// SelectSettings over single values of `p`, as a microphone's device offers them.
    fn pick(values: &[f64], p: Property, r: ConstrainRange) -> std::result::Result<usize, Option<Property>> {
        select_settings(values, &[(p, r)], |v, _| Some(Offer::fixed(*v)))
    }

    #[test]
    fn required_members_filter_and_ideal_steers() {
        use Property::{SampleRate, SampleSize};
        // An ALSA device's S16, S32, F32 and U8.
        let sizes = [16.0, 32.0, 32.0, 8.0];
        assert_eq!(pick(&sizes, SampleSize, ConstrainRange::default()), Ok(0), "the default, 16 bits");
        assert_eq!(pick(&sizes, SampleSize, range(None, None, Some(8.0), None)), Ok(3));
        assert_eq!(pick(&sizes, SampleSize, range(None, Some(12.0), None, None)), Ok(3));
        assert_eq!(pick(&sizes, SampleSize, range(Some(20.0), None, None, None)), Ok(1), "S32 before the tied F32");
        // The spec's relative distance: 32 is nearer 24 (8/32) than 16 is (8/24).
        assert_eq!(pick(&sizes, SampleSize, range(None, None, None, Some(24.0))), Ok(1));
        assert_eq!(pick(&sizes, SampleSize, range(None, None, Some(24.0), None)), Err(Some(SampleSize)));

        let rates = [8_000.0, 44_100.0, 48_000.0, 96_000.0];
        // exact is required and ideal only steers: exact wins, and an ideal beyond max goes to max.
        assert_eq!(pick(&rates, SampleRate, range(None, None, Some(44_100.0), Some(96_000.0))), Ok(1));
        assert_eq!(pick(&rates, SampleRate, range(None, Some(48_000.0), None, Some(96_000.0))), Ok(2));
        assert_eq!(pick(&rates, SampleRate, range(None, None, None, Some(47_000.0))), Ok(2));
        assert_eq!(pick(&rates, SampleRate, range(None, None, None, Some(46_000.0))), Ok(1), "1900/46000 < 2000/48000");
        // Without an ideal, the default (48 kHz) moved into the required range breaks ties.
        assert_eq!(pick(&rates, SampleRate, range(Some(9_000.0), None, None, None)), Ok(2));
        assert_eq!(pick(&rates, SampleRate, range(Some(50_000.0), None, None, None)), Ok(3));
        assert_eq!(pick(&rates, SampleRate, range(None, Some(20_000.0), None, None)), Ok(0));
        assert_eq!(pick(&[], SampleRate, range(None, None, None, Some(1.0))), Err(None));
        assert_eq!(pick(&[], SampleRate, range(Some(1.0), None, None, None)), Err(Some(SampleRate)));
    }

    #[test]
    fn a_track_that_crops_scales_and_decimates_is_judged_on_what_it_delivers() {
        let ideal = |v: f64| range(None, None, None, Some(v));
        let select = |modes: &[(u32, u32, f64)], c: VideoConstraints| {
            let resize = c.effective_resize_mode();
            select_settings(modes, &c.set(), |m, p| Capabilities::fixed_video(m.0, m.1, m.2).offer(p, resize))
        };
        // 1280 scales down to exactly 640 (distance 0); 620 cannot grow (distance 0.03).
        let c = VideoConstraints { width: ideal(640.0), ..Default::default() };
        assert_eq!(select(&[(1280, 720, 30.0), (620, 480, 30.0)], c), Ok(0));
        // Among modes that all reach the ideal, the nearest native one: the least scaling.
        assert_eq!(select(&[(1920, 1080, 30.0), (1280, 720, 30.0), (640, 480, 30.0)], c), Ok(2));
        // exact is required, and among the modes that can meet it the nearest native one wins.
        let c = VideoConstraints { width: range(None, None, Some(320.0), None), ..Default::default() };
        assert_eq!(select(&[(640, 480, 30.0), (320, 240, 30.0), (160, 120, 30.0)], c), Ok(1));
        // Decimation: 60 fps serves ideal 30 as well as 30 fps does; the native 30 wins the tie.
        let c = VideoConstraints { frame_rate: ideal(30.0), ..Default::default() };
        assert_eq!(select(&[(640, 480, 60.0), (640, 480, 30.0)], c), Ok(1));
        // Nothing asked: the defaults, 640x480 at 30 fps.
        let modes = [(1280, 720, 30.0), (640, 480, 60.0), (640, 480, 30.0), (320, 240, 30.0)];
        assert_eq!(select(&modes, VideoConstraints::default()), Ok(2));
        // resizeMode "none": the native value itself must meet the constraint.
        let none = Some(ResizeMode::None);
        let c =
            VideoConstraints { width: range(None, None, Some(320.0), None), resize_mode: none, ..Default::default() };
        assert_eq!(select(&modes, c), Ok(3));
        let c =
            VideoConstraints { width: range(None, None, Some(700.0), None), resize_mode: none, ..Default::default() };
        assert_eq!(select(&modes, c), Err(Some(Property::Width)));
        // No property fails on its own for every mode: the first one a mode failed is named.
        let c = VideoConstraints {
            width: range(None, None, Some(640.0), None),
            height: range(None, None, Some(720.0), None),
            resize_mode: none,
            ..Default::default()
        };
        assert_eq!(select(&[(640, 360, 30.0), (1280, 720, 30.0)], c), Err(Some(Property::Height)));
    }

    #[test]
    fn tracks_aim_at_the_ideal_within_the_required_range() {
        let fr = |r: ConstrainRange| VideoConstraints { frame_rate: r, ..Default::default() }.target_frame_rate();
        assert_eq!(fr(range(None, Some(20.0), None, Some(10.0))), Some(10.0), "ideal within max");
        assert_eq!(fr(range(Some(10.0), None, None, Some(5.0))), Some(10.0), "ideal below min");
        assert_eq!(fr(range(None, None, Some(15.0), Some(10.0))), Some(15.0), "exact over ideal");
        assert_eq!(fr(range(None, Some(20.0), None, None)), Some(20.0));
        assert_eq!(fr(range(Some(10.0), None, None, None)), None, "as fast as the source goes");
        // A width with an ideal beyond max scales to max; without an ideal, the source's width.
        let c = VideoConstraints { width: range(None, Some(320.0), None, Some(500.0)), ..Default::default() };
        assert!(matches!(c.plan(&meta(640, 360)), Plan::Scale { width: 320, height: 180, .. }));
        let c = VideoConstraints { width: range(Some(100.0), None, None, None), ..Default::default() };
        assert_eq!(c.plan(&meta(640, 360)), Plan::PassThrough);
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

#[cfg(test)]
mod control_tests {
    use super::*;
    use crate::error::ErrorKind;

    fn caps() -> ControlCapabilities {
        let mut c = ControlCapabilities::default();
        c.ranges[Control::Brightness.index()] = Some(SettingsRange { min: 0.0, max: 255.0, step: 1.0 });
        c.ranges[Control::Zoom.index()] = Some(SettingsRange { min: 100.0, max: 500.0, step: 50.0 });
        c.modes[ModeControl::Exposure.index()] =
            ModeSet::default().with(MeteringMode::Manual).with(MeteringMode::Continuous);
        c
    }

    fn now() -> ControlSettings {
        let mut s = ControlSettings::default();
        s.values[Control::Brightness.index()] = Some(128.0);
        s.values[Control::Zoom.index()] = Some(100.0);
        s.modes[ModeControl::Exposure.index()] = Some(MeteringMode::Continuous);
        s
    }

    fn with(ctl: Control, r: ConstrainRange) -> ControlConstraints {
        let mut c = ControlConstraints::default();
        c.values[ctl.index()] = r;
        c
    }

    fn value(ctl: Control, r: ConstrainRange) -> Result<Option<f64>> {
        caps().select(&with(ctl, r), &now(), "the camera").map(|s| s.values[ctl.index()])
    }

    fn r(min: Option<f64>, max: Option<f64>, exact: Option<f64>, ideal: Option<f64>) -> ConstrainRange {
        ConstrainRange { min, max, exact, ideal }
    }

    #[test]
    fn numeric_controls_select_within_the_devices_steps() {
        use Control::{Brightness, Zoom};
        assert_eq!(value(Brightness, ConstrainRange::default()).unwrap(), None, "unconstrained: untouched");
        assert_eq!(value(Brightness, r(None, None, None, Some(200.0))).unwrap(), Some(200.0));
        assert_eq!(value(Brightness, r(None, None, None, Some(999.0))).unwrap(), Some(255.0), "ideal beyond max");
        assert_eq!(value(Brightness, r(None, None, Some(3.0), None)).unwrap(), Some(3.0));
        // Required members the current value meets keep it; else the nearest value that meets them.
        assert_eq!(value(Brightness, r(Some(100.0), None, None, None)).unwrap(), Some(128.0));
        assert_eq!(value(Brightness, r(Some(150.0), None, None, None)).unwrap(), Some(150.0));
        assert_eq!(value(Brightness, r(None, Some(20.5), None, None)).unwrap(), Some(20.0));
        // Zoom moves in steps of 50 from 100: the ideal goes to the nearest step, a bound to the
        // nearest step inside it, an exact value between steps cannot be had.
        assert_eq!(value(Zoom, r(None, None, None, Some(230.0))).unwrap(), Some(250.0));
        assert_eq!(value(Zoom, r(Some(120.0), None, None, None)).unwrap(), Some(150.0));
        assert_eq!(value(Zoom, r(Some(120.0), Some(140.0), None, None)).unwrap_err().constraint, Some("zoom"));
        let e = value(Zoom, r(None, None, Some(125.0), None)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Overconstrained);
        assert_eq!(e.message, "zoom: the camera offers 100..=500 step 50, asked exact 125");
        let e = value(Brightness, r(Some(300.0), None, None, None)).unwrap_err();
        assert_eq!(e.constraint, Some("brightness"));
    }

    #[test]
    fn a_control_the_device_lacks_fails_required_members_only() {
        let e = value(Control::Pan, r(None, None, Some(0.0), None)).unwrap_err();
        assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("pan")));
        assert_eq!(e.message, "pan: the camera does not have it");
        assert_eq!(value(Control::Pan, r(None, None, None, Some(10.0))).unwrap(), None);
        let mut c = ControlConstraints::default();
        c.modes[ModeControl::Focus.index()] = ConstrainMode { exact: None, ideal: Some(MeteringMode::Manual) };
        assert_eq!(caps().select(&c, &now(), "the camera").unwrap(), ControlSettings::default());
        c.modes[ModeControl::Focus.index()].exact = Some(MeteringMode::Manual);
        assert_eq!(caps().select(&c, &now(), "the camera").unwrap_err().constraint, Some("focusMode"));
    }

    #[test]
    fn modes_take_the_exact_or_offered_ideal_else_stay() {
        let exposure = |exact, ideal| {
            let mut c = ControlConstraints::default();
            c.modes[ModeControl::Exposure.index()] = ConstrainMode { exact, ideal };
            caps().select(&c, &now(), "the camera").map(|s| s.modes[ModeControl::Exposure.index()])
        };
        use MeteringMode::{Continuous, Manual, SingleShot};
        assert_eq!(exposure(None, Some(Manual)).unwrap(), Some(Manual));
        assert_eq!(exposure(Some(Manual), Some(Continuous)).unwrap(), Some(Manual));
        assert_eq!(exposure(None, Some(SingleShot)).unwrap(), Some(Continuous), "not offered: the current mode");
        let e = exposure(Some(SingleShot), None).unwrap_err();
        assert_eq!(e.constraint, Some("exposureMode"));
        assert_eq!(
            e.message,
            "exposureMode: the camera offers \"manual\", \"continuous\", asked exact \"single-shot\""
        );
    }

    #[test]
    fn a_value_holds_only_in_its_manual_mode() {
        use MeteringMode::{Continuous, Manual};
        let mut caps = caps();
        caps.ranges[Control::ExposureTime.index()] = Some(SettingsRange { min: 3.0, max: 2047.0, step: 1.0 });
        let mut now = now();
        now.values[Control::ExposureTime.index()] = Some(156.0);
        let exposure = |caps: &ControlCapabilities, time: ConstrainRange, mode: ConstrainMode| {
            let mut c = with(Control::ExposureTime, time);
            c.modes[ModeControl::Exposure.index()] = mode;
            caps.select(&c, &now, "the camera")
                .map(|s| (s.modes[ModeControl::Exposure.index()], s.values[Control::ExposureTime.index()]))
        };
        let any = ConstrainMode::default();
        let exact_mode = |m| ConstrainMode { exact: Some(m), ideal: None };
        let ideal_mode = |m| ConstrainMode { exact: None, ideal: Some(m) };
        // The mode unconstrained: a value, ideal or required, sets "manual" with it.
        assert_eq!(exposure(&caps, r(None, None, None, Some(100.0)), any).unwrap(), (Some(Manual), Some(100.0)));
        assert_eq!(exposure(&caps, r(None, None, Some(100.0), None), any).unwrap(), (Some(Manual), Some(100.0)));
        // An automatic mode asked for: an ideal value is not written.
        assert_eq!(
            exposure(&caps, r(None, None, None, Some(100.0)), exact_mode(Continuous)).unwrap(),
            (Some(Continuous), None)
        );
        assert_eq!(
            exposure(&caps, r(None, None, None, Some(100.0)), ideal_mode(Continuous)).unwrap(),
            (Some(Continuous), None)
        );
        // A required value leaves only "manual": an ideal mode gives way, an exact one fails,
        // naming the value.
        assert_eq!(
            exposure(&caps, r(Some(50.0), None, None, None), ideal_mode(Continuous)).unwrap(),
            (Some(Manual), Some(156.0))
        );
        let e = exposure(&caps, r(None, Some(100.0), None, None), exact_mode(Continuous)).unwrap_err();
        assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("exposureTime")));
        assert_eq!(
            e.message,
            "exposureTime: a required value holds only in exposureMode \"manual\"; the camera offers \"manual\", \
             \"continuous\", asked exposureMode exact \"continuous\""
        );
        // A mode control without "manual": an ideal value is left to the camera, a required
        // one cannot hold.
        caps.modes[ModeControl::Exposure.index()] = ModeSet::default().with(Continuous);
        assert_eq!(exposure(&caps, r(None, None, None, Some(100.0)), any).unwrap(), (None, None));
        let e = exposure(&caps, r(None, None, Some(100.0), None), any).unwrap_err();
        assert_eq!(e.constraint, Some("exposureTime"));
        assert_eq!(
            e.message,
            "exposureTime: a required value holds only in exposureMode \"manual\"; the camera offers \"continuous\""
        );
        // A camera without the mode control has only the value: it is written as it is.
        caps.modes[ModeControl::Exposure.index()] = ModeSet::default();
        assert_eq!(exposure(&caps, r(None, None, Some(100.0), None), any).unwrap(), (None, Some(100.0)));
        // A value the device lacks does not move its mode.
        let mut c = with(Control::ColorTemperature, r(None, None, None, Some(5000.0)));
        c.modes[ModeControl::Exposure.index()] = any;
        assert_eq!(caps.select(&c, &now, "the camera").unwrap(), ControlSettings::default());
    }

    #[test]
    fn a_track_without_controls_checks_them_as_the_spec_says() {
        let track = Capabilities::fixed_video(64, 48, 30.0);
        let c = VideoConstraints {
            controls: with(Control::Brightness, r(None, None, None, Some(1.0))),
            ..Default::default()
        };
        track.check(&c).unwrap();
        assert_eq!(c.effective_resize_mode(), ResizeMode::None, "controls do not make the track resize");
        let c = VideoConstraints {
            controls: with(Control::Brightness, r(Some(1.0), None, None, None)),
            ..Default::default()
        };
        assert_eq!(track.check(&c).unwrap_err().constraint, Some("brightness"));
        let c = VideoConstraints {
            controls: with(Control::Tilt, r(None, None, None, Some(f64::NAN))),
            ..Default::default()
        };
        assert_eq!(track.check(&c).unwrap_err().kind, ErrorKind::InvalidArg);
        // An audio track has no video capabilities: every constraint fails, an ideal too.
        let c =
            VideoConstraints { controls: with(Control::Zoom, r(None, None, None, Some(1.0))), ..Default::default() };
        assert_eq!(Capabilities::default().check(&c).unwrap_err().constraint, Some("zoom"));
    }
}
