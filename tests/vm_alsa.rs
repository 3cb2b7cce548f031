//! ALSA against real kernel drivers, in the VM stage (`scripts/vm-test.sh`): `snd-aloop index=0`
//! (card 0 "Loopback": what is played on device 0 is captured on device 1, same subdevice) and
//! `snd-dummy index=1` (card 1 "Dummy": capture gives silence at the right rate, playback
//! consumes). See vmtest/README.md for the drivers' measured behaviour.
//!
//! Outside the VM there are no such cards, so every device test is `#[ignore]`d: a host `cargo
//! test` lists each as "ignored, runs in the VM stage"; run by hand with `--include-ignored` but
//! without VMTEST=1, a test prints "skipped: ..." and returns. The one test that needs no device
//! (of the round trip's analysis) runs everywhere.
//!
//! These tests must hold on a busy host: the guest's CPUs are emulated and share the host's, so
//! the capture and playback threads can miss their deadlines. They assert what holds anyway:
//! audio is bit-exact between the xruns the stats report, every gap is explained by one, and
//! waits are bounded only to tell a slow step from a hang.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use mst::constraints::ConstrainRange;
use mst::device::{self, DeviceInfo, DeviceKind};
use mst::frame::AudioDataInit;
use mst::sink::alsa::AudioPlayback;
use mst::sink::processor::EndPolicy;
use mst::source::alsa::{capture_stats, microphone, AudioConstraints};
use mst::source::synthetic::{tone, ToneOptions};
use mst::*;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

const RATE: u32 = 48_000;
const CHUNK: u32 = 480;
/// Bytes per S16 stereo frame.
const FB: usize = 4;

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

fn stereo_s16() -> AudioConstraints {
    AudioConstraints { sample_rate: exact(RATE as f64), channel_count: exact(2.0), sample_size: exact(16.0) }
}

fn tone_opts(chunks: u64) -> ToneOptions {
    ToneOptions {
        sample_rate: RATE,
        channels: 2,
        frequency: 440.0,
        amplitude: 0.5,
        format: AudioSampleFormat::S16,
        chunk_frames: 0,
        paced: true,
        chunk_count: chunks,
    }
}

