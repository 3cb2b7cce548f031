//! ALSA on a machine with no sound card: alsa-lib's `file` plugin over its `null` plugin.
//!
//! A capture PCM `type file; slave.pcm "null"; infile <raw>` returns the infile's bytes; a
//! playback PCM `type file; slave.pcm "null"; file <out>` writes exactly what it is given.
//! alsa-lib reads ALSA_CONFIG_PATH when it first loads its configuration, so this test binary
//! (its own process) sets it in `setup()`, which every test calls before touching ALSA. The
//! stock alsa.conf stays first in the path: it defines the "null" PCM.
//!
//! The null slave has no clock (a second of audio arrives in milliseconds), so these are
//! functional tests; timing, overruns and unplugging need a real driver (vmtest/).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use mst::constraints::ConstrainRange;
use mst::device::{self, DeviceKind};
use mst::frame::{AudioCopyOptions, AudioDataInit};
use mst::sink::alsa::AudioPlayback;
use mst::source::alsa::{capture_stats, microphone, AudioConstraints};
use mst::*;

const RATE: u32 = 48_000;
/// Frames in the capture infile: 60 s, far more than any test reads, because reading past
/// the end of an infile gives garbage rather than an error.
const INFILE_FRAMES: usize = 60 * RATE as usize;

struct Fixture {
    dir: PathBuf,
    /// The infile: S16 stereo, left a 440 Hz sine, right the frame index's low 16 bits.
    infile: Vec<u8>,
}

fn sine(i: usize) -> i16 {
    ((i as f64 * 440.0 * std::f64::consts::TAU / RATE as f64).sin() * 12000.0) as i16
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

/// The fixture's files are read by alsa-lib while any test runs, so they go when the process
/// exits (libtest's main returns or calls exit, which run atexit handlers, pass or fail).
extern "C" fn remove_fixture() {
    if let Some(f) = FIXTURE.get() {
        let _ = std::fs::remove_dir_all(&f.dir);
    }
}

fn setup() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mst-alsa-host-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: registers a function that takes no arguments and does not unwind.
        assert_eq!(unsafe { libc::atexit(remove_fixture) }, 0);
        let mut infile = Vec::with_capacity(INFILE_FRAMES * 4);
        for i in 0..INFILE_FRAMES {
            infile.extend_from_slice(&sine(i).to_le_bytes());
            infile.extend_from_slice(&(i as u16).to_le_bytes());
        }
        std::fs::write(dir.join("in.raw"), &infile).unwrap();
        let mut conf = format!(
            "pcm.mst_capture {{ type file slave.pcm \"null\" file \"/dev/null\" infile \"{}\" format \"raw\" }}\n",
            dir.join("in.raw").display()
        );
        for name in ["play_a", "play_b"] {
            conf += &format!(
                "pcm.mst_{name} {{ type file slave.pcm \"null\" file \"{}\" format \"raw\" }}\n",
                dir.join(format!("{name}.raw")).display()
            );
        }
        std::fs::write(dir.join("asound.conf"), conf).unwrap();
        // Before any alsa-lib call in this process: every test calls setup() first, and
        // get_or_init makes the others wait until this has run.
        std::env::set_var(
            "ALSA_CONFIG_PATH",
            format!("/usr/share/alsa/alsa.conf:{}", dir.join("asound.conf").display()),
        );
        Fixture { dir, infile }
    })
}

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

fn stereo_s16() -> AudioConstraints {
    AudioConstraints { sample_rate: exact(RATE as f64), channel_count: exact(2.0), sample_size: exact(16.0) }
}

