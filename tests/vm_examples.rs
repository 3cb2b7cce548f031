//! The device examples, as a user runs them, against the VM's real drivers (`scripts/vm-test.sh`
//! builds them into build/vm-examples, which travels into the guest as ./vm-examples): each must
//! find its device, do its job and say so, where on a machine without devices ctest sees them
//! exit 77 (skipped).
//!
//! `#[ignore]`d outside the VM, like every tests/vm_*.rs.
//!
//! The examples run for a given time, and how many frames or chunks fit in it depends on how
//! busy the host is (the guest's CPUs are emulated and share the host's). So the tests check
//! what holds on a busy host: that frames flowed, that the examples' reported counts agree with
//! each other and with their files, and that whatever did not arrive is reported as dropped.

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

/// The number just before `after` in `text` (e.g. `num(out, " frames,")`).
fn num(text: &str, after: &str) -> u64 {
    let at = text.find(after).unwrap_or_else(|| panic!("no {after:?} in {text}"));
    let word = text[..at].split_whitespace().last().unwrap();
    word.trim_start_matches('(').parse().unwrap_or_else(|e| panic!("{word:?} before {after:?}: {e}"))
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
    let frames = y4m.windows(6).filter(|w| w == b"FRAME\n").count() as u64;
    assert!(out.contains("capture_camera: wrote /tmp/camera.y4m"), "{out}");
    // The file holds what the sink says it wrote: more than one frame, so the camera streamed.
    assert_eq!(frames, num(&out, " frames,"), "{header}\n{out}");
    assert!(frames >= 2, "{frames} frames in 2 s ({header})");
    // The live counter printed its once-a-second line, with the camera's dropped count.
    assert!(err.contains(" fps ") && err.contains("by the camera"), "{err}");
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn record_microphone_writes_a_wav_of_the_card() {
    if !in_vm("record_microphone_writes_a_wav_of_the_card") {
        return;
    }
    let t0 = std::time::Instant::now();
    let (out, _) = run("record_microphone", &["hw:CARD=Dummy,DEV=0", "1", "/tmp/mic.wav"]);
    let wall = t0.elapsed().as_secs_f64();
    let wav = std::fs::read("/tmp/mic.wav").unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    let rate = u32::from_le_bytes(wav[24..28].try_into().unwrap());
    let block = u16::from_le_bytes(wav[32..34].try_into().unwrap()) as u64;
    let wav_frames = (wav.len() as u64 - 44) / block;
    // "wrote /tmp/mic.wav: W chunks, D dropped, ..."; "captured C chunks (F sample frames, ...), O overrun(s)"
    let (written, dropped) = (num(&out, " chunks, "), num(&out, " dropped,"));
    let (chunks, frames, overruns) = (num(&out, " chunks ("), num(&out, " sample frames"), num(&out, " overrun(s)"));
    assert!(chunks > 0 && frames % chunks == 0, "{out}");
    // The file holds the chunks the sink wrote; every chunk captured after it started is
    // written or counted as dropped; no more audio than time passed.
    assert_eq!(wav_frames, written * (frames / chunks), "{out}");
    assert!(written + dropped <= chunks && written > 0, "{out}");
    let seconds = frames as f64 / rate as f64;
    assert!(seconds <= wall, "{seconds} s of audio captured in {wall} s");
    // The requested second, less what was still buffered at the stop, unless an overrun (the
    // capture thread starved on a busy host, and said so) lost some.
    assert!(overruns > 0 || seconds >= 0.8, "{seconds} s of audio at {rate} Hz and no overrun: {out}");
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn virtual_background_writes_the_camera_to_the_output() {
    if !in_vm("virtual_background_writes_the_camera_to_the_output") {
        return;
    }
    let (out, _) = run("virtual_background", &["", "", "2"]);
    // "N camera frames, N transformed, N written to the output (WxH, fourcc XXXX), N dropped"
    let (read, made) = (num(&out, " camera frames"), num(&out, " transformed"));
    let (written, dropped) = (num(&out, " written to the output"), num(&out, " dropped"));
    // Frames flowed; every frame made was written or counted as dropped.
    assert!(read >= 2 && made == read && written + dropped == made, "{out}");
}