/// The enumerated device of `kind` on card `card` (its id, e.g. "Loopback"), device `dev`.
fn find(list: &[DeviceInfo], kind: DeviceKind, card: &str, dev: u32) -> DeviceInfo {
    let id = format!("hw:CARD={card},DEV={dev}");
    list.iter()
        .find(|d| d.kind == kind && d.device_id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind:?} {id} in the enumeration: {list:#?}"))
}

/// The S16 bytes a processor delivered, and (timestamp, frames) of every chunk.
type Collected = (Vec<u8>, Vec<(i64, u32)>);

/// Reads a processor on a thread until `stop` is set or the track ends; returns the concatenated S16 bytes and the (timestamp, frames) of every chunk.
fn collect(p: Arc<Processor>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Collected> {
    std::thread::spawn(move || {
        let mut data = Vec::new();
        let mut chunks = Vec::new();
        loop {
            if stop.load(Ordering::Acquire) {
                break;
            }
            match p.read(Wait::For(Duration::from_millis(50))) {
                Ok(d) => {
                    let a = *d.frame.audio().expect("audio");
                    assert_eq!(
                        (a.format, a.number_of_channels, a.sample_rate),
                        (AudioSampleFormat::S16, 2, RATE as f32)
                    );
                    data.extend_from_slice(&d.frame.data()[..a.number_of_frames as usize * FB]);
                    chunks.push((a.timestamp, a.number_of_frames));
                }
                Err(e) if e.kind == ErrorKind::Timeout => {}
                Err(e) if e.kind == ErrorKind::Ended => break,
                Err(e) => panic!("reading: {e}"),
            }
        }
        (data, chunks)
    })
}

fn frame_at(data: &[u8], i: usize) -> [u8; FB] {
    data[i * FB..(i + 1) * FB].try_into().unwrap()
}

fn write_sysfs(path: &str, value: &str) {
    std::fs::write(path, value).unwrap_or_else(|e| panic!("writing {value:?} to {path}: {e}"));
}

/// Long enough to tell a slow step on a busy host from one that never ends. Tests assert what
/// happened, not how fast: the VM's CPUs are emulated and the host's are shared.
const HANG: Duration = Duration::from_secs(20);

/// Waits for `done`, polling; fails, naming `what`, if it does not come within `HANG`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !done() {
        assert!(Instant::now() < deadline, "waited {HANG:?}: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn card_present(id: &str) -> bool {
    device::enumerate().is_ok_and(|l| l.iter().any(|d| d.group_id == format!("alsa-card:{id}")))
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn enumeration_finds_both_cards_with_their_kinds() {
    if !in_vm("enumeration_finds_both_cards_with_their_kinds") {
        return;
    }
    let list = device::enumerate().unwrap();
    for d in &list {
        println!("{:?} {} | {} | {}", d.kind, d.device_id, d.label, d.group_id);
    }
    for kind in [DeviceKind::AudioInput, DeviceKind::AudioOutput] {
        assert!(list.iter().any(|d| d.kind == kind && d.device_id == "default"), "no default {kind:?}: {list:#?}");
        // snd-aloop: devices 0 and 1 each have capture and playback streams.
        for dev in [0, 1] {
            let d = find(&list, kind, "Loopback", dev);
            assert_eq!(d.group_id, "alsa-card:Loopback", "{d:?}");
            assert!(d.label.contains("Loopback") && d.label.contains(&d.device_id), "{d:?}");
        }
        let d = find(&list, kind, "Dummy", 0);
        assert_eq!(d.group_id, "alsa-card:Dummy", "{d:?}");
        assert!(d.label.contains("Dummy"), "{d:?}");
    }
    // Every entry is listed once, with a label and a group (V4L2 entries: tests/vm_devices.rs).
    let mut seen = std::collections::HashSet::new();
    for d in &list {
        assert!(!d.label.is_empty() && !d.group_id.is_empty(), "{d:?}");
        assert!(seen.insert((d.kind, d.device_id.clone())), "duplicate {d:?}");
    }
    // The audio inputs come before the audio outputs, and audio before video.
    let audio: Vec<DeviceKind> = list
        .iter()
        .map(|d| d.kind)
        .take_while(|k| matches!(k, DeviceKind::AudioInput | DeviceKind::AudioOutput))
        .collect();
    let first_out = audio.iter().position(|&k| k == DeviceKind::AudioOutput).unwrap();
    assert!(audio[first_out..].iter().all(|&k| k == DeviceKind::AudioOutput), "{list:#?}");
    assert!(
        list[audio.len()..].iter().all(|d| matches!(d.kind, DeviceKind::VideoInput | DeviceKind::VideoOutput)),
        "{list:#?}"
    );
    // The same ids on a second call: stable.
    assert_eq!(device::enumerate().unwrap(), list);
}

/// The played signal for the round trip: frame `k` carries `k + 1` in 24 bits, the left sample
/// its low 16 bits and the right sample its high 8 under the tag byte `TAG`. Every frame names its
/// own index and none is silence, so a captured frame is either silence, exactly one played frame,
/// or corruption, and a capture can be cut into runs of the played signal wherever it jumps.
const TAG: u16 = 0x5a00;

fn counter_frame(k: usize) -> [u8; FB] {
    let v = k as u32 + 1;
    let (left, right) = ((v & 0xffff) as u16, TAG | (v >> 16) as u16);
    let mut f = [0; FB];
    f[..2].copy_from_slice(&left.to_le_bytes());
    f[2..].copy_from_slice(&right.to_le_bytes());
    f
}

/// What one captured frame is: Some(None) silence, Some(Some(k)) played frame k of `n`, None
/// neither.
fn decode(f: [u8; FB], n: usize) -> Option<Option<usize>> {
    let (left, right) = (u16::from_le_bytes([f[0], f[1]]), u16::from_le_bytes([f[2], f[3]]));
    if (left, right) == (0, 0) {
        return Some(None);
    }
    if right & 0xff00 != TAG {
        return None;
    }
    let k = (((right & 0xff) as usize) << 16 | left as usize).checked_sub(1)?;
    (k < n).then_some(Some(k))
}

/// A stretch of a capture of the counter signal.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Piece {
    /// Frames of silence.
    Zeros(usize),
    /// A bit-exact run of the played signal: (first captured frame, first played frame, frames).
    Run(usize, usize, usize),
}

/// How a capture of the `n`-frame counter signal departs from it.
#[derive(Debug, Default)]
struct Analysis {
    /// Every bit-exact run of the played signal: (first captured frame, first played frame,
    /// frames).
    runs: Vec<(usize, usize, usize)>,
    /// Every place where the capture departs from the played signal, said in words.
    gaps: Vec<String>,
}

/// Cuts the capture `cap` (S16 stereo) of the counter signal of `n` frames into bit-exact runs
/// of the played signal, and finds where it departs from the signal played once, in order, from
/// frame 0 to frame n - 1. One departure ("gap") is whatever comes between two frames of the
/// signal where the signal does not simply go on: frames lost, silence inserted, older frames
/// played again, or any mix of these before the signal goes on; or the start or the end of the
/// signal missing. Silence before the first and after the last frame of the signal is no gap. A
/// frame that is neither silence nor a played frame is an error: corruption.
fn analyse(cap: &[u8], n: usize) -> std::result::Result<Analysis, String> {
    let mut pieces: Vec<Piece> = Vec::new();
    for i in 0..cap.len() / FB {
        let f = frame_at(cap, i);
        let piece = match decode(f, n) {
            None => return Err(format!("captured frame {i} is {f:?}: neither silence nor a played frame")),
            Some(None) => Piece::Zeros(1),
            Some(Some(k)) => Piece::Run(i, k, 1),
        };
        match (pieces.last_mut(), piece) {
            (Some(Piece::Zeros(z)), Piece::Zeros(_)) => *z += 1,
            (Some(Piece::Run(_, p0, len)), Piece::Run(_, k, _)) if k == *p0 + *len => *len += 1,
            _ => pieces.push(piece),
        }
    }
    let first = pieces.iter().position(|p| matches!(p, Piece::Run(..)));
    let last = pieces.iter().rposition(|p| matches!(p, Piece::Run(..)));
    let (Some(first), Some(last)) = (first, last) else {
        return Err("the capture holds none of the played signal".into());
    };
    let mut a = Analysis::default();
    // The played frame due next, and what came instead of it since the last frame on course.
    let mut due: Option<usize> = None;
    let mut detour: Vec<String> = Vec::new();
    for &piece in &pieces[first..=last] {
        match (piece, due) {
            (Piece::Zeros(z), _) => detour.push(format!("{z} zeros")),
            (Piece::Run(c0, p0, len), None) => {
                a.runs.push((c0, p0, len));
                if p0 > 0 {
                    a.gaps.push(format!("played frames 0..{p0} never came"));
                }
                due = Some(p0 + len);
            }
            (Piece::Run(c0, p0, len), Some(d)) if p0 + len <= d => {
                a.runs.push((c0, p0, len));
                detour.push(format!("played frames {p0}..{} again", p0 + len));
            }
            (Piece::Run(c0, p0, len), Some(d)) => {
                a.runs.push((c0, p0, len));
                if p0 != d || !detour.is_empty() {
                    detour.push(format!("then played frame {p0}"));
                    a.gaps
                        .push(format!("at captured frame {c0}, where played frame {d} was due: {}", detour.join(", ")));
                }
                detour.clear();
                due = Some(p0 + len);
            }
        }
    }
    let due = due.expect("a run was seen");
    if due < n || !detour.is_empty() {
        detour.push(format!("played frames {due}..{n} never came"));
        a.gaps.push(format!("after played frame {}: {}", due - 1, detour.join(", ")));
    }
    Ok(a)
}

#[test]
fn the_round_trip_analysis_finds_every_departure() {
    let n = 96_000;
    let play = |ks: &[Option<usize>]| -> Vec<u8> { ks.iter().flat_map(|k| k.map_or([0; FB], counter_frame)).collect() };
    let span = |r: std::ops::Range<usize>| r.map(Some).collect::<Vec<_>>();
    let zeros = |z: usize| vec![None; z];
    let cat = |parts: &[Vec<Option<usize>>]| play(&parts.concat());
    let gaps = |cap: &[u8]| analyse(cap, n).unwrap().gaps.len();

    // Clean, with silence around it: one run, no gap.
    let clean = analyse(&cat(&[zeros(500), span(0..n), zeros(700)]), n).unwrap();
    assert_eq!((clean.runs, clean.gaps.len()), (vec![(500, 0, n)], 0));
    // One gap each: silence inserted (a playback underrun), frames lost (a capture overrun),
    // stale frames played again (a playback underrun's overshoot), any mix of these before the
    // signal goes on, the start or the end missing.
    assert_eq!(gaps(&cat(&[span(0..900), zeros(480), span(900..n)])), 1);
    assert_eq!(gaps(&cat(&[span(0..900), span(1380..n)])), 1);
    assert_eq!(gaps(&cat(&[span(0..900), zeros(3), span(1500..n)])), 1);
    assert_eq!(gaps(&cat(&[span(0..900), span(700..800), span(900..n)])), 1);
    assert_eq!(gaps(&cat(&[span(0..900), span(700..800), zeros(30), span(850..n)])), 1);
    assert_eq!(gaps(&cat(&[span(10..n)])), 1);
    assert_eq!(gaps(&cat(&[span(0..n - 1), zeros(50)])), 1);
    // What snd_pcm_drain did on Linux 6.1: the last 192 frames zeroed, then 192 stale ones.
    assert_eq!(gaps(&cat(&[span(0..n - 192), zeros(192), span(n - 1920..n - 1728), zeros(500)])), 1);
    // Two departures are two gaps.
    assert_eq!(gaps(&cat(&[span(0..900), zeros(480), span(900..1000), span(1480..n)])), 2);
    assert_eq!(gaps(&cat(&[span(5..900), zeros(480), span(900..n - 7)])), 3);
    // A frame changed into another played frame is a gap; anything else is corruption.
    let mut bad = cat(&[span(0..n)]);
    bad[FB * 70_000] ^= 0x10;
    assert_eq!(gaps(&bad), 1);
    bad[FB * 12_345 + 3] ^= 0x80;
    assert!(analyse(&bad, n).unwrap_err().contains("captured frame 12345"));
    assert!(analyse(&cat(&[span(0..100)]), 50).is_err(), "a frame beyond the signal");
    assert!(analyse(&cat(&[zeros(100)]), n).is_err(), "nothing of the signal");
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn audio_round_trips_through_snd_aloop_bit_exact_between_xruns() {
    if !in_vm("audio_round_trips_through_snd_aloop_bit_exact_between_xruns") {
        return;
    }
    let list = device::enumerate().unwrap();
    let out_id = find(&list, DeviceKind::AudioOutput, "Loopback", 0).device_id;
    let in_id = find(&list, DeviceKind::AudioInput, "Loopback", 1).device_id;

    // Capture first, so nothing played is missed.
    let mic = microphone(&in_id, &stereo_s16()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let cap_processor = Arc::new(Processor::new(&mic, 1000));
    let captured = collect(cap_processor.clone(), stop.clone());

    // 2 s of the counter signal, written through a generator in real time, 10 ms apart, once
    // the sink and a witness clone (which records exactly what the sink was given) are both
    // connected.
    let chunks = 200usize;
    let n = chunks * CHUNK as usize;
    let signal: Vec<u8> = (0..n).flat_map(counter_frame).collect();
    let g = Generator::new(Kind::Audio);
    let src = g.track().clone_track();
    let witness_track = g.track().clone_track();
    let never = Arc::new(AtomicBool::new(false));
    let played = collect(Arc::new(Processor::with_end_policy(&witness_track, 1000, EndPolicy::Drain)), never);
    let playback = AudioPlayback::open(&src, &out_id).unwrap();
    let t0 = Instant::now();
    for (i, bytes) in signal.chunks(CHUNK as usize * FB).enumerate() {
        let due = t0 + Duration::from_millis(10 * i as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let init = AudioDataInit {
            format: AudioSampleFormat::S16,
            sample_rate: RATE as f32,
            number_of_frames: CHUNK,
            number_of_channels: 2,
            timestamp: i as i64 * 10_000,
        };
        g.write(Frame::audio_copy(&init, bytes).unwrap()).map_err(|(e, _)| e).unwrap();
    }
    // The writable closes: every track ends, the sink plays out what it queued.
    g.close();
    let pstats = playback.finish().unwrap();
    println!("playback of {chunks} chunks took {:?}: {pstats:?}", t0.elapsed());
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Release);
    let (cap, cap_chunks) = captured.join().unwrap();
    let (exp, _) = played.join().unwrap();
    let cstats = capture_stats(&mic).unwrap();
    let cqueue = cap_processor.stats();
    // Settings follow the delivered chunks (the core sets them per frame).
    let s = mic.settings();
    assert_eq!((s.sample_rate, s.channel_count, s.sample_size), (Some(48000.0), Some(2), Some(16)));
    mic.stop();
    src.stop();
    let _ = std::fs::write("/out/aloop-played.raw", &exp);
    let _ = std::fs::write("/out/aloop-captured.raw", &cap);
    println!("captured {} frames in {} chunks: {cstats:?}, queue {cqueue:?}", cap.len() / FB, cap_chunks.len());

    // The sink was given the whole signal and played it, less what its queue reported dropped.
    assert!(exp == signal, "the witness saw {} frames, not the {n} written", exp.len() / FB);
    assert_eq!(pstats.frames_played + pstats.chunks_dropped * CHUNK as u64, n as u64, "{pstats:?}");
    assert_eq!(pstats.chunks_rejected, 0, "{pstats:?}");

    // Chunks: 480 frames, timestamps 10 ms apart except where an overrun lost audio (then they
    // follow the clock): every other step is explained by a reported overrun.
    assert!(cap_chunks.iter().all(|&(_, f)| f == CHUNK), "every captured chunk is 10 ms");
    let steps: Vec<i64> = cap_chunks.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(steps.iter().all(|&d| d > 0), "capture timestamps increase: {steps:?}");
    let jumps: Vec<(usize, i64)> =
        steps.iter().copied().enumerate().filter(|&(_, d)| !(9_999..=10_001).contains(&d)).collect();
    assert!(
        jumps.len() as u64 <= cstats.overruns,
        "capture timestamps jump at (chunk, step us) {jumps:?}, more often than the {} reported overruns",
        cstats.overruns
    );

    // The audio: bit-exact runs of the played signal, cut only where a reported xrun (or a
    // reported queue drop) explains the cut.
    let a = analyse(&cap, n).unwrap_or_else(|e| panic!("{e}; playback {pstats:?}, capture {cstats:?}"));
    let explained = pstats.underruns + cstats.overruns + pstats.chunks_dropped + cqueue.discarded;
    println!("bit-exact runs (captured at, played from, frames) {:?}; gaps {:?}", a.runs, a.gaps);
    assert!(
        a.gaps.len() as u64 <= explained,
        "{} gaps in the capture but only {explained} reported xruns and drops: {:?}; playback {pstats:?}, capture \
         {cstats:?}, capture queue {cqueue:?}",
        a.gaps.len(),
        a.gaps
    );
}

/// Unbinds `driver`'s device `dev` while a microphone on `card` captures and a playback sink
/// plays to it; checks the end, then rebinds.
fn unplug(driver: &str, dev: &str, card: &str, in_dev: u32, out_dev: u32) {
    let list = device::enumerate().unwrap();
    let in_id = find(&list, DeviceKind::AudioInput, card, in_dev).device_id;
    let out_id = find(&list, DeviceKind::AudioOutput, card, out_dev).device_id;

    let mic = microphone(&in_id, &stereo_s16()).unwrap();
    let (tx, rx) = mpsc::channel();
    mic.set_ended_callback(Some(Box::new(move |r| {
        let _ = tx.send((r, Instant::now()));
    })));
    let p = Processor::new(&mic, 1000);
    let src = tone(&tone_opts(0)).unwrap();
    let playback = AudioPlayback::open(&src, &out_id).unwrap();
    // Both are streaming.
    p.read(Wait::For(Duration::from_secs(5))).expect("the microphone delivers");
    wait_until("the playback writes", || playback.stats().frames_played > 0);

    let t0 = Instant::now();
    write_sysfs(&format!("/sys/bus/platform/drivers/{driver}/unbind"), dev);
    let unbind_took = t0.elapsed();
    // How soon is printed, not asserted: on a busy host any bound is a guess. The wait is only
    // long enough to tell an end from a hang.
    let (reason, at) = rx.recv_timeout(HANG).expect("the microphone track ended");
    let latency = at.saturating_duration_since(t0);
    println!("{dev}: unbind took {unbind_took:?}; track ended ({reason:?}) {latency:?} after the unbind began");
    assert_eq!(reason, EndReason::DeviceLost);
    assert_eq!(mic.end_reason(), Some(EndReason::DeviceLost));
    assert_eq!(mic.ready_state(), ReadyState::Ended);
    // The processor ends: at most what was queued when the track ended (nothing is delivered
    // after the end), then Ended.
    vm::read_out_after_end(&p, HANG, "chunks");
    // The playback stops without hanging (its error says the device went away).
    let t = Instant::now();
    let r = playback.close();
    println!("{dev}: playback closed in {:?}: {r:?}", t.elapsed());
    assert!(t.elapsed() < HANG, "closing the playback hung for {:?}", t.elapsed());
    if let Err(e) = &r {
        assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");
    }
    src.stop();
    drop(p);
    drop(mic);

    // Rebind: the card comes back and a new microphone on it captures.
    write_sysfs(&format!("/sys/bus/platform/drivers/{driver}/bind"), dev);
    wait_until(&format!("card {card} comes back after bind"), || card_present(card));
    let mic = microphone(&in_id, &stereo_s16()).unwrap();
    let p = Processor::new(&mic, 10);
    let d = p.read(Wait::For(Duration::from_secs(5))).expect("the rebound card captures");
    assert_eq!(d.frame.audio().unwrap().number_of_frames, CHUNK);
    mic.stop();
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn unbinding_snd_aloop_ends_the_microphone_with_device_lost() {
    if !in_vm("unbinding_snd_aloop_ends_the_microphone_with_device_lost") {
        return;
    }
    unplug("snd_aloop", "snd_aloop.0", "Loopback", 1, 0);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn unbinding_snd_dummy_ends_the_microphone_with_device_lost() {
    if !in_vm("unbinding_snd_dummy_ends_the_microphone_with_device_lost") {
        return;
    }
    unplug("snd_dummy", "snd_dummy.0", "Dummy", 0, 0);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_stalled_reader_never_stalls_the_capture() {
    if !in_vm("a_stalled_reader_never_stalls_the_capture") {
        return;
    }
    let id = find(&device::enumerate().unwrap(), DeviceKind::AudioInput, "Dummy", 0).device_id;
    let mic = microphone(&id, &stereo_s16()).unwrap();
    let p = Processor::new(&mic, 4);
    p.read(Wait::For(Duration::from_secs(5))).expect("the microphone delivers");
    // Stall the reader while the microphone captures 50 more chunks: far more than the processor
    // holds (4) and the ALSA buffer (4 periods). A capture thread that waited for the reader would
    // stop after a handful (and the device would overrun). Counted in chunks, not in time: on a
    // busy host the capture thread may also overrun for want of CPU, which is no failure here.
    let from = capture_stats(&mic).unwrap().chunks;
    wait_until("the microphone captures 50 chunks while the reader stalls", || {
        capture_stats(&mic).unwrap().chunks >= from + 50
    });
    let ps = p.stats();
    let cs = capture_stats(&mic).unwrap();
    println!("after the stall: processor {ps:?}, capture {cs:?}");
    assert_eq!(ps.total, ps.delivered + ps.discarded + ps.queued, "{ps:?}");
    assert!(ps.queued <= 4 && ps.discarded >= 46, "the processor dropped the oldest chunks: {ps:?}");
    // The reader gets audio afterwards, with increasing timestamps.
    let mut last = i64::MIN;
    for _ in 0..20 {
        let d = p.read(Wait::For(Duration::from_secs(2))).expect("audio after the stall");
        assert!(d.frame.timestamp() > last);
        last = d.frame.timestamp();
    }
    mic.stop();
}

/// Makes the calling thread SCHED_FIFO and spins until `until`.
fn spin_realtime(until: Instant) {
    let param = libc::sched_param { sched_priority: 50 };
    // SAFETY: sets the calling thread's policy from a valid sched_param.
    let rc = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
    assert_eq!(rc, 0, "SCHED_FIFO (root in the VM)");
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_starved_capture_thread_overruns_recovers_and_counts() {
    if !in_vm("a_starved_capture_thread_overruns_recovers_and_counts") {
        return;
    }
    // System load, not a hook: real-time threads on every CPU starve the (normal-priority)
    // capture thread for 300 ms while the driver's timer keeps filling the 40 ms buffer.
    let id = find(&device::enumerate().unwrap(), DeviceKind::AudioInput, "Dummy", 0).device_id;
    let mic = microphone(&id, &stereo_s16()).unwrap();
    let p = Processor::new(&mic, 1000);
    let first = p.read(Wait::For(Duration::from_secs(5))).expect("the microphone delivers");
    assert_eq!(capture_stats(&mic).unwrap().overruns, 0);
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    // The driver's own timer runs in softirq context and is sometimes starved along with the
    // capture thread (seen about once in eight runs): then the device's clock stops too and
    // nothing overruns. That says nothing about libmst, so the stall is tried up to 3 times;
    // an overrun must happen in one of them.
    for attempt in 1..=3 {
        let start = Instant::now();
        let until = start + Duration::from_millis(300);
        let hogs: Vec<_> = (0..cpus).map(|_| std::thread::spawn(move || spin_realtime(until))).collect();
        for h in hogs {
            h.join().unwrap();
        }
        // Give the capture thread a moment to run into the overrun the stall left.
        std::thread::sleep(Duration::from_millis(50));
        let cs = capture_stats(&mic).unwrap();
        println!("attempt {attempt}: hogs done after {:?}; {cs:?}", start.elapsed());
        if cs.overruns > 0 {
            break;
        }
    }
    // Audio flows again afterwards; what was queued before the stall comes first.
    let mut stamps = vec![first.frame.timestamp()];
    while stamps.len() < 60 {
        let d = p.read(Wait::For(Duration::from_secs(2))).expect("audio after the overrun");
        stamps.push(d.frame.timestamp());
        if p.stats().queued == 0 && stamps.len() >= 20 && capture_stats(&mic).unwrap().overruns > 0 {
            break;
        }
    }
    // Timestamps increase, and the lost audio shows as a gap: after an overrun they follow the
    // clock.
    assert!(stamps.windows(2).all(|w| w[1] > w[0]), "{stamps:?}");
    let gap = stamps.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    println!("largest timestamp step {gap} us over {} chunks", stamps.len());
    assert!(gap >= 100_000, "the ~300 ms of lost audio leave a gap in the timestamps: largest step {gap} us");
    let cs = capture_stats(&mic).unwrap();
    println!("after starving the capture thread: {cs:?}, processor {:?}", p.stats());
    assert!(cs.overruns >= 1, "{cs:?}");
    assert_eq!(mic.ready_state(), ReadyState::Live);
    mic.stop();
}
