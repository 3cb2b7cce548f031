//! The `mst` command against the VM's real drivers (`scripts/vm-test.sh` copies the binary into
//! build/vm-examples, which travels into the guest as ./vm-examples): vivid's camera and output,
//! snd-aloop's and snd-dummy's PCMs. tests/cli.rs covers the same verbs on the test sources.
//!
//! `#[ignore]`d outside the VM, like every tests/vm_*.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mst::source::synthetic::BARS;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

#[path = "common/listed.rs"]
mod listed;

#[path = "common/vivid_loop.rs"]
mod vivid_loop;

/// Long enough to tell a slow step from a hang on a busy host; never a speed check.
const HANG: Duration = Duration::from_secs(60);

fn mst_path() -> PathBuf {
    let p = std::env::current_dir().unwrap().join("vm-examples").join("mst");
    assert!(p.exists(), "{} is missing: scripts/vm-test.sh copies the mst binary into build/vm-examples", p.display());
    p
}

fn mst(args: &[&str]) -> Output {
    let out = Command::new(mst_path()).args(args).current_dir("/tmp").stdin(Stdio::null()).output().unwrap();
    println!(
        "$ mst {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[track_caller]
fn ok(args: &[&str]) -> String {
    let out = mst(args);
    assert_eq!(out.status.code(), Some(0), "mst {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The id after `<kind> ` on the first line of `mst devices` that contains `with`.
fn device_id(listing: &str, kind: &str, with: &str) -> String {
    listing
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{kind} ")))
        .find(|id| id.contains(with))
        .unwrap_or_else(|| panic!("no {kind} with {with:?} in\n{listing}"))
        .to_string()
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap())
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_devices_lists_vivid_with_modes_and_the_cards() {
    if !in_vm("cli_devices_lists_vivid_with_modes_and_the_cards") {
        return;
    }
    let out = ok(&["devices"]);
    let camera = device_id(&out, "camera", "vivid");
    let block: String = out
        .split(&format!("camera {camera}\n"))
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(block.contains("  group: v4l2:platform:vivid-000"), "{block}");
    assert!(block.contains("  mode: YUYV 640x360 @ "), "vivid offers YUYV 640x360:\n{block}");
    assert!(block.lines().filter(|l| l.starts_with("  mode: ")).count() >= 2, "modes:\n{block}");
    device_id(&out, "video-output", "vivid");
    device_id(&out, "microphone", "CARD=Loopback");
    device_id(&out, "microphone", "CARD=Dummy");
    device_id(&out, "speaker", "CARD=Loopback");
    // ALSA's "default" is listed exactly when it opens. In the VM it does not: its dmix and
    // dsnoop want a group "audio" the initramfs has not got, and --verbose says so.
    let opens = mst(&["info", "default"]).status.success();
    assert_eq!(out.contains("microphone default\n"), opens, "{out}");
    if !opens {
        let err = String::from_utf8(mst(&["devices", "--verbose"]).stderr).unwrap();
        assert!(err.contains("mst: log: libmst info: not listed: ") && err.contains("\"default\""), "{err}");
    }
    // Each entry says what it offers, as libmst opens it.
    let entries = listed::parse(&out);
    for e in &entries {
        match e.kind.as_str() {
            "microphone" | "speaker" => {
                assert!(!e.one("sample formats").is_empty(), "{} {}", e.kind, e.id);
                assert!(!listed::numbers(e.one("channels")).is_empty(), "{} {}", e.kind, e.id);
                assert!(e.one("sample rates").contains(" Hz ("), "{} {}", e.kind, e.id);
            }
            "video-output" => {
                assert!(e.all("format").iter().any(|f| f.starts_with("YU12 ")), "vivid takes YU12: {:?}", e.lines)
            }
            _ => {}
        }
    }
    // snd-aloop takes 1..=32 channels at 8..192 kHz in every format libmst moves (its driver's
    // hw constraints), so the listing must say so.
    let aloop = entries.iter().find(|e| e.kind == "microphone" && e.id == "hw:CARD=Loopback,DEV=0").unwrap();
    assert_eq!(aloop.one("channels"), "1..=32");
    assert!(aloop.one("sample rates").starts_with("8000..=192000 Hz (8000, 11025, 16000"), "{:?}", aloop.lines);
    // And every entry opens, in a shape it lists.
    let dir = Path::new("/tmp/listed");
    std::fs::create_dir_all(dir).unwrap();
    let opened = listed::open_every_listed(&out, dir, &|args| mst(args));
    assert_eq!(opened, entries.len());
    assert!(opened >= 8, "vivid's 2 nodes, Loopback's 2 devices x2, Dummy x2: {opened}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs a module tool (busybox's modprobe or rmmod in the guest), asserting it succeeds.
fn module(tool: &str, args: &[&str]) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// snd-dummy reloaded with other parameters; back to the VM's standard ones on drop (also
/// when the test fails), so the tests after it find card 1 "Dummy" as before.
struct DummyWith;

impl DummyWith {
    fn new(params: &[&str]) -> DummyWith {
        module("rmmod", &["snd_dummy"]);
        let guard = DummyWith;
        module("modprobe", &[&["snd-dummy", "index=1"][..], params].concat());
        guard
    }
}

impl Drop for DummyWith {
    fn drop(&mut self) {
        let _ = Command::new("rmmod").arg("snd_dummy").status();
        let _ = Command::new("modprobe").args(["snd-dummy", "index=1"]).status();
        let deadline = Instant::now() + HANG;
        while !card_present("Dummy") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_devices_lists_a_device_in_use_as_busy() {
    if !in_vm("cli_devices_lists_a_device_in_use_as_busy") {
        return;
    }
    // With one capture substream, snd-dummy's PCM opens once: while mst records from it, the
    // listing keeps it, saying it is busy (rather than leaving out a device a user may want).
    let _dummy = DummyWith::new(&["pcm_substreams=1"]);
    let mut child = Command::new(mst_path())
        .args(["record", "hw:CARD=Dummy,DEV=0", "-o", "/tmp/busy.wav", "--rate", "48000"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The recorder holds the PCM from its start; list until the listing shows it held.
    let start = Instant::now();
    let listing = loop {
        let listing = ok(&["devices"]);
        if listing.contains("  busy: ") {
            break listing;
        }
        assert!(start.elapsed() < HANG, "the microphone in use never showed as busy");
        assert!(child.try_wait().unwrap().is_none(), "mst record ended by itself");
        std::thread::sleep(Duration::from_millis(200));
    };
    // SAFETY: kill with a child's pid we have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    // Its status is not this test's business (it may be interrupted before its first chunk,
    // which is an error: nothing recorded); only that Ctrl-C ended it.
    let status = child.wait().unwrap();
    assert!(status.code().is_some(), "the recorder ended by Ctrl-C, not killed by it: {status}");
    let _ = std::fs::remove_file("/tmp/busy.wav");
    let entries = listed::parse(&listing);
    let mic = entries.iter().find(|e| e.kind == "microphone" && e.id == "hw:CARD=Dummy,DEV=0").expect("still listed");
    assert!(mic.one("busy").contains("busy"), "{:?}", mic.lines);
    assert!(mic.all("sample formats").is_empty(), "{:?}", mic.lines);
    let speaker = entries.iter().find(|e| e.kind == "speaker" && e.id == "hw:CARD=Dummy,DEV=0").unwrap();
    assert!(speaker.all("busy").is_empty(), "playback is another PCM: {:?}", speaker.lines);
}

/// Unbinds a platform device from its driver; binds it back on drop (also when the test
/// fails), and waits for it to be there again.
struct Unbound {
    driver: &'static str,
    device: &'static str,
    back: fn() -> bool,
}

impl Unbound {
    fn new(driver: &'static str, device: &'static str, back: fn() -> bool) -> Unbound {
        std::fs::write(format!("/sys/bus/platform/drivers/{driver}/unbind"), device)
            .unwrap_or_else(|e| panic!("unbinding {device}: {e}"));
        Unbound { driver, device, back }
    }

    fn bind(&mut self) {
        if !(self.back)() {
            std::fs::write(format!("/sys/bus/platform/drivers/{}/bind", self.driver), self.device)
                .unwrap_or_else(|e| panic!("binding {}: {e}", self.device));
        }
        let deadline = Instant::now() + HANG;
        while !(self.back)() {
            assert!(Instant::now() < deadline, "{} did not come back after bind", self.device);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        if !(self.back)() {
            let _ = std::fs::write(format!("/sys/bus/platform/drivers/{}/bind", self.driver), self.device);
        }
    }
}

fn vivid_present() -> bool {
    Path::new("/sys/bus/platform/drivers/vivid/vivid.0").exists()
}

fn dummy_present() -> bool {
    card_present("Dummy")
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_devices_watch_reports_removals_and_arrivals() {
    if !in_vm("cli_devices_watch_reports_removals_and_arrivals") {
        return;
    }
    use std::io::BufRead;
    let mut child = Command::new(mst_path())
        .args(["devices", "--watch"])
        .current_dir("/tmp")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("watch: {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Waits (generously: only to tell a hang) for every line of `want`, in any order, among
    // the entries (not their indented detail lines).
    let expect = |want: &[&str]| {
        let deadline = Instant::now() + HANG;
        let mut missing: Vec<&str> = want.to_vec();
        while !missing.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => missing.retain(|w| !line.starts_with(w)),
                Err(_) => panic!("no {missing:?} from `mst devices --watch` in {HANG:?}"),
            }
        }
    };
    // The listing ends with the video outputs: past it, the watch knows every device.
    expect(&[
        "speaker hw:CARD=Dummy,DEV=0",
        "camera v4l2:platform:vivid-000:0",
        "video-output v4l2:platform:vivid-000:1",
    ]);
    let gone = [
        "- microphone hw:CARD=Dummy,DEV=0 (",
        "- speaker hw:CARD=Dummy,DEV=0 (",
        "- camera v4l2:platform:vivid-000:0 (",
        "- video-output v4l2:platform:vivid-000:1 (",
    ];
    let mut dummy = Unbound::new("snd_dummy", "snd_dummy.0", dummy_present);
    let mut vivid = Unbound::new("vivid", "vivid.0", vivid_present);
    expect(&gone);
    dummy.bind();
    vivid.bind();
    let back: Vec<String> = gone.iter().map(|g| g.replacen('-', "+", 1)).collect();
    expect(&back.iter().map(String::as_str).collect::<Vec<_>>());
    // SAFETY: kill with a child's pid we have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_snapshot_record_and_info_on_the_vivid_camera() {
    if !in_vm("cli_snapshot_record_and_info_on_the_vivid_camera") {
        return;
    }
    let camera = device_id(&ok(&["devices"]), "camera", "vivid");
    let shape = ["--width", "640", "--height", "360", "--fps", "30"];

    let info = ok(&[&["info", camera.as_str()][..], &shape].concat());
    assert!(info.contains("kind: video") && info.contains("label: ") && info.contains("capabilities:"), "{info}");
    let setting = |name: &str| -> u32 {
        let settings = info.split("settings:").nth(1).unwrap();
        let line = settings.lines().find(|l| l.trim_start().starts_with(&format!("{name}: "))).unwrap();
        line.split(": ").nth(1).unwrap().parse().unwrap_or_else(|e| panic!("{line}: {e}"))
    };
    let (w, h) = (setting("width"), setting("height"));

    let png = Path::new("/tmp/vivid.png");
    ok(&[&["snapshot", camera.as_str(), "-o", "/tmp/vivid.png", "--warmup", "2"][..], &shape].concat());
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!((frame.width, frame.height, frame.color_type), (w, h, png::ColorType::Rgb));
    let distinct: std::collections::HashSet<&[u8]> = buf[..frame.buffer_size()].chunks_exact(3).collect();
    assert!(distinct.len() > 4, "vivid's picture has colours: {}", distinct.len());
    let _ = std::fs::copy(png, "/out/vivid.png");

    let y4m = Path::new("/tmp/vivid.y4m");
    ok(&[&["record", camera.as_str(), "-o", "/tmp/vivid.y4m", "--frames", "5"][..], &shape].concat());
    let b = std::fs::read(y4m).unwrap();
    let header_len = b.iter().position(|&c| c == b'\n').unwrap() + 1;
    let header = String::from_utf8_lossy(&b[..header_len]);
    assert!(header.starts_with(&format!("YUV4MPEG2 W{w} H{h} ")), "{header}");
    assert_eq!(b.len(), header_len + 5 * (6 + (w * h * 3 / 2) as usize), "{header}");
    std::fs::remove_file(y4m).unwrap();
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_record_a_microphone_to_wav_exactly() {
    if !in_vm("cli_record_a_microphone_to_wav_exactly") {
        return;
    }
    let mic = device_id(&ok(&["devices"]), "microphone", "CARD=Dummy");
    ok(&["record", &mic, "-o", "/tmp/dummy.wav", "--seconds", "0.5", "--rate", "48000", "--channels", "2"]);
    let b = std::fs::read("/tmp/dummy.wav").unwrap();
    assert_eq!((&b[0..4], &b[8..16]), (&b"RIFF"[..], &b"WAVEfmt "[..]));
    let (channels, rate, block) = (u16_at(&b, 22), u32_at(&b, 24), u16_at(&b, 32));
    assert_eq!((channels, rate), (2, 48_000));
    assert_eq!(u32_at(&b, 40), 24_000 * block as u32, "0.5 s exactly");
    assert_eq!(u32_at(&b, 4) as usize, b.len() - 8);
    std::fs::remove_file("/tmp/dummy.wav").unwrap();
}

/// When `f` (I420 planes, w x h, tightly packed) is exactly a frame of mst's test pattern (its
/// eight bars scrolled left by a multiple of 4 pixels, and one white square of side h/6 at
/// even coordinates, white in chroma too), the frame's index modulo the bars' cycle (w / 4
/// frames); None for any other picture.
fn pattern_phase(f: &[u8], w: usize, h: usize) -> Option<usize> {
    let (yp, rest) = f.split_at(w * h);
    let (up, vp) = rest.split_at(w * h / 4);
    // The square is shorter than the frame: the top or the bottom row is all bars.
    let clear = [0, h - 1].into_iter().map(|r| &yp[r * w..(r + 1) * w]).find(|r| !r.contains(&235))?;
    // Where white follows black is where the first bar starts.
    let x0 = (0..w).find(|&x| clear[x] == BARS[0].0 && clear[(x + w - 1) % w] == BARS[7].0)?;
    let shift = (w - x0) % w;
    if !shift.is_multiple_of(4) {
        return None;
    }
    let bar = |x: usize| BARS[((x + shift) % w) * 8 / w];
    let (mut lo, mut hi, mut white) = ((w, h), (0, 0), 0usize);
    for y in 0..h {
        for x in 0..w {
            match yp[y * w + x] {
                235 => {
                    (lo, hi, white) = ((lo.0.min(x), lo.1.min(y)), (hi.0.max(x), hi.1.max(y)), white + 1);
                }
                v if v == bar(x).0 => {}
                _ => return None,
            }
        }
    }
    let side = (w.min(h) / 6).max(2) & !1;
    let in_box = |x: usize, y: usize| x >= lo.0 && x <= hi.0 && y >= lo.1 && y <= hi.1;
    if white != side * side
        || hi.0 + 1 - lo.0 != side
        || hi.1 + 1 - lo.1 != side
        || !lo.0.is_multiple_of(2)
        || !lo.1.is_multiple_of(2)
    {
        return None;
    }
    for cy in 0..h / 2 {
        for cx in 0..w / 2 {
            let (_, u, v) = if in_box(cx * 2, cy * 2) { (235, 128, 128) } else { bar(cx * 2) };
            if up[cy * (w / 2) + cx] != u || vp[cy * (w / 2) + cx] != v {
                return None;
            }
        }
    }
    Some(shift / 4)
}

/// The frame's I420 planes, tightly packed.
fn i420_planes(f: &mst::Frame, w: usize, h: usize) -> Vec<u8> {
    let v = f.video().unwrap();
    assert_eq!(
        (v.format, v.visible_rect.width as usize, v.visible_rect.height as usize),
        (mst::VideoPixelFormat::I420, w, h)
    );
    let mut out = Vec::with_capacity(w * h * 3 / 2);
    for (i, (pw, ph)) in [(w, h), (w / 2, h / 2), (w / 2, h / 2)].into_iter().enumerate() {
        let (p, stride) = f.plane(i).unwrap();
        for y in 0..ph {
            out.extend_from_slice(&p[y * stride..y * stride + pw]);
        }
    }
    out
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_virtual_camera_frames_come_back_through_vivids_loop() {
    if !in_vm("cli_virtual_camera_frames_come_back_through_vivids_loop") {
        return;
    }
    let output = device_id(&ok(&["devices"]), "video-output", "vivid");
    // A limited run ends by itself.
    ok(&["virtual-camera", "test-pattern", &output, "--frames", "10", "--width", "640", "--height", "360"]);
    pattern_comes_back_through_vivids_loop(Some(&output));
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_virtual_camera_without_a_device_uses_the_first_output() {
    if !in_vm("cli_virtual_camera_without_a_device_uses_the_first_output") {
        return;
    }
    let listing = ok(&["devices"]);
    let first = listing.lines().find_map(|l| l.strip_prefix("video-output ")).expect("a video output");
    assert_eq!(first, device_id(&listing, "video-output", "vivid"), "vivid's output is the first:\n{listing}");
    let out = mst(&["virtual-camera", "test-pattern", "--frames", "10", "--width", "640", "--height", "360"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "a run that works prints nothing");
    pattern_comes_back_through_vivids_loop(None);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_info_on_the_loopback_microphone() {
    if !in_vm("cli_info_on_the_loopback_microphone") {
        return;
    }
    let mic = device_id(&ok(&["devices"]), "microphone", "CARD=Loopback,DEV=1");
    let info = ok(&["info", &mic, "--rate", "48000", "--channels", "2"]);
    for line in ["label: ", "kind: audio", "readyState: Live", "muted: false"] {
        assert!(info.contains(line), "{line:?} missing in\n{info}");
    }
    assert!(info.lines().any(|l| l.starts_with("label: ") && l.contains("Loopback")), "{info}");
    // Settings describe the first chunk, which came: no "-" left.
    let settings = info.split("settings:").nth(1).expect("a settings section");
    for line in ["  sampleRate: 48000", "  channelCount: 2"] {
        assert!(settings.contains(line), "{line:?} missing in settings\n{info}");
    }
    let size = settings.lines().find_map(|l| l.strip_prefix("  sampleSize: ")).expect("sampleSize");
    assert!(["8", "16", "32"].contains(&size), "sampleSize {size:?}\n{info}");
    // An option of the other kind is refused, not ignored.
    let out = mst(&["info", &mic, "--width", "640"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `mst virtual-camera test-pattern [OUTPUT]` at 1280x720 and reads vivid's capture node
/// back through its loop until four distinct frames of the pattern have come, in order: the
/// frames went to vivid's output.
fn pattern_comes_back_through_vivids_loop(output: Option<&str>) {
    use mst::device::DeviceKind;
    use mst::source::v4l2::{camera, CameraFormat, CameraOptions};
    // The loop takes the output's frames into the capture node as they are, when both sides
    // are YU12 at the HDMI timings' 1280x720: mst's test pattern must come back exactly.
    let (w, h) = (1280usize, 720usize);
    let _vivid = vivid_loop::Loop::new();
    let mut args = vec!["virtual-camera", "test-pattern", "--width", "1280", "--height", "720"];
    args.extend(output);
    let mut child = Command::new(mst_path())
        .args(&args)
        .current_dir("/tmp")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let exact = |v: f64| mst::ConstrainRange { exact: Some(v), ..Default::default() };
    let c = mst::VideoConstraints { width: exact(w as f64), height: exact(h as f64), ..Default::default() };
    let cam_id = vivid_loop::vivid(DeviceKind::VideoInput);
    let cam = camera(&cam_id, &c, &CameraOptions { format: Some(CameraFormat::Yu12) }).unwrap();
    let p = mst::Processor::new(&cam, 2);
    let (mut phases, mut other) = (Vec::new(), 0u32);
    let deadline = Instant::now() + HANG;
    // Frames before the command streams (and any the loop shows between writes) are vivid's
    // own picture; four distinct frames of the pattern show it flowing.
    while phases.iter().collect::<std::collections::HashSet<_>>().len() < 4 {
        assert!(
            Instant::now() < deadline,
            "{} pattern frames ({phases:?}) and {other} others in {HANG:?}",
            phases.len()
        );
        assert!(child.try_wait().unwrap().is_none(), "mst virtual-camera ended by itself");
        let f = match p.read(mst::Wait::For(Duration::from_secs(5))) {
            Ok(d) => d.frame,
            Err(e) if e.kind == mst::ErrorKind::Timeout => continue,
            Err(e) => panic!("reading the camera: {e}"),
        };
        match pattern_phase(&i420_planes(&f, w, h), w, h) {
            Some(phase) => phases.push(phase),
            None => other += 1,
        }
    }
    cam.stop();
    // SAFETY: kill with a child's pid we have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    println!("pattern phases read back {phases:?}, {other} other frames");
    assert_eq!(status.code(), Some(0));
    // In the order they were sent: the bars only ever scroll forward (a repeat is the loop
    // showing a frame again before the next was written).
    let cycle = w / 4;
    for pair in phases.windows(2) {
        let step = (pair[1] + cycle - pair[0]) % cycle;
        assert!(step < cycle / 2, "the pattern went back from phase {} to {}: {phases:?}", pair[0], pair[1]);
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_play_a_recorded_wav_on_the_loopback() {
    if !in_vm("cli_play_a_recorded_wav_on_the_loopback") {
        return;
    }
    let speaker = device_id(&ok(&["devices"]), "speaker", "CARD=Loopback,DEV=0");
    ok(&["record", "tone", "-o", "/tmp/tone.wav", "--seconds", "0.3", "--channels", "2"]);
    ok(&["play", "/tmp/tone.wav", &speaker]);
    let out = mst(&["play", "/tmp/tone.wav", "hw:CARD=NoSuchCard,DEV=0"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file("/tmp/tone.wav").unwrap();
}

fn card_present(card: &str) -> bool {
    std::fs::read_to_string("/proc/asound/cards").is_ok_and(|c| c.contains(&format!("[{card}")))
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_unplugging_the_microphone_exits_4_with_a_finished_file() {
    if !in_vm("cli_unplugging_the_microphone_exits_4_with_a_finished_file") {
        return;
    }
    let mic = device_id(&ok(&["devices"]), "microphone", "CARD=Dummy");
    let path = Path::new("/tmp/unplug.wav");
    let mut child = Command::new(mst_path())
        .args(["record", &mic, "-o", "/tmp/unplug.wav", "--rate", "48000", "--channels", "2"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The file sink writes through a 1 MiB buffer: past it, audio is flowing.
    let start = Instant::now();
    while std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) <= 1 << 20 {
        assert!(start.elapsed() < HANG, "nothing recorded");
        assert!(child.try_wait().unwrap().is_none(), "mst ended before the unplug");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write("/sys/bus/platform/drivers/snd_dummy/unbind", "snd_dummy.0").expect("unbinding snd_dummy.0");
    let deadline = Instant::now() + HANG;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "mst did not end after the unplug");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    println!("{err}");
    std::fs::write("/sys/bus/platform/drivers/snd_dummy/bind", "snd_dummy.0").expect("binding snd_dummy.0");
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(err.contains("the device was lost"), "{err}");
    let b = std::fs::read(path).unwrap();
    assert!(b.len() > 1 << 20);
    assert_eq!(u32_at(&b, 4) as usize, b.len() - 8, "RIFF size filled in");
    assert_eq!(u32_at(&b, 40) as usize, b.len() - 44, "data size filled in");
    assert_eq!(u32_at(&b, 40) % u16_at(&b, 32) as u32, 0, "whole sample frames");
    std::fs::remove_file(path).unwrap();
    let deadline = Instant::now() + HANG;
    while !card_present("Dummy") {
        assert!(Instant::now() < deadline, "card Dummy did not come back after bind");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_unplugging_the_speaker_exits_4() {
    if !in_vm("cli_unplugging_the_speaker_exits_4") {
        return;
    }
    let speaker = device_id(&ok(&["devices"]), "speaker", "CARD=Dummy");
    ok(&["record", "tone", "-o", "/tmp/long.wav", "--seconds", "30", "--rate", "48000", "--channels", "2"]);
    let mut child = Command::new(mst_path())
        .args(["play", "/tmp/long.wav", &speaker])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Unplugged once the device runs (its format set, the command waiting for room in the
    // playback queue): the device is lost during play, not while it is being opened.
    let status_file = "/proc/asound/Dummy/pcm0p/sub0/status";
    let start = Instant::now();
    while !std::fs::read_to_string(status_file).unwrap_or_default().contains("RUNNING") {
        assert!(start.elapsed() < HANG, "the Dummy speaker never ran");
        assert!(child.try_wait().unwrap().is_none(), "mst play ended before the unplug");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write("/sys/bus/platform/drivers/snd_dummy/unbind", "snd_dummy.0").expect("unbinding snd_dummy.0");
    let deadline = Instant::now() + HANG;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "mst play did not end after the unplug");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    println!("{err}");
    std::fs::write("/sys/bus/platform/drivers/snd_dummy/bind", "snd_dummy.0").expect("binding snd_dummy.0");
    std::fs::remove_file("/tmp/long.wav").unwrap();
    assert_eq!(status.code(), Some(4), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("mst: ") && err.contains("went away"), "{err}");
    let deadline = Instant::now() + HANG;
    while !card_present("Dummy") {
        assert!(Instant::now() < deadline, "card Dummy did not come back after bind");
        std::thread::sleep(Duration::from_millis(20));
    }
}
