//! `mst`: list devices, record, snapshot and inspect tracks from the shell, on libmst's safe
//! Rust API (the same core the C ABI wraps).
//!
//! Arguments are parsed by hand: every verb takes a few `--name value` options and one or two
//! positionals, which ~100 lines cover without a dependency.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mst::constraints::{AudioConstraints, ConstrainRange};
use mst::device::{self, DeviceKind};
use mst::frame::{AudioCopyOptions, AudioDataInit, VideoCopyOptions};
use mst::sink::alsa::AudioPlayback;
use mst::sink::file::FileSink;
use mst::sink::v4l2::VideoOutput;
use mst::source::synthetic::{self, TestPatternOptions, ToneOptions};
use mst::source::v4l2::{self as camera, CameraOptions};
use mst::{
    AudioSampleFormat, EndReason, ErrorKind, Frame, Generator, Kind, Processor, ProcessorOptions, Track,
    VideoConstraints, VideoPixelFormat, Wait,
};

const EXIT_OK: i32 = 0;
const EXIT_FAILURE: i32 = 1;
const EXIT_USAGE: i32 = 2;
const EXIT_NO_DEVICE: i32 = 3;
const EXIT_DEVICE_LOST: i32 = 4;

const EXIT_CODES: &str = "\
Exit status:
  0  success (also when Ctrl-C ends a recording: the file is complete)
  1  runtime failure (I/O error, device busy, the source failed)
  2  bad argument or usage
  3  no such device (or no device of the kind asked for)
  4  the device was lost (unplugged) while running; what was recorded is kept
";

const EVERY_VERB: &str = "\
Every verb takes:
  -v, --verbose   print the log of libmst and of the libraries it calls (alsa-lib) on stderr,
                  each line prefixed \"mst: log: \"; without it nothing but mst's own messages
                  reaches stderr
  -h, --help      this help
";

const USAGE: &str = "\
Usage: mst VERB [ARGS...]

Verbs:
  devices         list cameras, microphones, speakers and video outputs
  record          record a source to a Y4M, WAV or PNG file
  snapshot        save one video frame as a PNG
  info            a track's capabilities and settings
  play            play a WAV file on a speaker
  virtual-camera  send a video source to a V4L2 output (a virtual camera)
  help VERB       help on VERB (as VERB --help)

SOURCE is a device id from `mst devices`, `test-pattern` or `tone`.
";

const HELP_DEVICES: &str = "\
Usage: mst devices [--watch]

Lists the devices libmst can open, each with its id (what SOURCE and DEVICE take), label, group
(devices on the same hardware share it) and what it offers as libmst opens it:
  camera         mode: FOURCC WIDTHxHEIGHT @ its frame rates, one line per format and size
  microphone,    sample formats (s16, s32, f32, u8), channels (the counts it takes) and
  speaker        sample rates (its range in Hz, then the common rates it takes)
  video-output   format: YU12 or NV12 (YM12, NM12 on a multi-planar node offering only those),
                 with the sizes its driver accepts
Each device is opened to read this: one that cannot be opened is left out (--verbose says why),
one that another program holds is listed with a busy: line. ALSA's \"default\" input or output
is listed only when a sound card offers that direction.

  --watch   keep running, looking again each time the set of devices changes, and print each
            arrival (+ KIND ID (LABEL), then what it offers) and removal (- KIND ID (LABEL))
            until Ctrl-C
";

const HELP_RECORD: &str = "\
Usage: mst record SOURCE -o FILE [--seconds N | --frames N] [options]

Records SOURCE into FILE; FILE's extension picks the format:
  .y4m   video, I420 (YUV4MPEG2)
  .wav   audio, the source's sample format interleaved
  .png   video: the first frame; with a printf-style %d (frame-%04d.png) one PNG per frame,
         numbered from 1
Without --seconds or --frames, records until Ctrl-C (which finishes the file cleanly) or until
the source ends. test-pattern and tone are not recorded in real time but as fast as the file
is written (no frame is lost): without a limit they fill the disk quickly. On a terminal, a
status line shows the time and, for video, the frames and frames per second; for audio, the
seconds of audio and chunks per second, and the peak level in dBFS; and the drops.

  -o, --output FILE   where to write
  --seconds N         stop after N seconds of media (video by timestamps; audio by its
                      sample count, cut exactly)
  --frames N          stop after N video frames or N audio sample frames
  --width W, --height H, --fps F
                      video size and rate (test-pattern: exactly; cameras: ideal values);
                      refused for an audio source
  --rate HZ, --channels N
                      audio rate and channel count (tone: exactly; microphones: ideal
                      values); refused for a video source
";

const HELP_SNAPSHOT: &str = "\
Usage: mst snapshot SOURCE -o FILE.png [--warmup N] [--width W --height H --fps F]

Saves one frame of the video SOURCE as an RGB PNG (RGBA when the frame has alpha), after
skipping N frames (default: 0 for test-pattern, 5 for a camera, whose first frames are often
dark while its exposure settles).
";

const HELP_INFO: &str = "\
Usage: mst info SOURCE

Opens SOURCE and prints its track's id, kind, label, state, capabilities and settings as the
API reports them once the first frame has arrived (settings describe the latest frame; they
stay - when none arrives within 5 s), then closes it. Takes the shape options of `record`.
";

const HELP_PLAY: &str = "\
Usage: mst play FILE.wav [DEVICE]

Plays a PCM WAV file (8, 16 or 32-bit integer or 32-bit float) on the speaker DEVICE (an id
from `mst devices`; default: ALSA's \"default\"), until it ends or Ctrl-C.
";

const HELP_VIRTUAL_CAMERA: &str = "\
Usage: mst virtual-camera SOURCE [DEVICE] [--seconds N | --frames N] [--width W --height H --fps F]

Sends the video SOURCE to the V4L2 output DEVICE (an id from `mst devices`; default: the first
video output, e.g. a v4l2loopback node), until Ctrl-C, the limit or the source's end.
";

const VERBS: [&str; 6] = ["devices", "record", "snapshot", "info", "play", "virtual-camera"];

fn verb_help(verb: &str) -> Option<&'static str> {
    Some(match verb {
        "devices" => HELP_DEVICES,
        "record" => HELP_RECORD,
        "snapshot" => HELP_SNAPSHOT,
        "info" => HELP_INFO,
        "play" => HELP_PLAY,
        "virtual-camera" => HELP_VIRTUAL_CAMERA,
        _ => return None,
    })
}

