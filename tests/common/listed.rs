//! For tests/cli.rs and tests/vm_cli.rs (`#[path = "common/listed.rs"] mod listed;`): opens
//! every entry of an `mst devices` listing with the verb that uses it, in a shape the listing
//! says it offers, so a listed device that does not open, or offers what it does not take,
//! fails the test.

use std::path::Path;
use std::process::Output;

/// One entry of the listing: "kind id" and its "  key: value" lines.
pub struct Entry {
    pub kind: String,
    pub id: String,
    pub lines: Vec<(String, String)>,
}

impl Entry {
    /// The values of every `key:` line.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.lines.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    #[track_caller]
    pub fn one(&self, key: &str) -> &str {
        self.all(key).first().copied().unwrap_or_else(|| panic!("{} {} has no {key:?} line", self.kind, self.id))
    }
}

pub fn parse(listing: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for line in listing.lines() {
        if let Some(detail) = line.strip_prefix("  ") {
            let (k, v) = detail.split_once(": ").unwrap_or_else(|| panic!("not `key: value`: {line:?}"));
            entries.last_mut().expect("a detail line before any entry").lines.push((k.into(), v.into()));
        } else if line != "no devices" {
            let (kind, id) = line.split_once(' ').unwrap_or_else(|| panic!("not `kind id`: {line:?}"));
            entries.push(Entry { kind: kind.into(), id: id.into(), lines: Vec::new() });
        }
    }
    entries
}

/// Numbers of a list like "8000, 11025, 16000" or "1..=4, 6" (ranges expanded).
pub fn numbers(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in text.split(", ") {
        match part.split_once("..=") {
            Some((lo, hi)) => out.extend(lo.parse::<u32>().unwrap()..=hi.parse::<u32>().unwrap()),
            None => out.push(part.parse().unwrap_or_else(|e| panic!("{part:?}: {e}"))),
        }
    }
    out
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap())
}

/// A 16-bit PCM WAV file of `frames` silent sample frames.
fn silence_wav(channels: u32, rate: u32, frames: u32) -> Vec<u8> {
    let block = channels * 2;
    let data = frames * block;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&(channels as u16).to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * block).to_le_bytes());
    b.extend_from_slice(&(block as u16).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    b
}

/// The channel count and rate to try on an audio entry: 2 channels and 48 kHz where offered,
/// else its first count and its highest common rate.
fn audio_shape(e: &Entry) -> (u32, u32) {
    let channels = numbers(e.one("channels"));
    let rates_line = e.one("sample rates");
    let common = rates_line.split_once(" (").map(|(_, c)| c.trim_end_matches(')')).expect("common rates");
    let rates = numbers(common);
    let ch = if channels.contains(&2) { 2 } else { channels[0] };
    let rate = if rates.contains(&48_000) { 48_000 } else { *rates.last().expect("a common rate") };
    (ch, rate)
}

/// Opens every entry in `listing` (cameras and microphones recorded from, speakers played silence,
/// video outputs fed) with `mst`, which runs the command; scratch files go to `dir`. Panics
/// naming the first entry that does not open or does not take what it lists. Returns how many
/// were opened.
pub fn open_every_listed(listing: &str, dir: &Path, mst: &dyn Fn(&[&str]) -> Output) -> usize {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let run = |e: &Entry, args: &[&str]| {
        let out = mst(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{} {} is listed but `mst {}` failed: {}",
            e.kind,
            e.id,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let entries = parse(listing);
    for e in &entries {
        match e.kind.as_str() {
            "camera" => {
                // "mode: YUYV 640x360 @ 5, 30 fps": the first mode at its first rate.
                let mode = e.one("mode");
                let (fmt, rest) = mode.split_once(' ').unwrap();
                let (size, rates) = rest.split_once(" @ ").unwrap();
                let (w, h) = size.split_once('x').unwrap();
                let fps = rates.split(", ").next().unwrap().trim_end_matches(" fps");
                assert_eq!(fmt.len(), 4, "{mode}");
                let y4m = path("listed.y4m");
                run(e, &["record", &e.id, "-o", &y4m, "--frames", "1", "--width", w, "--height", h, "--fps", fps]);
                let b = std::fs::read(&y4m).unwrap();
                assert!(
                    b.starts_with(format!("YUV4MPEG2 W{w} H{h} ").as_bytes()),
                    "{}",
                    String::from_utf8_lossy(&b[..40])
                );
            }
            "microphone" => {
                let (ch, rate) = audio_shape(e);
                let wav = path("listed.wav");
                let (chs, rates) = (ch.to_string(), rate.to_string());
                run(e, &["record", &e.id, "-o", &wav, "--frames", "480", "--rate", &rates, "--channels", &chs]);
                let b = std::fs::read(&wav).unwrap();
                assert_eq!((u16_at(&b, 22) as u32, u32_at(&b, 24)), (ch, rate), "{} {}: the WAV's shape", e.kind, e.id);
                let bits = u16_at(&b, 34);
                let formats = e.one("sample formats");
                assert!(
                    formats.split(", ").any(|f| f[1..].starts_with(&bits.to_string())),
                    "{bits} bits not in {formats}"
                );
            }
            "speaker" => {
                // A tenth of a second of silence: the test may run where people listen.
                let (ch, rate) = audio_shape(e);
                let wav = path("listed-silence.wav");
                std::fs::write(&wav, silence_wav(ch, rate, rate / 10)).unwrap();
                run(e, &["play", &wav, &e.id]);
            }
            "video-output" => {
                // "format: YU12 16x16..=1920x1080": a size inside the range, near 640x360.
                let format = e.one("format");
                let sizes = format.split_once(' ').unwrap().1;
                let (lo, hi) = sizes.split_once("..=").unwrap_or((sizes, sizes));
                let dims = |s: &str| -> (u32, u32) {
                    let (w, h) = s.split_once('x').unwrap();
                    (w.parse().unwrap(), h.parse().unwrap())
                };
                let ((w0, h0), (w1, h1)) = (dims(lo), dims(hi));
                let (w, h) = (640u32.clamp(w0, w1).to_string(), 360u32.clamp(h0, h1).to_string());
                run(e, &["virtual-camera", "test-pattern", &e.id, "--frames", "3", "--width", &w, "--height", &h]);
            }
            other => panic!("unknown kind {other:?} in\n{listing}"),
        }
    }
    entries.len()
}