#[test]
fn capture_returns_the_infile_in_10ms_chunks() {
    let f = setup();
    let track = microphone("mst_capture", &stereo_s16()).unwrap();
    assert_eq!(track.kind(), Kind::Audio);
    let p = Processor::new(&track, 1000);
    let mut last: Option<(usize, i64)> = None;
    for _ in 0..100 {
        let d = p.read(Wait::For(Duration::from_secs(10))).unwrap();
        let a = *d.frame.audio().unwrap();
        assert_eq!(
            (a.format, a.sample_rate, a.number_of_channels, a.number_of_frames),
            (AudioSampleFormat::S16, 48000.0, 2, 480)
        );
        let data = &d.frame.data()[..480 * 4];
        // Where in the infile this chunk starts: the right channel holds the index's low
        // 16 bits, the sine on the left tells the 65536-frame laps apart.
        let low = u16::from_le_bytes([data[2], data[3]]) as usize;
        let pos = (0..INFILE_FRAMES / 65536 + 1)
            .map(|lap| lap * 65536 + low)
            .find(|&pos| pos * 4 + data.len() <= f.infile.len() && f.infile[pos * 4..pos * 4 + data.len()] == *data)
            .unwrap_or_else(|| panic!("a chunk starting at index {low} (mod 65536) is not in the infile"));
        if let Some((prev, ts)) = last {
            assert!(pos > prev && (pos - prev) % 480 == 0, "chunks follow each other: {prev} then {pos}");
            assert!(a.timestamp > ts, "timestamps increase: {ts} then {}", a.timestamp);
            if pos == prev + 480 {
                assert_eq!(a.timestamp - ts, 10_000, "consecutive chunks are 10 ms apart");
            }
        }
        last = Some((pos, a.timestamp));
    }
    let s = track.settings();
    assert_eq!((s.sample_rate, s.channel_count, s.sample_size), (Some(48000.0), Some(2), Some(16)));
    let stats = capture_stats(&track).expect("a microphone has capture stats");
    assert!(stats.chunks >= 100 && stats.frames == stats.chunks * 480, "{stats:?}");
    track.stop();
    assert_eq!(track.end_reason(), Some(EndReason::Stopped));
}

#[test]
fn constraints_negotiate_rate_channels_and_size() {
    setup();
    let c = AudioConstraints { sample_rate: exact(16_000.0), channel_count: exact(1.0), sample_size: exact(32.0) };
    let track = microphone("mst_capture", &c).unwrap();
    let p = Processor::new(&track, 10);
    let d = p.read(Wait::For(Duration::from_secs(10))).unwrap();
    let a = *d.frame.audio().unwrap();
    assert_eq!((a.sample_rate, a.number_of_channels, a.number_of_frames), (16000.0, 1, 160));
    assert_eq!(a.format.bytes_per_sample(), 4);
    drop(p);
    track.stop();

    // Ideal values steer without failing.
    let c = AudioConstraints {
        sample_rate: ConstrainRange { ideal: Some(44_100.0), ..Default::default() },
        sample_size: ConstrainRange { ideal: Some(8.0), ..Default::default() },
        ..Default::default()
    };
    let track = microphone("mst_capture", &c).unwrap();
    let d = Processor::new(&track, 10).read(Wait::For(Duration::from_secs(10))).unwrap();
    let a = *d.frame.audio().unwrap();
    assert_eq!((a.sample_rate, a.format, a.number_of_frames), (44100.0, AudioSampleFormat::U8, 441));
    track.stop();
}

#[test]
fn impossible_constraints_are_overconstrained_naming_the_property() {
    setup();
    let cases: [(AudioConstraints, &str); 4] = [
        (AudioConstraints { sample_rate: exact(1_000_000.0), ..Default::default() }, "sampleRate"),
        (
            AudioConstraints {
                sample_rate: ConstrainRange { min: Some(50_000.0), max: Some(40_000.0), ..Default::default() },
                ..Default::default()
            },
            "sampleRate",
        ),
        (AudioConstraints { channel_count: exact(1000.0), ..Default::default() }, "channelCount"),
        (AudioConstraints { sample_size: exact(24.0), ..Default::default() }, "sampleSize"),
    ];
    for (c, name) in cases {
        let e = microphone("mst_capture", &c).unwrap_err();
        assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some(name)), "{e}");
        assert!(e.message.contains(name) && e.message.contains("mst_capture"), "{e}");
    }
    let nan = AudioConstraints { sample_rate: exact(f64::NAN), ..Default::default() };
    assert_eq!(microphone("mst_capture", &nan).unwrap_err().kind, ErrorKind::InvalidArg);
}

