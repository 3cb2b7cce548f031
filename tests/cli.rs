//! The `mst` command, run as a user runs it, against the test pattern and the tone (the
//! device verbs against vivid and snd-aloop are in vm_cli.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "common/listed.rs"]
mod listed;

const MST: &str = env!("CARGO_BIN_EXE_mst");

/// A fresh directory for one test's files, removed when the test passes (a failed test's
/// stays, for a look at what mst wrote).
struct TestDir(PathBuf);

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the test's files are kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn dir(name: &str) -> TestDir {
    let d = std::env::temp_dir().join(format!("mst-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TestDir(d)
}

fn mst(args: &[&str]) -> Output {
    Command::new(MST).args(args).stdin(Stdio::null()).output().expect("running mst")
}

/// Runs mst, asserting it exits with `code`; its stdout.
#[track_caller]
fn expect(code: i32, args: &[&str]) -> String {
    let out = mst(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "mst {args:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap())
}

/// Width, height, colour type and pixels of a PNG.
fn decode_png(path: &Path) -> (u32, u32, png::ColorType, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, info.color_type, buf)
}

const VERBS: [&str; 6] = ["devices", "record", "snapshot", "info", "play", "virtual-camera"];

#[test]
fn every_verb_has_help() {
    for verb in VERBS {
        let usage = format!("Usage: mst {verb}");
        for args in [vec![verb, "--help"], vec![verb, "-h"], vec!["help", verb], vec![verb, "x", "--help"]] {
            let out = expect(0, &args);
            assert!(out.starts_with(&usage), "mst {args:?}: {out}");
            assert!(out.contains("Exit status:") && out.contains("3  no such device"), "mst {args:?}: {out}");
        }
    }
    let top = expect(0, &["--help"]);
    for verb in VERBS {
        assert!(top.contains(&format!("\n  {verb} ")), "{verb} is not in the verb list: {top}");
    }
    assert_eq!(expect(0, &["help"]), top);
    assert!(expect(0, &["--version"]).starts_with("mst "));
}

#[test]
fn bad_arguments_exit_2() {
    let d = dir("usage");
    let y4m = d.join("x.y4m");
    let wav = d.join("x.wav");
    for args in [
        &[][..],
        &["frob"],
        &["help", "frob"],
        &["record"],
        &["record", "test-pattern"],
        &["record", "test-pattern", "-o", s(&y4m), "--bogus"],
        &["record", "test-pattern", "-o", s(&y4m), "--frames"],
        &["record", "test-pattern", "-o", s(&y4m), "--frames", "0"],
        &["record", "test-pattern", "-o", s(&y4m), "--frames", "2", "--seconds", "1"],
        &["record", "test-pattern", "-o", s(&y4m), "--width", "wide"],
        &["record", "test-pattern", "-o", s(&wav), "--frames", "1"],
        &["record", "tone", "-o", s(&y4m), "--frames", "1"],
        &["record", "tone", "-o", &format!("{}/x.mp4", s(&d)), "--frames", "1"],
        &["record", "test-pattern", "extra", "-o", s(&y4m)],
        &["snapshot", "tone", "-o", &format!("{}/x.png", s(&d))],
        &["snapshot", "test-pattern", "-o", s(&y4m)],
        &["devices", "extra"],
        &["devices", "--watch=yes"],
        &["info"],
        &["play"],
    ] {
        let out = mst(args);
        assert_eq!(out.status.code(), Some(2), "mst {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("mst: "), "mst {args:?} says why: {err}");
    }
    // A refused shape is the library's InvalidArg: also a bad argument.
    let out = mst(&["record", "test-pattern", "-o", s(&y4m), "--width", "1", "--frames", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!y4m.exists(), "no file for a refused command");
}

#[test]
fn a_missing_device_exits_3() {
    let d = dir("missing");
    let out = expect(3, &["record", "v4l2:no-such-bus:0", "-o", s(&d.join("x.y4m")), "--frames", "1"]);
    assert!(out.is_empty());
    expect(3, &["snapshot", "hw:CARD=NoSuchCard,DEV=0", "-o", s(&d.join("x.png"))]);
    expect(3, &["info", "no-such-device"]);
    // Fake devices live in the process that adds them: another process has none.
    expect(3, &["record", "fake:cam", "-o", s(&d.join("f.y4m")), "--frames", "1"]);
    expect(3, &["virtual-camera", "test-pattern", "v4l2:no-such-bus:0", "--frames", "1"]);
    let e = mst(&["info", "no-such-device"]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("\"no-such-device\""));
}

#[test]
fn alsa_lib_never_prints_to_stderr() {
    // ALSA's "default" opens where a sound card exists and fails where none does (CI); either
    // way stderr holds mst's own words only: alsa-lib's lines go to the (silent) log.
    let out = mst(&["info", "default"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("ALSA lib"), "alsa-lib printed to stderr:\n{err}");
    if !out.status.success() {
        assert_eq!(err.lines().count(), 1, "more than mst's one-line error:\n{err}");
        assert!(err.starts_with("mst: "), "{err}");
    }
}

#[test]
fn record_y4m_holds_exactly_the_frames_asked_for() {
    let d = dir("y4m");
    let path = d.join("a.y4m");
    let out = mst(&["record", "test-pattern", "-o", s(&path), "--frames", "7", "--width", "64", "--height", "48"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "no status line off a terminal: {}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&path).unwrap();
    let header = b"YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED XMST_MATRIX=BT709\n";
    assert_eq!(&bytes[..header.len()], header);
    let record = 6 + 64 * 48 * 3 / 2;
    assert_eq!(bytes.len(), header.len() + 7 * record);
    for k in 0..7 {
        assert_eq!(&bytes[header.len() + k * record..][..6], b"FRAME\n");
    }

    // --seconds goes by timestamps: 1.5 s at 10 fps is 15 frames.
    let path = d.join("b.y4m");
    let args = [
        "record",
        "test-pattern",
        "-o",
        s(&path),
        "--seconds",
        "1.5",
        "--fps",
        "10",
        "--width",
        "32",
        "--height",
        "16",
    ];
    expect(0, &args);
    let bytes = std::fs::read(&path).unwrap();
    let header = b"YUV4MPEG2 W32 H16 F10:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED XMST_MATRIX=BT709\n";
    assert_eq!(&bytes[..header.len()], header);
    assert_eq!(bytes.len(), header.len() + 15 * (6 + 32 * 16 * 3 / 2));
}

#[test]
fn record_wav_cuts_audio_exactly() {
    let d = dir("wav");
    // 1000 sample frames at 8 kHz: 12 whole 10 ms chunks and 40 frames of the 13th.
    let path = d.join("a.wav");
    expect(0, &["record", "tone", "-o", s(&path), "--frames", "1000", "--rate", "8000", "--channels", "2"]);
    let b = std::fs::read(&path).unwrap();
    assert_eq!((&b[0..4], &b[8..16]), (&b"RIFF"[..], &b"WAVEfmt "[..]));
    assert_eq!(u16_at(&b, 20), 3, "the tone is 32-bit float");
    assert_eq!((u16_at(&b, 22), u32_at(&b, 24), u16_at(&b, 34)), (2, 8000, 32));
    assert_eq!(&b[36..40], b"data");
    assert_eq!(u32_at(&b, 40), 1000 * 2 * 4);
    assert_eq!(b.len(), 44 + 8000);
    assert_eq!(u32_at(&b, 4) as usize, b.len() - 8);

    // 0.25 s at 48 kHz, 6 channels: WAVE_FORMAT_EXTENSIBLE.
    let path = d.join("b.wav");
    expect(0, &["record", "tone", "-o", s(&path), "--seconds", "0.25", "--channels", "6"]);
    let b = std::fs::read(&path).unwrap();
    assert_eq!((u16_at(&b, 20), u16_at(&b, 22), u32_at(&b, 24)), (0xFFFE, 6, 48_000));
    assert_eq!(u16_at(&b, 44), 3, "float sub-format");
    assert_eq!(u32_at(&b, 64), 12_000 * 6 * 4);
    assert_eq!(b.len(), 68 + 12_000 * 6 * 4);
}

#[test]
fn record_png_first_frame_and_sequence() {
    let d = dir("png");
    let one = d.join("one.png");
    expect(0, &["record", "test-pattern", "-o", s(&one), "--width", "80", "--height", "60"]);
    let (w, h, color, px) = decode_png(&one);
    assert_eq!((w, h, color), (80, 60, png::ColorType::Rgb));
    assert_eq!(px.len(), 80 * 60 * 3);

    let pattern = d.join("f-%03d.png");
    expect(0, &["record", "test-pattern", "-o", s(&pattern), "--frames", "3", "--width", "32", "--height", "32"]);
    let mut names: Vec<String> =
        std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["f-001.png", "f-002.png", "f-003.png", "one.png"]);
    let frames: Vec<Vec<u8>> = (1..=3).map(|i| decode_png(&d.join(format!("f-{i:03}.png"))).3).collect();
    assert_ne!(frames[0], frames[1], "the pattern moves: each file is its own frame");
}

#[test]
fn snapshot_is_a_png_of_the_source_size_with_its_colours() {
    let d = dir("snapshot");
    let path = d.join("s.png");
    expect(0, &["snapshot", "test-pattern", "-o", s(&path), "--width", "160", "--height", "90", "--warmup", "2"]);
    let (w, h, color, px) = decode_png(&path);
    assert_eq!((w, h, color), (160, 90, png::ColorType::Rgb));
    // The pattern's eight bars (shifted, never missing) include a 75% grey at limited-range Y
    // 180 and black at Y 16: converted by the library to full-range RGB they are 191 and 0.
    let near = |c: &[u8], v: u8| c.iter().all(|&x| x.abs_diff(v) <= 1);
    assert!(px.chunks_exact(3).any(|c| near(c, 191)), "no 75% grey bar");
    assert!(px.chunks_exact(3).any(|c| near(c, 0)), "no black bar");
    let distinct: std::collections::HashSet<&[u8]> = px.chunks_exact(3).collect();
    assert!(distinct.len() >= 8, "{} colours", distinct.len());
}

#[test]
fn info_reports_capabilities_and_settings() {
    let out = expect(0, &["info", "test-pattern", "--width", "320", "--height", "180", "--fps", "15"]);
    for line in ["kind: video", "readyState: Live", "  width: 1..=320", "  height: 1..=180", "  frameRate: 0..=15"] {
        assert!(out.contains(line), "{line:?} missing in\n{out}");
    }
    let settings = out.split("settings:").nth(1).expect("a settings section");
    for line in ["  width: 320", "  height: 180", "  frameRate: 15", "  resizeMode: none"] {
        assert!(settings.contains(line), "{line:?} missing in settings\n{out}");
    }
    let out = expect(0, &["info", "tone", "--rate", "16000", "--channels", "2"]);
    for line in ["kind: audio", "  sampleRate: 16000", "  channelCount: 2", "  sampleSize: 32"] {
        assert!(out.contains(line), "{line:?} missing in\n{out}");
    }
}

#[test]
fn devices_lists_only_what_opens() {
    let out = expect(0, &["devices"]);
    // "default" is listed for a direction only when a card offers it.
    for (kind, what) in [("microphone", "microphone hw:"), ("speaker", "speaker hw:")] {
        if out.contains(&format!("{kind} default\n")) {
            assert!(out.contains(what), "{kind} default listed without a card:\n{out}");
        }
    }
    if !Path::new("/proc/asound/cards").exists()
        || std::fs::read_to_string("/proc/asound/cards").unwrap_or_default().contains("no soundcards")
    {
        assert!(!out.contains(" default\n"), "no sound card, yet:\n{out}");
    }
    // Every entry opens, in a shape it lists (on a machine with devices: CI has none, the VM
    // stage's vm_cli.rs runs the same against vivid, snd-aloop and snd-dummy).
    let d = dir("listed");
    listed::open_every_listed(&out, &d, &|args| mst(args));
}

#[test]
fn the_listing_parser_reads_every_kind_of_entry() {
    // What open_every_listed relies on, so the host run above cannot pass by misreading.
    let sample = "camera v4l2:x:0\n  label: X\n  group: v4l2:x\n  mode: YUYV 640x360 @ 5, 30 fps\n\
                  microphone hw:CARD=A,DEV=0\n  label: A\n  group: alsa-card:A\n  sample formats: s16, s32\n\
                  \x20 channels: 1..=3, 6\n  sample rates: 8000..=48000 Hz (8000, 44100, 48000)\n";
    let entries = listed::parse(sample);
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].kind.as_str(), entries[0].id.as_str()), ("camera", "v4l2:x:0"));
    assert_eq!(entries[0].one("mode"), "YUYV 640x360 @ 5, 30 fps");
    assert_eq!(listed::numbers(entries[1].one("channels")), [1, 2, 3, 6]);
    assert!(listed::parse("no devices\n").is_empty());
}

#[test]
fn verbose_shows_the_library_log_and_only_then() {
    // Opening a card that does not exist: alsa-lib says why, in its words, to libmst's log.
    let d = dir("verbose");
    let wav = d.join("t.wav");
    expect(0, &["record", "tone", "-o", s(&wav), "--frames", "480"]);
    let quiet = mst(&["play", s(&wav), "hw:CARD=NoSuchCard,DEV=0"]);
    assert_eq!(quiet.status.code(), Some(3));
    let err = String::from_utf8_lossy(&quiet.stderr);
    assert_eq!(err.lines().count(), 1, "without --verbose, only mst's own line:\n{err}");
    for flag in ["--verbose", "-v"] {
        let loud = mst(&["play", s(&wav), flag, "hw:CARD=NoSuchCard,DEV=0"]);
        assert_eq!(loud.status.code(), Some(3), "{flag} changes no exit status");
        let err = String::from_utf8_lossy(&loud.stderr);
        assert!(err.contains("mst: log: alsa-lib warning: ") && err.contains("NoSuchCard"), "{flag}:\n{err}");
        assert!(err.lines().all(|l| l.starts_with("mst: ")), "every line prefixed:\n{err}");
        let last = err.lines().last().unwrap();
        // mst's own error last, without the library's error kind ("NoDevice: ").
        assert!(last.starts_with("mst: ") && last.contains("NoSuchCard"), "{flag}:\n{err}");
        assert!(!last.contains("NoDevice"), "{flag}: {last}");
    }
    // Before the verb too, and on every verb (the listing of devices included).
    let out = mst(&["-v", "devices"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for verb in VERBS {
        assert!(expect(0, &[verb, "--help"]).contains("-v, --verbose"), "{verb} --help names --verbose");
    }
}

/// Starts `mst args`, waits until `path` holds more than `min` bytes, interrupts it with
/// SIGINT and returns its exit status.
fn interrupt_when(args: &[&str], path: &Path, min: u64) -> std::process::ExitStatus {
    let mut child = Command::new(MST).args(args).stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    while std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) <= min {
        assert!(start.elapsed() < Duration::from_secs(120), "mst wrote nothing in 2 minutes");
        assert!(child.try_wait().unwrap().is_none(), "mst ended before it was interrupted");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill with a child's pid we have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    child.wait().unwrap()
}

#[test]
fn ctrl_c_finishes_the_file() {
    // The file sink writes through a 1 MiB buffer: the sources are sized to pass it in well
    // under a second, so the file visibly grows before the interrupt.
    let d = dir("sigint");
    let y4m = d.join("a.y4m");
    let status = interrupt_when(&["record", "test-pattern", "-o", s(&y4m)], &y4m, 1 << 20);
    assert_eq!(status.code(), Some(0), "Ctrl-C ends a recording successfully");
    let b = std::fs::read(&y4m).unwrap();
    let header_len = b.iter().position(|&c| c == b'\n').unwrap() + 1;
    let record = 6 + 640 * 360 * 3 / 2;
    assert!(b.len() > header_len + 3 * record, "frames were written");
    assert_eq!((b.len() - header_len) % record, 0, "only whole frames: {} bytes", b.len());

    let wav = d.join("a.wav");
    let status = interrupt_when(&["record", "tone", "-o", s(&wav), "--channels", "8"], &wav, 1 << 20);
    assert_eq!(status.code(), Some(0));
    let b = std::fs::read(&wav).unwrap();
    assert!(b.len() > 1 << 20);
    assert_eq!(u32_at(&b, 4) as usize, b.len() - 8, "RIFF size filled in");
    assert_eq!(u32_at(&b, 64) as usize, b.len() - 68, "data size filled in");
    assert_eq!(u32_at(&b, 64) % (8 * 4), 0, "whole sample frames");
}

#[test]
fn devices_watch_runs_until_ctrl_c() {
    use std::io::BufRead;
    let mut child =
        Command::new(MST).args(["devices", "--watch"]).stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
    // The listing comes first ("no devices" on a bare machine), then the watch.
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    assert!(child.try_wait().unwrap().is_none(), "--watch keeps running after the listing");
    // SAFETY: kill with a child's pid we have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn play_refuses_what_is_not_a_wav() {
    let d = dir("play");
    let path = d.join("x.wav");
    std::fs::write(&path, b"not a wav file at all").unwrap();
    let out = mst(&["play", s(&path), "no-such-device"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a RIFF WAVE file"));
}

#[test]
fn the_man_page_is_the_help() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/doc/mst.1")).unwrap();
    assert!(
        expect(0, &["--man"]) == page,
        "doc/mst.1 differs from the help texts: run `cargo build --bin mst && target/debug/mst --man > doc/mst.1`"
    );
    // Every line of every --help is in the page, in roff's spelling, verbs as sections.
    let roff = |l: &str| l.replace('\\', "\\e").replace('-', "\\-");
    for args in VERBS.iter().map(|v| vec![*v, "--help"]).chain([vec!["--help"]]) {
        for line in expect(0, &args).lines() {
            assert!(page.contains(&format!("{}\n", roff(line))), "`mst {args:?}`'s line {line:?} is not in doc/mst.1");
        }
    }
    for verb in VERBS {
        assert!(page.contains(&format!(".SS {verb}\n")), "no section for {verb}");
    }
    assert!(page.starts_with(".\\\" ") && page.contains("\n.TH MST 1 "), "a man page's header");
}

/// The test pattern's bar phase in an RGB picture: how many pixels its bars have scrolled left
/// (frame n is scrolled 4n), read from the top or bottom row, whichever the white square is not
/// on, at the edge where the 75% white bar follows the black one.
fn bar_shift(px: &[u8], w: usize, h: usize) -> usize {
    let near = |p: &[u8], v: u8| p.iter().all(|&c| c.abs_diff(v) <= 2);
    let row = [0, h - 1]
        .into_iter()
        .map(|r| &px[r * w * 3..(r + 1) * w * 3])
        .find(|r| !r.chunks_exact(3).any(|p| near(p, 255)))
        .expect("a row without the white square");
    let at = |x: usize| &row[x * 3..x * 3 + 3];
    let x0 = (0..w).find(|&x| near(at(x), 191) && near(at((x + w - 1) % w), 0)).expect("the black-to-white edge");
    (w - x0) % w
}

#[test]
fn record_png_sequence_slower_than_the_source_loses_no_frame() {
    // 36 frames of 640x360: each takes the (debug) PNG encoder far longer than the pattern
    // takes to draw one, and more than the 32 frames a processor queues: the source must wait
    // for the recorder, whatever its speed, for every frame to be written, in order.
    let d = dir("png-backpressure");
    let pattern = d.join("x%03d.png");
    let out =
        mst(&["record", "test-pattern", "-o", s(&pattern), "--frames", "36", "--width", "640", "--height", "360"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "a drop is reported: {}", String::from_utf8_lossy(&out.stderr));
    let files = std::fs::read_dir(&d).unwrap().count();
    assert_eq!(files, 36, "exactly the frames asked for");
    for i in 1..=36usize {
        let (w, h, _, px) = decode_png(&d.join(format!("x{i:03}.png")));
        assert_eq!((w, h), (640, 360));
        assert_eq!(bar_shift(&px, 640, 360), 4 * (i - 1), "x{i:03}.png is not frame {} of the pattern", i - 1);
    }
}

/// Runs `mst args` with the extra environment `env`, failing the test if it has not exited
/// after a minute (what it did when a sink failed: it waited for room in a dead queue).
fn within_a_minute(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(MST)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("mst {args:?} still running after 60 s: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_full_disk_ends_the_recording_with_its_error() {
    let d = dir("full");
    for (name, source) in [("full.y4m", "test-pattern"), ("full.wav", "tone")] {
        let path = d.join(name);
        std::os::unix::fs::symlink("/dev/full", &path).unwrap();
        let mut args = vec!["record", source, "-o", s(&path), "--frames", "20000"];
        if source == "test-pattern" {
            args.extend(["--width", "64", "--height", "48"]);
        }
        let out = within_a_minute(&args, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "mst {args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("mst: ") && err.contains("No space left on device"), "{err}");
        assert!(!err.starts_with("mst: Io: "), "the library's error kind is not for users: {err}");
        // Without a limit too: the failure ends it, not Ctrl-C.
        let out = within_a_minute(&args[..4], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// An ALSA configuration (alsa-lib's `file` plugin over `null`, as tests/alsa_host.rs has) with
/// `cli_play` writing what it plays to `d/played.raw` and `cli_full` to /dev/full; the
/// environment that makes alsa-lib read it.
fn alsa_files(d: &Path) -> (PathBuf, [(&'static str, String); 1]) {
    let played = d.join("played.raw");
    let conf = d.join("asound.conf");
    std::fs::write(
        &conf,
        format!(
            "pcm.cli_play {{ type file slave.pcm \"null\" file \"{}\" format \"raw\" }}\n\
             pcm.cli_full {{ type file slave.pcm \"null\" file \"/dev/full\" format \"raw\" }}\n",
            played.display()
        ),
    )
    .unwrap();
    (played, [("ALSA_CONFIG_PATH", format!("/usr/share/alsa/alsa.conf:{}", conf.display()))])
}

/// Plays `wav` into `cli_play`, asserting that exactly `data` was played, then at most a
/// buffer of the silence playback ends with.
#[track_caller]
fn plays_exactly(d: &Path, wav: &Path, data: &[u8]) {
    let (played, env) = alsa_files(d);
    let _ = std::fs::remove_file(&played);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = within_a_minute(&["play", s(wav), "cli_play"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let got = std::fs::read(&played).unwrap();
    let (audio, tail) = got.split_at(data.len().min(got.len()));
    assert!(
        audio == data,
        "{} bytes played for {} in the data chunk; first difference at byte {:?}",
        got.len(),
        data.len(),
        audio.iter().zip(data).position(|(a, b)| a != b)
    );
    assert!(tail.iter().all(|&b| b == 0), "something other than silence after the data");
    assert!(tail.len() <= data.len(), "{} bytes after the data", tail.len());
}

#[test]
fn play_plays_the_data_chunk_exactly() {
    let d = dir("play-bytes");
    // Stereo S16 at 8 kHz, a second of a ramp, behind an odd-sized LIST chunk and its pad byte.
    let data: Vec<u8> = (0..8000u32 * 2).flat_map(|i| ((i * 37 % 65536) as u16 as i16).to_le_bytes()).collect();
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    for v in [1u16, 2] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&(8000u32 * 4).to_le_bytes());
    for v in [4u16, 16] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(b"LIST");
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(b"odd\xAA");
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    let riff = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    let wav = d.join("s16.wav");
    std::fs::write(&wav, &b).unwrap();
    plays_exactly(&d, &wav, &data);

    // What `mst record` writes for 6 channels: WAVE_FORMAT_EXTENSIBLE, 32-bit float.
    let wav = d.join("six.wav");
    expect(0, &["record", "tone", "-o", s(&wav), "--seconds", "0.5", "--channels", "6"]);
    let b = std::fs::read(&wav).unwrap();
    assert_eq!((u16_at(&b, 20), &b[60..64]), (0xFFFE, &b"data"[..]));
    plays_exactly(&d, &wav, &b[68..]);
}

#[test]
fn play_into_a_failing_device_ends_with_its_error() {
    let d = dir("play-full");
    let wav = d.join("t.wav");
    expect(0, &["record", "tone", "-o", s(&wav), "--seconds", "5"]);
    let (_, env) = alsa_files(&d);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = within_a_minute(&["play", s(&wav), "cli_full"], &env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("mst: ") && err.contains("cli_full"), "{err}");
}

/// Runs `mst args` with stderr on a pseudo-terminal until its output holds every one of
/// `wanted`, then interrupts it; its exit status and everything it printed there.
fn on_a_terminal(args: &[&str], wanted: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes the two descriptors; no name, termios or size is asked for.
    let r = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh from openpty and owned only here.
    let (master, slave) = unsafe { (std::fs::File::from_raw_fd(master), std::os::fd::OwnedFd::from_raw_fd(slave)) };
    let mut child = Command::new(MST).args(args).stdin(Stdio::null()).stderr(Stdio::from(slave)).spawn().unwrap();
    // The child holds the only slave descriptor now: once it exits, reads end (EIO).
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            s2.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let start = Instant::now();
    loop {
        let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
        if wanted.iter().all(|w| text.contains(w)) {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mst {args:?}: no status line with {wanted:?} on the terminal: {text:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill with a child's pid we have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let code = child.wait().unwrap().code();
    reader.join().unwrap();
    let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    (code, text)
}

#[test]
fn a_terminal_shows_a_status_line() {
    let d = dir("status");
    // Into /dev/null: the sources run as fast as the file is written, for as long as needed.
    let wav = d.join("null.wav");
    std::os::unix::fs::symlink("/dev/null", &wav).unwrap();
    let (code, text) = on_a_terminal(&["record", "tone", "-o", s(&wav)], &["chunks dropped  peak", " dBFS"]);
    assert_eq!(code, Some(0), "{text}");
    let line = text.split('\r').rev().find(|l| l.contains("dBFS")).unwrap();
    // "   1.0 s  12.34 s of audio  1234.0 chunks/s  0 chunks dropped  peak  -6.0 dBFS"
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = |w: &str| words.iter().position(|x| *x == w).unwrap_or_else(|| panic!("no {w:?} in {line:?}"));
    let number = |i: usize| words[i].parse::<f64>().unwrap_or_else(|_| panic!("{:?} in {line:?}", words[i]));
    assert_eq!(words[at("of") + 1], "audio", "{line:?}");
    assert!(number(at("of") - 2) > 0.0, "seconds of audio: {line:?}");
    assert!(number(at("chunks/s") - 1) > 0.0, "{line:?}");
    assert_eq!(number(at("dropped") - 2), 0.0, "{line:?}");
    assert!(number(at("dBFS") - 1) < 0.0, "the tone's peak is below full scale: {line:?}");
    assert!(text.contains(" sample frames, 0 chunks dropped"), "the summary: {text:?}");

    let y4m = d.join("null.y4m");
    std::os::unix::fs::symlink("/dev/null", &y4m).unwrap();
    let args = ["record", "test-pattern", "-o", s(&y4m), "--width", "64", "--height", "48"];
    let (code, text) = on_a_terminal(&args, &[" fps  ", " dropped"]);
    assert_eq!(code, Some(0), "{text}");
    let line = text.split('\r').rev().find(|l| l.contains("fps")).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[1..], ["s", words[2], "frames", words[4], "fps", words[6], "dropped"], "{line:?}");
    assert!(words[2].parse::<u64>().unwrap() > 0 && words[4].parse::<f64>().unwrap() > 0.0, "{line:?}");
    assert!(!line.contains("dBFS"), "{line:?}");
    assert!(text.contains(" frames, 0 frames dropped"), "the summary: {text:?}");
}

#[test]
fn options_that_do_not_apply_to_the_source_are_refused() {
    let d = dir("inapplicable");
    for (source, out, option) in [
        ("tone", "x.wav", &["--fps", "30"][..]),
        ("tone", "x.wav", &["--width", "64"]),
        ("test-pattern", "x.y4m", &["--rate", "8000"]),
        ("test-pattern", "x.y4m", &["--channels", "2"]),
    ] {
        let path = d.join(out);
        let args = [&["record", source, "-o", s(&path), "--frames", "1"][..], option].concat();
        let o = mst(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "mst {args:?}: {err}");
        assert!(err.starts_with(&format!("mst: {} does not apply to {source}", option[0])), "{err}");
        assert!(!path.exists(), "no file for a refused command");
        let info = mst(&[&["info", source][..], option].concat());
        assert_eq!(info.status.code(), Some(2), "info {source} {option:?}");
    }
}