/// `text` for roff, kept as it is laid out: backslashes and minus signs escaped, a line that
/// starts with a control character ('.' or ') guarded.
fn roff(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.replace('\\', "\\e").replace('-', "\\-");
        if line.starts_with('.') || line.starts_with('\'') {
            out.push_str("\\&");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The man page, made of the help texts themselves (doc/mst.1 is this output, and a test keeps
/// it so): `mst --man > doc/mst.1` after changing any help.
fn man_page() -> String {
    let block = |text: &str| format!(".nf\n{}.fi\n", roff(text));
    let mut page = format!(
        ".\\\" Written by `mst --man` from the command's help texts; do not edit.\n\
         .TH MST 1 \"\" \"libmst {}\" \"User Commands\"\n\
         .SH NAME\nmst \\- list devices, record, snapshot and inspect media tracks with libmst\n\
         .SH SYNOPSIS\n",
        env!("CARGO_PKG_VERSION")
    );
    page += &block(USAGE);
    page += ".SH VERBS\n";
    for verb in VERBS {
        page += &format!(".SS {verb}\n{}", block(verb_help(verb).expect("every verb has help")));
    }
    page += &format!(".SH OPTIONS\n{}.SH EXIT STATUS\n{}", block(EVERY_VERB), block(EXIT_CODES));
    page
}

/// Why the command stops: its exit status and what to tell the user.
struct Fail {
    code: i32,
    message: String,
}

impl Fail {
    fn usage(message: impl Into<String>) -> Fail {
        Fail { code: EXIT_USAGE, message: message.into() }
    }

    fn runtime(message: impl Into<String>) -> Fail {
        Fail { code: EXIT_FAILURE, message: message.into() }
    }
}

impl From<mst::Error> for Fail {
    fn from(e: mst::Error) -> Fail {
        let code = match e.kind {
            ErrorKind::NoDevice => EXIT_NO_DEVICE,
            ErrorKind::InvalidArg | ErrorKind::Overconstrained | ErrorKind::Range => EXIT_USAGE,
            _ => EXIT_FAILURE,
        };
        // The message alone: the kind is for programs (the exit status says it here).
        Fail { code, message: e.message.into_owned() }
    }
}

/// A sink's error after it opened: a device that went away is exit 4, not 3 (no such device).
fn sink_fail(e: mst::Error) -> Fail {
    let lost = e.kind == ErrorKind::NoDevice;
    let mut f = Fail::from(e);
    if lost {
        f.code = EXIT_DEVICE_LOST;
    }
    f
}

type Res<T> = std::result::Result<T, Fail>;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Ctrl-C and SIGTERM set a flag the loops poll (at least every 100 ms), so a recording is
/// finished rather than cut off; a second one takes the default action (SA_RESETHAND), so a
/// finish that hangs can still be interrupted. No SA_RESTART is needed: nothing blocks on a
/// system call for longer than the poll period.
fn catch_signals() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe; the sigaction
    // struct is zeroed (an empty mask) before its handler and flags are set.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        sa.sa_flags = libc::SA_RESETHAND;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
    }
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// A verb's arguments: positionals in order, and `--name value` options by name.
struct Args {
    positional: Vec<String>,
    options: HashMap<&'static str, String>,
    flags: Vec<&'static str>,
}

/// Parses `args` for a verb whose options taking a value are `valued` and whose flags are
/// `flags` (names without dashes; `-o` is `output`). `--name=value` works too.
fn parse(args: &[String], valued: &[&'static str], flags: &[&'static str]) -> Res<Args> {
    let mut out = Args { positional: Vec::new(), options: HashMap::new(), flags: Vec::new() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = if a == "-o" {
            "output"
        } else if let Some(n) = a.strip_prefix("--") {
            n
        } else if a.starts_with('-') && a.len() > 1 {
            return Err(Fail::usage(format!("unknown option {a:?}")));
        } else {
            out.positional.push(a.clone());
            continue;
        };
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (name, None),
        };
        if let Some(&f) = flags.iter().find(|f| **f == name) {
            if inline.is_some() {
                return Err(Fail::usage(format!("--{name} takes no value")));
            }
            out.flags.push(f);
        } else if let Some(&v) = valued.iter().find(|v| **v == name) {
            let value = match inline {
                Some(v) => v,
                None => it.next().cloned().ok_or_else(|| Fail::usage(format!("--{name} needs a value")))?,
            };
            if out.options.insert(v, value).is_some() {
                return Err(Fail::usage(format!("--{name} is given twice")));
            }
        } else {
            return Err(Fail::usage(format!("unknown option {a:?}")));
        }
    }
    Ok(out)
}

impl Args {
    fn number<T: std::str::FromStr>(&self, name: &str, ok: impl Fn(&T) -> bool) -> Res<Option<T>> {
        match self.options.get(name) {
            None => Ok(None),
            Some(s) => match s.parse::<T>() {
                Ok(v) if ok(&v) => Ok(Some(v)),
                _ => Err(Fail::usage(format!("--{name} {s:?} is not a valid value"))),
            },
        }
    }

    fn positionals(&self, min: usize, max: usize, what: &str) -> Res<&[String]> {
        let n = self.positional.len();
        if n < min || n > max {
            return Err(Fail::usage(format!("expected {what}")));
        }
        Ok(&self.positional)
    }
}

/// The video and audio shape asked for on the command line.
#[derive(Default)]
struct Shape {
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<f64>,
    rate: Option<u32>,
    channels: Option<u32>,
}

const SHAPE_OPTIONS: [&str; 5] = ["width", "height", "fps", "rate", "channels"];

fn shape(a: &Args) -> Res<Shape> {
    Ok(Shape {
        width: a.number("width", |v: &u32| *v > 0)?,
        height: a.number("height", |v: &u32| *v > 0)?,
        fps: a.number("fps", |v: &f64| v.is_finite() && *v > 0.0)?,
        rate: a.number("rate", |v: &u32| *v > 0)?,
        channels: a.number("channels", |v: &u32| *v > 0)?,
    })
}

fn ideal(v: Option<f64>) -> ConstrainRange {
    ConstrainRange { ideal: v, ..Default::default() }
}

/// How a built-in source runs: in real time (a live feed) or as fast as the reader takes its
/// frames, waiting for it however slow it is (a recording, which then loses none, even when
/// each frame takes longer to write than the source takes to make it, and takes no longer
/// than writing does).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pace {
    RealTime,
    AsFastAsRead,
}

