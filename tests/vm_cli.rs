//! The `mst` command against the VM's real drivers (`scripts/vm-test.sh` copies the binary into
//! build/vm-examples, which travels into the guest as ./vm-examples): vivid's camera and output,
//! snd-aloop's and snd-dummy's PCMs. tests/cli.rs covers the same verbs on the test sources.
//!
//! `#[ignore]`d outside the VM, like every tests/vm_*.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

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
    // Cards are present: ALSA's "default" opens, so it is listed.
    assert!(out.contains("microphone default\n") && out.contains("speaker default\n"), "{out}");
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

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn cli_virtual_camera_feeds_the_vivid_output() {
    if !in_vm("cli_virtual_camera_feeds_the_vivid_output") {
        return;
    }
    let output = device_id(&ok(&["devices"]), "video-output", "vivid");
    ok(&["virtual-camera", "test-pattern", &output, "--frames", "10", "--width", "640", "--height", "360"]);
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
