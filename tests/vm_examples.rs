//! The device examples, as a user runs them, against the VM's real drivers (`scripts/vm-test.sh`
//! builds them into build/vm-examples, which travels into the guest as ./vm-examples): each must
//! find its device, do its job and say so, where on a machine without devices ctest sees them
//! exit 77 (skipped).
//!
//! `#[ignore]`d outside the VM, like every tests/vm_*.rs.

use std::path::PathBuf;
use std::process::{Command, Output};

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

fn example(name: &str) -> PathBuf {
    let p = std::env::current_dir().unwrap().join("vm-examples").join(name);
    assert!(p.exists(), "{} is missing: scripts/vm-test.sh builds the examples into build/vm-examples", p.display());
    p
}

fn run(name: &str, args: &[&str]) -> (String, String) {
    let out: Output = Command::new(example(name)).args(args).current_dir("/tmp").output().unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    println!("$ {name} {}\n{stdout}{stderr}", args.join(" "));
    assert_eq!(out.status.code(), Some(0), "{name} failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn list_devices_shows_every_kind() {
    if !in_vm("list_devices_shows_every_kind") {
        return;
    }
    let (out, _) = run("list_devices", &[]);
    for want in [
        "videoinput",
        "videooutput",
        "audioinput",
        "audiooutput",
        "v4l2:platform:vivid-000",
        "CARD=Loopback",
        "CARD=Dummy",
    ] {
        assert!(out.contains(want), "list_devices printed no {want:?}");
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn capture_camera_writes_a_y4m_of_the_camera() {
    if !in_vm("capture_camera_writes_a_y4m_of_the_camera") {
        return;
    }
    let (out, err) = run("capture_camera", &["", "2", "/tmp/camera.y4m"]);
    let y4m = std::fs::read("/tmp/camera.y4m").unwrap();
    let header_end = y4m.iter().position(|&b| b == b'\n').unwrap();
    let header = String::from_utf8_lossy(&y4m[..header_end]).into_owned();
    assert!(header.starts_with("YUV4MPEG2 W") && header.contains(" H"), "{header}");
    let frames = y4m.windows(6).filter(|w| w == b"FRAME\n").count();
    assert!(frames >= 10, "{frames} frames in 2 s ({header})");
    assert!(out.contains("capture_camera: wrote /tmp/camera.y4m"), "{out}");
    // The live counter printed its once-a-second line, with the camera's dropped count.
    assert!(err.contains(" fps ") && err.contains("by the camera"), "{err}");
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn record_microphone_writes_a_wav_of_the_card() {
    if !in_vm("record_microphone_writes_a_wav_of_the_card") {
        return;
    }
    run("record_microphone", &["hw:CARD=Dummy,DEV=0", "1", "/tmp/mic.wav"]);
    let wav = std::fs::read("/tmp/mic.wav").unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    let rate = u32::from_le_bytes(wav[24..28].try_into().unwrap());
    let block = u16::from_le_bytes(wav[32..34].try_into().unwrap()) as usize;
    // One second of audio, give or take the periods at either end.
    let seconds = (wav.len() - 44) as f64 / block as f64 / rate as f64;
    assert!((0.8..1.3).contains(&seconds), "{seconds} s of audio at {rate} Hz");
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn virtual_background_writes_the_camera_to_the_output() {
    if !in_vm("virtual_background_writes_the_camera_to_the_output") {
        return;
    }
    let (out, _) = run("virtual_background", &["", "", "2"]);
    // "N camera frames, N transformed, N written to the output (WxH, fourcc XXXX), N dropped"
    let num = |after: &str| -> u64 {
        let at = out.find(after).unwrap_or_else(|| panic!("no {after:?} in {out}"));
        out[..at].split_whitespace().last().unwrap().trim_start_matches('(').parse().unwrap()
    };
    let (read, made, written) = (num(" camera frames"), num(" transformed"), num(" written to the output"));
    assert!(read >= 10 && made == read && written >= 10 && written <= made, "{out}");
}