/// Refuses the shape options that do not apply to a `kind` source: they would be ignored, and
/// a user who gives them expects them to count.
fn applies(s: &Shape, kind: Kind, source: &str) -> Res<()> {
    let given: &[(&str, bool)] = match kind {
        Kind::Video => &[("--rate", s.rate.is_some()), ("--channels", s.channels.is_some())],
        Kind::Audio => &[("--width", s.width.is_some()), ("--height", s.height.is_some()), ("--fps", s.fps.is_some())],
    };
    match given.iter().find(|(_, g)| *g) {
        Some((name, _)) => Err(Fail::usage(format!("{name} does not apply to {source}, which gives {}", kind.name()))),
        None => Ok(()),
    }
}

/// Opens SOURCE: the test pattern, the tone, or a camera or microphone by its device id.
fn open_source(source: &str, s: &Shape, pace: Pace) -> Res<Track> {
    let track = match source {
        "test-pattern" => {
            applies(s, Kind::Video, source)?;
            let d = TestPatternOptions::default();
            let o = TestPatternOptions {
                width: s.width.unwrap_or(d.width),
                height: s.height.unwrap_or(d.height),
                frame_rate: s.fps.unwrap_or(d.frame_rate),
                ..d
            };
            match pace {
                Pace::RealTime => synthetic::test_pattern(&o)?,
                Pace::AsFastAsRead => synthetic::test_pattern_lossless(&o)?,
            }
        }
        "tone" => {
            applies(s, Kind::Audio, source)?;
            let d = ToneOptions::default();
            let o = ToneOptions {
                sample_rate: s.rate.unwrap_or(d.sample_rate),
                channels: s.channels.unwrap_or(d.channels),
                ..d
            };
            match pace {
                Pace::RealTime => synthetic::tone(&o)?,
                Pace::AsFastAsRead => synthetic::tone_lossless(&o)?,
            }
        }
        id => {
            let list = device::enumerate()?;
            let found = |k| list.iter().any(|d| d.kind == k && d.device_id == id);
            if found(DeviceKind::VideoInput) {
                applies(s, Kind::Video, id)?;
                let c = VideoConstraints {
                    width: ideal(s.width.map(f64::from)),
                    height: ideal(s.height.map(f64::from)),
                    frame_rate: ideal(s.fps),
                    ..Default::default()
                };
                camera::camera(id, &c, &CameraOptions::default())?
            } else if found(DeviceKind::AudioInput) {
                applies(s, Kind::Audio, id)?;
                let c = AudioConstraints {
                    sample_rate: ideal(s.rate.map(f64::from)),
                    channel_count: ideal(s.channels.map(f64::from)),
                    ..Default::default()
                };
                mst::source::alsa::microphone(id, &c)?
            } else {
                return Err(Fail {
                    code: EXIT_NO_DEVICE,
                    message: format!("no camera or microphone {id:?} (see `mst devices`)"),
                });
            }
        }
    };
    Ok(track)
}

/// The exit status for a track that ended by itself: 0 when its source finished, 4 when the
/// device went away, 1 when the source failed.
fn ended(track: &Track) -> Res<()> {
    match track.end_reason() {
        Some(EndReason::DeviceLost) => {
            Err(Fail { code: EXIT_DEVICE_LOST, message: format!("{}: the device was lost", track.label()) })
        }
        Some(EndReason::Error) => {
            let why = track.source().error().map(|e| e.message.to_string()).unwrap_or_else(|| "unknown error".into());
            Err(Fail { code: EXIT_FAILURE, message: format!("{}: the source failed: {why}", track.label()) })
        }
        _ => Ok(()),
    }
}

fn main() {
    // A closed stdout (`mst devices | head`) ends the command quietly, as for other tools,
    // instead of the panic Rust's ignored SIGPIPE turns a failed print into.
    // SAFETY: restoring a signal's default disposition has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // alsa-lib would print its own lines to stderr before mst's one-line error (a missing
    // card gives up to eight): on this thread, as on libmst's own, they go to the (silent) log.
    mst::log::AlsaErrorsToLog::for_this_thread();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&args) {
        Ok(()) => EXIT_OK,
        Err(f) => {
            eprintln!("mst: {}", f.message);
            if f.code == EXIT_USAGE {
                eprintln!("Try `mst help` or `mst VERB --help`.");
            }
            f.code
        }
    };
    std::process::exit(code);
}

/// Routes libmst's log (the same one `mst_set_log_callback` receives) to stderr, every level.
fn verbose_log() {
    mst::log::set_max_level(mst::log::Level::Debug);
    mst::log::set_receiver(Some(std::sync::Arc::new(|level, origin: mst::log::Origin, message: &std::ffi::CStr| {
        let level = match level {
            mst::log::Level::Error => "error",
            mst::log::Level::Warning => "warning",
            mst::log::Level::Info => "info",
            mst::log::Level::Debug => "debug",
        };
        eprintln!("mst: log: {} {level}: {}", origin.name().to_string_lossy(), message.to_string_lossy());
    })));
}

fn run(args: &[String]) -> Res<()> {
    // -v / --verbose is the same for every verb and in any place: taken out before parsing.
    let verbose = |a: &String| a == "-v" || a == "--verbose";
    if args.iter().any(verbose) {
        verbose_log();
    }
    let args: Vec<String> = args.iter().filter(|a| !verbose(a)).cloned().collect();
    let Some(verb) = args.first() else {
        eprint!("{USAGE}");
        return Err(Fail::usage("no verb given"));
    };
    let rest = &args[1..];
    match verb.as_str() {
        "-h" | "--help" => {
            print!("{USAGE}\n{EVERY_VERB}\n{EXIT_CODES}");
            return Ok(());
        }
        // Not in the help: it writes doc/mst.1.
        "--man" => {
            print!("{}", man_page());
            return Ok(());
        }
        "--version" | "-V" => {
            println!("mst {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        "help" => {
            match rest.first() {
                None => print!("{USAGE}\n{EVERY_VERB}\n{EXIT_CODES}"),
                Some(v) => match verb_help(v) {
                    Some(h) => print!("{h}\n{EVERY_VERB}\n{EXIT_CODES}"),
                    None => return Err(Fail::usage(format!("no verb {v:?}"))),
                },
            }
            return Ok(());
        }
        _ => {}
    }
    let Some(help) = verb_help(verb) else {
        return Err(Fail::usage(format!("no verb {verb:?}")));
    };
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{help}\n{EVERY_VERB}\n{EXIT_CODES}");
        return Ok(());
    }
    catch_signals();
    match verb.as_str() {
        "devices" => devices(&parse(rest, &[], &["watch"])?),
        "record" => record(&parse(rest, &[&["output", "seconds", "frames"][..], &SHAPE_OPTIONS].concat(), &[])?),
        "snapshot" => snapshot(&parse(rest, &[&["output", "warmup"][..], &SHAPE_OPTIONS].concat(), &[])?),
        "info" => info(&parse(rest, &SHAPE_OPTIONS, &[])?),
        "play" => play(&parse(rest, &[], &[])?),
        _ => virtual_camera(&parse(rest, &[&["seconds", "frames"][..], &SHAPE_OPTIONS].concat(), &[])?),
    }
}