#[test]
fn unknown_devices_are_no_device_naming_the_id() {
    setup();
    for id in ["mst_no_such_pcm", "hw:CARD=NoSuchCard,DEV=0"] {
        let e = microphone(id, &AudioConstraints::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");
        assert!(e.message.contains(id), "{e}");
        let g = Generator::new(Kind::Audio);
        let e = AudioPlayback::open(g.track(), id).err().unwrap();
        assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");
        assert!(e.message.contains(id), "{e}");
    }
    let g = Generator::new(Kind::Video);
    assert_eq!(AudioPlayback::open(g.track(), "mst_play_b").err().unwrap().kind, ErrorKind::Type);
}

#[test]
fn playback_writes_exactly_the_tracks_samples_then_silence() {
    let f = setup();
    let out = f.dir.join("play_a.raw");
    let g = Generator::new(Kind::Audio);
    let playback = AudioPlayback::open(g.track(), "mst_play_a").unwrap();
    let reader = Processor::new(g.track(), 1000);
    // A planar float tone: the sink converts it to interleaved float for the device.
    let chunks = 50u32;
    for n in 0..chunks {
        let init = AudioDataInit {
            format: AudioSampleFormat::F32Planar,
            sample_rate: RATE as f32,
            number_of_frames: 480,
            number_of_channels: 2,
            timestamp: n as i64 * 10_000,
        };
        let mut data = Vec::with_capacity(480 * 2 * 4);
        for ch in 0..2 {
            for i in 0..480 {
                let v = sine(n as usize * 480 + i) as f32 / 32768.0 * if ch == 0 { 1.0 } else { -0.5 };
                data.extend_from_slice(&v.to_ne_bytes());
            }
        }
        g.write(Frame::audio_copy(&init, &data).unwrap()).unwrap();
    }
    // Read before closing: the end empties a processor's queue (processorClose).
    let mut expected = Vec::new();
    let opts = AudioCopyOptions { format: Some(AudioSampleFormat::F32), ..Default::default() };
    while let Ok(d) = reader.read(Wait::No) {
        let mut buf = vec![0u8; d.frame.audio_allocation_size(&opts).unwrap()];
        d.frame.audio_copy_to(&mut buf, &opts).unwrap();
        expected.extend_from_slice(&buf);
    }
    g.close();
    let stats = playback.finish().unwrap();
    assert_eq!(stats.frames_played, chunks as u64 * 480, "{stats:?}");
    assert_eq!((stats.chunks_dropped, stats.chunks_rejected), (0, 0), "{stats:?}");
    assert_eq!(expected.len(), chunks as usize * 480 * 2 * 4);
    // The track's samples, then the silence the sink ends a stream with (so a device never
    // plays stale buffer contents past the end): at most a buffer of 4 periods.
    let written = std::fs::read(&out).unwrap();
    let (audio, tail) = written.split_at(expected.len().min(written.len()));
    assert!(
        audio == expected,
        "the file holds {} bytes, the track delivered {}; first difference at byte {:?}",
        written.len(),
        expected.len(),
        audio.iter().zip(&expected).position(|(a, b)| a != b)
    );
    assert!(tail.iter().all(|&b| b == 0), "the file goes on with something other than silence");
    assert!(tail.len() <= 4 * 480 * 2 * 4, "{} bytes of silence after the stream", tail.len());
}

#[test]
fn playback_close_stops_a_live_track() {
    setup();
    let tone = mst::source::synthetic::tone(&mst::source::synthetic::ToneOptions {
        sample_rate: RATE,
        channels: 2,
        frequency: 440.0,
        amplitude: 0.5,
        format: AudioSampleFormat::S16,
        chunk_frames: 0,
        paced: true,
        chunk_count: 0,
    })
    .unwrap();
    let playback = AudioPlayback::open(&tone, "mst_play_b").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mid = playback.stats();
    assert!(mid.frames_played > 0, "{mid:?}");
    let end = playback.close().unwrap();
    assert!(end.frames_played >= mid.frames_played);
    tone.stop();
}

#[test]
fn enumeration_lists_default_input_and_output() {
    setup();
    let list = device::enumerate().unwrap();
    for kind in [DeviceKind::AudioInput, DeviceKind::AudioOutput] {
        assert!(list.iter().any(|d| d.kind == kind && d.device_id == "default"), "{list:?}");
    }
    let mut seen = std::collections::HashSet::new();
    for d in &list {
        assert!(!d.label.is_empty() && !d.group_id.is_empty(), "{d:?}");
        assert!(seen.insert((d.kind, d.device_id.clone())), "duplicate {d:?}");
    }
}