fn kind_name(k: DeviceKind) -> &'static str {
    match k {
        DeviceKind::VideoInput => "camera",
        DeviceKind::AudioInput => "microphone",
        DeviceKind::AudioOutput => "speaker",
        DeviceKind::VideoOutput => "video-output",
    }
}

/// The devices that may open, from enumeration alone (nothing is opened: `--watch` calls this
/// on every change, and opening a hw PCM even briefly can make another program's open fail
/// with EBUSY). ALSA's "default" PCM is kept for a direction only when a card has a PCM of
/// that direction: with no card it never opens. [`entry`] then opens each to list it.
fn candidate_devices() -> Res<Vec<device::DeviceInfo>> {
    let list = device::enumerate()?;
    let has_card = |k| list.iter().any(|d| d.kind == k && d.device_id != "default");
    let keep: Vec<bool> = list.iter().map(|d| d.device_id != "default" || has_card(d.kind)).collect();
    let mut list: Vec<_> = list.into_iter().zip(keep).filter(|(_, k)| *k).map(|(d, _)| d).collect();
    // Cameras first, as people look for them first; within a kind, enumeration's order.
    list.sort_by_key(|d| KINDS.iter().position(|k| *k == d.kind));
    Ok(list)
}

/// The order of the listing.
const KINDS: [DeviceKind; 4] =
    [DeviceKind::VideoInput, DeviceKind::AudioInput, DeviceKind::AudioOutput, DeviceKind::VideoOutput];

/// `values` as text, runs of consecutive numbers as ranges: "1..=8", "1, 2, 4, 6".
fn counts_text(values: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &v in values {
        match runs.last_mut() {
            Some((_, hi)) if *hi + 1 == v => *hi = v,
            _ => runs.push((v, v)),
        }
    }
    let text = |(lo, hi): (u32, u32)| match hi - lo {
        0 => lo.to_string(),
        1 => format!("{lo}, {hi}"),
        _ => format!("{lo}..={hi}"),
    };
    runs.into_iter().map(text).collect::<Vec<_>>().join(", ")
}

/// What the device offers libmst, as the lines under its entry, read the way opening it reads
/// them: a camera's modes, a PCM's sample formats, channel counts and rates, an output node's
/// formats and sizes. An error means it cannot be opened now.
fn offers(d: &device::DeviceInfo) -> mst::Result<Vec<String>> {
    let mut lines = Vec::new();
    match d.kind {
        DeviceKind::VideoInput => {
            // One line per format and size, with its frame rates.
            let mut modes: Vec<(String, Vec<String>)> = Vec::new();
            for m in camera::camera_modes(&d.device_id)? {
                let key = format!("{} {}x{}", String::from_utf8_lossy(&m.format.fourcc()), m.width, m.height);
                let rate = fps_text(m.frame_rate());
                match modes.last_mut() {
                    Some((k, rates)) if *k == key => rates.push(rate),
                    _ => modes.push((key, vec![rate])),
                }
            }
            lines.extend(modes.into_iter().map(|(key, rates)| format!("mode: {key} @ {} fps", rates.join(", "))));
        }
        DeviceKind::AudioInput | DeviceKind::AudioOutput => {
            let o = device::alsa::pcm_offer(&d.device_id, d.kind)?;
            let formats: Vec<&str> = o.formats.iter().map(|f| f.name()).collect();
            lines.push(format!("sample formats: {}", formats.join(", ")));
            lines.push(format!("channels: {}", counts_text(&o.channels)));
            let common: Vec<String> = o.rates.iter().map(u32::to_string).collect();
            let (lo, hi) = o.rate_range;
            let range = if lo == hi { format!("{lo} Hz") } else { format!("{lo}..={hi} Hz") };
            lines.push(format!("sample rates: {range} ({})", common.join(", ")));
        }
        DeviceKind::VideoOutput => {
            for f in mst::sink::v4l2::output_formats(&d.device_id)? {
                let fourcc = String::from_utf8_lossy(&f.fourcc);
                let ((w0, h0), (w1, h1)) = (f.min, f.max);
                let sizes = if f.min == f.max { format!("{w0}x{h0}") } else { format!("{w0}x{h0}..={w1}x{h1}") };
                lines.push(format!("format: {fourcc} {sizes}"));
            }
        }
    }
    if lines.is_empty() {
        return Err(mst::Error::new(ErrorKind::Unsupported, format!("{}: nothing libmst can use", d.device_id)));
    }
    Ok(lines)
}

/// The device's entry when it can be opened: its detail lines, or one saying another program
/// holds it now (a busy device is still there to choose). Else why it cannot be opened.
fn entry(d: &device::DeviceInfo) -> mst::Result<Vec<String>> {
    match offers(d) {
        Err(e) if e.kind == ErrorKind::Busy => Ok(vec![format!("busy: {}", e.message)]),
        r => r,
    }
}

/// A device left out of the listing: said in the log (`--verbose`).
fn not_listed(e: &mst::Error) {
    mst::log::log(mst::log::Level::Info, mst::log::Origin::Libmst, &format!("not listed: {e}"));
}

type Key = (DeviceKind, String);

fn key(d: &device::DeviceInfo) -> Key {
    (d.kind, d.device_id.clone())
}

fn devices(a: &Args) -> Res<()> {
    a.positionals(0, 0, "no arguments")?;
    let (mut listed, mut refused) = (Vec::new(), Vec::new());
    let mut out = std::io::stdout().lock();
    for d in candidate_devices()? {
        let lines = match entry(&d) {
            Ok(lines) => lines,
            Err(e) => {
                not_listed(&e);
                refused.push(key(&d));
                continue;
            }
        };
        let _ = writeln!(out, "{} {}\n  label: {}\n  group: {}", kind_name(d.kind), d.device_id, d.label, d.group_id);
        for l in lines {
            let _ = writeln!(out, "  {l}");
        }
        listed.push(d);
    }
    if listed.is_empty() {
        let _ = writeln!(out, "no devices");
    }
    drop(out);
    if a.flags.contains(&"watch") {
        watch(listed, refused)?;
    }
    Ok(())
}

fn fps_text(f: f64) -> String {
    if (f - f.round()).abs() < 0.005 {
        format!("{}", f.round())
    } else {
        format!("{f:.2}")
    }
}

/// How often `--watch` tries again a device that arrived but could not be opened (udev has not
/// given access yet); arrivals and removals themselves come from the device-change callback.
const RETRY_PERIOD: Duration = Duration::from_millis(500);

/// Prints arrivals (+, with their entry's lines) and removals (-) until Ctrl-C, looking at the
/// list each time libmst's device-change callback says it changed. Only an arrival is opened,
/// to read what it offers; one that cannot be opened yet is tried again every
/// [`RETRY_PERIOD`] and reported once it opens; the log says why it did not the first time
/// only.
fn watch(mut known: Vec<device::DeviceInfo>, mut refused: Vec<Key>) -> Res<()> {
    let (tx, changes) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    device::watch::set_callback(Some(std::sync::Arc::new(move || {
        let _ = tx.lock().map(|t| t.send(()));
    })))?;
    // Changes before the callback was set: the listing may be older than the watcher's list.
    let mut look = true;
    let mut last_look = Instant::now();
    while !interrupted() {
        // Short waits, to see Ctrl-C.
        match changes.recv_timeout(Duration::from_millis(100)) {
            Ok(()) => look = true,
            Err(_) => look |= !refused.is_empty() && last_look.elapsed() >= RETRY_PERIOD,
        }
        if !look {
            continue;
        }
        look = false;
        last_look = Instant::now();
        let now = candidate_devices()?;
        let present: Vec<Key> = now.iter().map(key).collect();
        let mut out = std::io::stdout().lock();
        known.retain(|d| {
            let here = present.contains(&key(d));
            if !here {
                let _ = writeln!(out, "- {} {} ({})", kind_name(d.kind), d.device_id, d.label);
            }
            here
        });
        refused.retain(|k| present.contains(k));
        let arrived: Vec<_> = now.into_iter().filter(|d| !known.iter().any(|k| key(k) == key(d))).collect();
        for d in arrived {
            match entry(&d) {
                Ok(lines) => {
                    let _ = writeln!(out, "+ {} {} ({})", kind_name(d.kind), d.device_id, d.label);
                    for l in lines {
                        let _ = writeln!(out, "  {l}");
                    }
                    refused.retain(|k| *k != key(&d));
                    known.push(d);
                }
                Err(e) if !refused.contains(&key(&d)) => {
                    not_listed(&e);
                    refused.push(key(&d));
                }
                Err(_) => {}
            }
        }
        let _ = out.flush();
    }
    device::watch::set_callback(None)?;
    Ok(())
}

/// Where a recording goes.
enum Output {
    /// Y4M or WAV through the library's file sink, fed from the CLI's loop by a generator so
    /// the loop decides exactly which frames are written.
    File { generator: Generator, sink: FileSink },
    /// PNGs: `pattern` has a `%d` (one file per frame) or is the single file of the first frame.
    Png { pattern: String, sequence: bool, written: u64 },
}

impl Output {
    fn open(path: &str, kind: Kind) -> Res<Output> {
        let ext = Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let want = match ext.as_str() {
            "y4m" | "png" => Kind::Video,
            "wav" => Kind::Audio,
            _ => return Err(Fail::usage(format!("{path:?}: the extension must be .y4m, .wav or .png"))),
        };
        if want != kind {
            return Err(Fail::usage(format!("{path:?} holds {} but the source is {}", want.name(), kind.name())));
        }
        if ext == "png" {
            let sequence = numbered(path, 1).is_some();
            return Ok(Output::Png { pattern: path.to_string(), sequence, written: 0 });
        }
        let generator = Generator::new(kind);
        let sink = FileSink::open(generator.track(), Path::new(path))?;
        Ok(Output::File { generator, sink })
    }

    /// Whether the output takes no more frames (a single PNG once written).
    fn full(&self) -> bool {
        matches!(self, Output::Png { sequence: false, written, .. } if *written > 0)
    }

    fn write(&mut self, frame: Frame) -> Res<()> {
        match self {
            Output::File { generator, sink } => {
                // The file sink's queue is short: wait for room (the disk catching up) rather
                // than overflow it, so a recording from a fast source loses nothing.
                wait_for_room(generator, Duration::from_millis(1), || sink.is_stopped());
                if sink.is_stopped() {
                    // Only a write error stops it while the track lives (a full disk, the WAV
                    // size limit, a Y4M size or colour change): that error says why.
                    return Err(match sink.stop() {
                        Err(e) => e.into(),
                        Ok(()) => Fail::runtime("the file sink stopped"),
                    });
                }
                generator.write(frame).map_err(|(e, _)| Fail::from(e))?;
            }
            Output::Png { pattern, sequence, written } => {
                *written += 1;
                let path = if *sequence { numbered(pattern, *written).expect("checked") } else { pattern.clone() };
                write_png(&frame, Path::new(&path))?;
            }
        }
        Ok(())
    }

    /// Completes the file; the number of frames the file sink dropped.
    fn finish(self) -> Res<u64> {
        match self {
            Output::File { generator, sink } => {
                generator.close();
                Ok(sink.finish()?.frames_dropped)
            }
            Output::Png { .. } => Ok(0),
        }
    }
}

/// `pattern` with its printf-style `%d` or `%0Nd` replaced by `n`; None without one.
fn numbered(pattern: &str, n: u64) -> Option<String> {
    let at = pattern.find('%')?;
    let rest = &pattern[at + 1..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let tail = rest[digits.len()..].strip_prefix('d')?;
    let width: usize = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    Some(format!("{}{n:0width$}{tail}", &pattern[..at]))
}

/// The frame's visible rectangle as an 8-bit PNG: RGBA when its format has alpha, else RGB,
/// converted by the library (WebCodecs copyTo with an RGB format).
/// Waits, polling every `poll`, while a consumer of `generator`'s track has a full queue,
/// until Ctrl-C or `stopped` (the consumer's thread has stopped: its queue stays full for
/// good). A writer that waits for room loses nothing to the consumer's drop-oldest queue.
fn wait_for_room(generator: &Generator, poll: Duration, stopped: impl Fn() -> bool) {
    while generator.track().source().consumers_have_room() == Some(false) && !interrupted() && !stopped() {
        std::thread::sleep(poll);
    }
}

fn write_png(frame: &Frame, path: &Path) -> Res<()> {
    let v = *frame.video().ok_or_else(|| Fail::usage("a PNG takes video frames"))?;
    let alpha = v.format.has_alpha();
    let opts = VideoCopyOptions { format: Some(VideoPixelFormat::Rgba), ..Default::default() };
    let mut rgba = vec![0u8; frame.video_allocation_size(&opts)?];
    frame.video_copy_to(&mut rgba, &opts)?;
    let (w, h) = (v.visible_rect.width, v.visible_rect.height);
    let data: Vec<u8> = if alpha { rgba } else { rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect() };
    let io = |e: std::io::Error| Fail { code: EXIT_FAILURE, message: format!("{}: {e}", path.display()) };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(if alpha { png::ColorType::Rgba } else { png::ColorType::Rgb });
    enc.set_depth(png::BitDepth::Eight);
    // BT.709 (the matrix of libmst's conversions) shares sRGB's primaries, and video RGB is
    // displayed as sRGB: the sRGB chunk says so rather than leaving viewers to guess.
    enc.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
    let png_err = |e: png::EncodingError| Fail { code: EXIT_FAILURE, message: format!("{}: {e}", path.display()) };
    let mut w = enc.write_header().map_err(png_err)?;
    w.write_image_data(&data).map_err(png_err)?;
    w.finish().map_err(png_err)
}

/// Where a recording stops: after `frames` frames (video) or sample frames (audio), or after
/// `micros` of media by timestamps.
#[derive(Clone, Copy)]
struct Limit {
    frames: Option<u64>,
    micros: Option<i64>,
}

fn limit(a: &Args) -> Res<Limit> {
    let frames = a.number("frames", |v: &u64| *v > 0)?;
    let seconds = a.number("seconds", |v: &f64| v.is_finite() && *v > 0.0)?;
    if frames.is_some() && seconds.is_some() {
        return Err(Fail::usage("--seconds and --frames exclude each other"));
    }
    Ok(Limit { frames, micros: seconds.map(|s| (s * 1e6).round() as i64) })
}

/// The first `keep` sample frames of an audio chunk (interleaved).
fn audio_head(frame: &Frame, keep: u32) -> Res<Frame> {
    let a = *frame.audio().expect("audio");
    let format = a.format.interleaved();
    let opts = AudioCopyOptions { format: Some(format), frame_count: Some(keep), ..Default::default() };
    let mut buf = vec![0u8; frame.audio_allocation_size(&opts)?];
    frame.audio_copy_to(&mut buf, &opts)?;
    let init = AudioDataInit { format, number_of_frames: keep, ..init_of(&a) };
    Ok(Frame::audio_copy(&init, &buf)?)
}

fn init_of(a: &mst::frame::AudioMeta) -> AudioDataInit {
    AudioDataInit {
        format: a.format,
        sample_rate: a.sample_rate,
        number_of_frames: a.number_of_frames,
        number_of_channels: a.number_of_channels,
        timestamp: a.timestamp,
    }
}

/// The chunk's peak level in dBFS (-inf for silence).
fn peak_dbfs(frame: &Frame) -> f64 {
    let opts = AudioCopyOptions { format: Some(AudioSampleFormat::F32), ..Default::default() };
    let Ok(n) = frame.audio_allocation_size(&opts) else { return f64::NEG_INFINITY };
    let mut buf = vec![0u8; n];
    if frame.audio_copy_to(&mut buf, &opts).is_err() {
        return f64::NEG_INFINITY;
    }
    let peak = buf.chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]).abs()).fold(0.0f32, f32::max);
    20.0 * (peak as f64).log10()
}

/// A status line on stderr, redrawn at most four times a second, only when stderr is a terminal.
struct Status {
    tty: bool,
    start: Instant,
    last: Instant,
    window: Vec<Instant>,
    drawn: bool,
}

impl Status {
    fn new() -> Status {
        let now = Instant::now();
        Status { tty: std::io::stderr().is_terminal(), start: now, last: now, window: Vec::new(), drawn: false }
    }

    /// `count` frames (video) or sample frames (audio) so far, `drops` frames or chunks lost;
    /// for audio, its rate and the latest chunk's peak level.
    fn frame(&mut self, count: u64, drops: u64, audio: Option<(f64, f64)>) {
        if !self.tty {
            return;
        }
        let now = Instant::now();
        self.window.push(now);
        self.window.retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        if now.duration_since(self.last) < Duration::from_millis(250) {
            return;
        }
        self.last = now;
        let elapsed = now.duration_since(self.start).as_secs_f64();
        let per_second = self.window.len() as f64;
        // Audio comes in chunks (10 ms each from libmst's sources) of many sample frames: its
        // amount is said in seconds, its rate and drops in chunks.
        let line = match audio {
            None => format!("\r{elapsed:7.1} s  {count} frames  {per_second:5.1} fps  {drops} dropped"),
            Some((rate, db)) => format!(
                "\r{elapsed:7.1} s  {:.2} s of audio  {per_second:5.1} chunks/s  {drops} chunks dropped  peak {db:6.1} dBFS",
                count as f64 / rate
            ),
        };
        eprint!("{line}   ");
        self.drawn = true;
    }

    fn end(&self) {
        if self.drawn {
            eprintln!();
        }
    }
}

/// The outcome of pumping a track into something frame by frame.
struct Pumped {
    frames: u64,
    drops: u64,
}

/// Reads `track` and hands each frame to `sink` until Ctrl-C, the limit, `sink` says it is
/// full, or the track ends. Audio limits in sample frames cut the last chunk exactly.
fn pump(track: &Track, lim: Limit, mut sink: impl FnMut(Frame) -> Res<bool>) -> Res<Pumped> {
    // The deepest queue libmst keeps (32 video frames, 10 s of audio), so a writer that is slow
    // for a moment (a PNG to encode, a disk to flush) loses nothing.
    let deepest = ProcessorOptions { max_buffer_size: u16::MAX as u32, ..Default::default() };
    let processor = Processor::with_options(track, deepest)?;
    let mut status = Status::new();
    let (mut count, mut drops, mut first_ts) = (0u64, 0u64, None);
    let mut audio = None;
    let result = loop {
        if interrupted() {
            break Ok(());
        }
        let d = match processor.read(Wait::For(Duration::from_millis(100))) {
            Ok(d) => d,
            Err(e) if matches!(e.kind, ErrorKind::Timeout | ErrorKind::Interrupted | ErrorKind::Again) => continue,
            Err(e) if e.kind == ErrorKind::Ended => break Ok(()),
            Err(e) => break Err(Fail::from(e)),
        };
        drops += d.discarded_before;
        let mut frame = d.frame;
        let ts = frame.timestamp();
        let first = *first_ts.get_or_insert(ts);
        let (size, rate) = match frame.audio() {
            Some(a) => (a.number_of_frames as u64, a.sample_rate as f64),
            None => (1, 0.0),
        };
        // How much of this frame the limit lets through.
        let mut allowed = size;
        if let Some(n) = lim.frames {
            allowed = allowed.min(n.saturating_sub(count));
        }
        if let Some(us) = lim.micros {
            if rate > 0.0 {
                // Audio by its samples: a device's capture timestamps jitter around them.
                let total = (us as f64 * rate / 1e6).round() as u64;
                allowed = allowed.min(total.saturating_sub(count));
            } else if ts - first >= us {
                allowed = 0;
            }
        }
        if allowed == 0 {
            break Ok(());
        }
        if allowed < size {
            frame = audio_head(&frame, allowed as u32)?;
        }
        if frame.kind() == Kind::Audio {
            audio = Some((rate, peak_dbfs(&frame)));
        }
        count += allowed;
        match sink(frame) {
            Ok(true) => {}
            Ok(false) => break Ok(()),
            Err(e) => break Err(e),
        }
        status.frame(count, drops, audio);
        if allowed < size || lim.frames.is_some_and(|n| count >= n) {
            break Ok(());
        }
    };
    status.end();
    processor.close();
    result.map(|()| Pumped { frames: count, drops })
}

fn record(a: &Args) -> Res<()> {
    let pos = a.positionals(1, 1, "one SOURCE (see `mst record --help`)")?;
    let path = a.options.get("output").ok_or_else(|| Fail::usage("record needs -o FILE"))?;
    let lim = limit(a)?;
    let track = open_source(&pos[0], &shape(a)?, Pace::AsFastAsRead)?;
    let mut out = Output::open(path, track.kind())?;
    let pumped = pump(&track, lim, |f| {
        out.write(f)?;
        Ok(!out.full())
    });
    track.stop();
    // The file is completed whatever stopped the recording, so what was written stays readable.
    let finished = out.finish();
    let pumped = pumped?;
    let sink_drops = finished?;
    let (unit, lost) = if track.kind() == Kind::Audio { ("sample frames", "chunks") } else { ("frames", "frames") };
    if pumped.frames == 0 {
        // A file with no frame has no header either (its format comes from the first one).
        let _ = std::fs::remove_file(path);
        return Err(Fail::runtime(format!("nothing was recorded: the recording ended before the first of its {unit}")));
    }
    let dropped = pumped.drops + sink_drops;
    // Lost frames are always said, terminal or not: a recording must not lose them silently.
    if dropped > 0 || std::io::stderr().is_terminal() {
        eprintln!("{path}: {} {unit}, {dropped} {lost} dropped", pumped.frames);
    }
    if interrupted() {
        return Ok(());
    }
    ended(&track)
}

fn snapshot(a: &Args) -> Res<()> {
    let pos = a.positionals(1, 1, "one SOURCE (see `mst snapshot --help`)")?;
    let path = a.options.get("output").ok_or_else(|| Fail::usage("snapshot needs -o FILE.png"))?;
    if !path.to_ascii_lowercase().ends_with(".png") {
        return Err(Fail::usage(format!("{path:?}: a snapshot is a .png file")));
    }
    let source = pos[0].as_str();
    let synthetic = source == "test-pattern" || source == "tone";
    let warmup = a.number("warmup", |_: &u64| true)?.unwrap_or(if synthetic { 0 } else { 5 });
    let track = open_source(source, &shape(a)?, Pace::RealTime)?;
    if track.kind() != Kind::Video {
        track.stop();
        return Err(Fail::usage(format!("{source:?} is not a video source")));
    }
    let mut shot = None;
    let mut seen = 0u64;
    let pumped = pump(&track, Limit { frames: None, micros: None }, |f| {
        seen += 1;
        if seen > warmup {
            shot = Some(f);
            return Ok(false);
        }
        Ok(true)
    });
    track.stop();
    pumped?;
    match shot {
        Some(f) => write_png(&f, Path::new(path)),
        None if interrupted() => Err(Fail { code: EXIT_FAILURE, message: "interrupted before a frame arrived".into() }),
        None => {
            ended(&track)?;
            Err(Fail { code: EXIT_FAILURE, message: format!("{source}: the source ended before a frame arrived") })
        }
    }
}

fn range<T: std::fmt::Display>(r: Option<(T, T)>) -> String {
    r.map(|(lo, hi)| format!("{lo}..={hi}")).unwrap_or_else(|| "-".into())
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

fn info(a: &Args) -> Res<()> {
    let pos = a.positionals(1, 1, "one SOURCE (see `mst info --help`)")?;
    let track = open_source(&pos[0], &shape(a)?, Pace::RealTime)?;
    // Settings describe the latest delivered frame: wait (a while) for the first one.
    let processor = Processor::with_options(&track, ProcessorOptions::default())?;
    let first = processor.read(Wait::For(Duration::from_secs(5)));
    processor.close();
    if let Err(e) = first {
        if e.kind != ErrorKind::Timeout {
            track.stop();
            ended(&track)?;
            return Err(e.into());
        }
    }
    let c = track.capabilities();
    let s = track.settings();
    println!("id: {}", track.id());
    println!("kind: {}", track.kind().name());
    println!("label: {}", track.label());
    println!("readyState: {:?}", track.ready_state());
    println!("muted: {}", track.muted());
    println!("capabilities:");
    if track.kind() == Kind::Video {
        println!("  width: {}", range(c.width));
        println!("  height: {}", range(c.height));
        println!("  frameRate: {}", range(c.frame_rate));
        println!("  aspectRatio: {}", range(c.aspect_ratio.map(|(lo, hi)| (format!("{lo:.4}"), format!("{hi:.4}")))));
        let modes = if c.resize_modes { "none, crop-and-scale" } else { "none" };
        println!("  resizeMode: {modes}");
        println!("settings:");
        println!("  width: {}", opt(s.width));
        println!("  height: {}", opt(s.height));
        println!("  frameRate: {}", opt(s.frame_rate.map(fps_text)));
        println!("  aspectRatio: {}", opt(s.aspect_ratio.map(|v| format!("{v:.4}"))));
        println!("  resizeMode: {}", opt(s.resize_mode.map(|m| m.name())));
    } else {
        println!("  (none reported for audio tracks)");
        println!("settings:");
        println!("  sampleRate: {}", opt(s.sample_rate));
        println!("  channelCount: {}", opt(s.channel_count));
        println!("  sampleSize: {}", opt(s.sample_size));
    }
    track.stop();
    Ok(())
}

/// A PCM WAV file's format, and its data chunk to read.
struct Wav {
    format: AudioSampleFormat,
    rate: u32,
    channels: u32,
    /// The data chunk (cut at the file's end), read as it plays: a WAV may be 4 GiB.
    data: std::io::Take<BufReader<File>>,
}

fn read_wav(path: &str) -> Res<Wav> {
    let bad = |why: &str| Fail { code: EXIT_FAILURE, message: format!("{path}: {why}") };
    let io = |e: std::io::Error| bad(&e.to_string());
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut r = BufReader::new(file);
    let h = mst::sink::file::parse_wav(&mut r, len).map_err(|why| bad(&why))?;
    r.seek(SeekFrom::Start(h.data_start)).map_err(io)?;
    Ok(Wav { format: h.format, rate: h.rate, channels: h.channels, data: r.take(h.data_len) })
}

/// Reads until `buf` is full or the input ends; how much was read.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn play(a: &Args) -> Res<()> {
    let pos = a.positionals(1, 2, "FILE.wav [DEVICE] (see `mst play --help`)")?;
    let mut wav = read_wav(&pos[0])?;
    if wav.rate == 0 || wav.channels == 0 {
        return Err(Fail { code: EXIT_FAILURE, message: format!("{}: no sample rate or channels", pos[0]) });
    }
    let device = pos.get(1).map(String::as_str).unwrap_or("default");
    let generator = Generator::new(Kind::Audio);
    let playback = AudioPlayback::open(generator.track(), device)?;
    let frame_bytes = wav.format.bytes_per_sample() * wav.channels as usize;
    let chunk_frames = (wav.rate as usize / 100).max(1);
    let mut chunk = vec![0u8; chunk_frames * frame_bytes];
    let mut ts = 0i64;
    let mut written = Ok(());
    while !interrupted() {
        // The playback queue holds about a second: wait for room rather than overflow it.
        wait_for_room(&generator, Duration::from_millis(5), || playback.is_stopped());
        if playback.is_stopped() {
            break;
        }
        let got = match fill(&mut wav.data, &mut chunk) {
            Ok(got) => got,
            Err(e) => {
                let _ = playback.stop();
                return Err(Fail::runtime(format!("{}: {e}", pos[0])));
            }
        };
        let n = got / frame_bytes;
        if n == 0 {
            break;
        }
        let init = AudioDataInit {
            format: wav.format,
            sample_rate: wav.rate as f32,
            number_of_frames: n as u32,
            number_of_channels: wav.channels,
            timestamp: ts,
        };
        if let Err((e, _)) = generator.write(Frame::audio_copy(&init, &chunk[..n * frame_bytes])?) {
            written = Err(e.into());
            break;
        }
        ts += (n as i64 * 1_000_000) / wav.rate as i64;
    }
    generator.close();
    // A playback that stopped early (the device failed or went away) returns why here: that
    // is also why a write failed, when one did.
    let done = if interrupted() { playback.close() } else { playback.finish() };
    done.map_err(sink_fail)?;
    written
}

fn virtual_camera(a: &Args) -> Res<()> {
    let pos = a.positionals(1, 2, "SOURCE [DEVICE] (see `mst virtual-camera --help`)")?;
    let lim = limit(a)?;
    let track = open_source(&pos[0], &shape(a)?, Pace::RealTime)?;
    if track.kind() != Kind::Video {
        track.stop();
        return Err(Fail::usage(format!("{:?} is not a video source", pos[0])));
    }
    let device = pos.get(1).map(String::as_str).unwrap_or("default");
    let generator = Generator::new(Kind::Video);
    let output = match VideoOutput::open(generator.track(), device) {
        Ok(o) => o,
        Err(e) => {
            track.stop();
            return Err(e.into());
        }
    };
    let pumped = pump(&track, lim, |f| {
        generator.write(f).map_err(|(e, _)| Fail::from(e))?;
        Ok(true)
    });
    track.stop();
    generator.close();
    let stopped = output.finish();
    pumped?;
    stopped?;
    if interrupted() {
        return Ok(());
    }
    ended(&track)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_positionals_and_errors() {
        let a = parse(
            &strings(&["tone", "-o", "x.wav", "--seconds=2", "--rate", "8000"]),
            &["output", "seconds", "rate"],
            &[],
        )
        .unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(a.positional, ["tone"]);
        assert_eq!(a.options["output"], "x.wav");
        assert_eq!(a.number("seconds", |v: &f64| *v > 0.0).ok().flatten(), Some(2.0));
        assert_eq!(a.number("rate", |v: &u32| *v > 0).ok().flatten(), Some(8000));
        for bad in [&["--nope"][..], &["--seconds"], &["--seconds", "1", "--seconds", "2"], &["-x"], &["--watch=1"]] {
            let f = parse(&strings(bad), &["seconds"], &["watch"]).err().expect("refused");
            assert_eq!(f.code, EXIT_USAGE, "{bad:?}: {}", f.message);
        }
        let a = parse(&strings(&["--seconds", "-1"]), &["seconds"], &[]).unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(a.number("seconds", |v: &f64| *v > 0.0).err().map(|f| f.code), Some(EXIT_USAGE));
    }

    #[test]
    fn printf_numbering() {
        assert_eq!(numbered("f-%d.png", 7).as_deref(), Some("f-7.png"));
        assert_eq!(numbered("f-%04d.png", 7).as_deref(), Some("f-0007.png"));
        assert_eq!(numbered("f.png", 7), None);
        assert_eq!(numbered("100%.png", 7), None);
    }
}
