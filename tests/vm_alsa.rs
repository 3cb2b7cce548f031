//! ALSA against real kernel drivers, in the VM stage (`scripts/vm-test.sh`): `snd-aloop index=0`
//! (card 0 "Loopback": what is played on device 0 is captured on device 1, same subdevice) and
//! `snd-dummy index=1` (card 1 "Dummy": capture gives silence at the right rate, playback
//! consumes). See vmtest/README.md for the drivers' measured behaviour.
//!
//! Outside the VM there are no such cards, so every test is `#[ignore]`d: a host `cargo test`
//! lists each as "ignored, runs in the VM stage"; run by hand with `--include-ignored` but
//! without VMTEST=1, a test prints "skipped: ..." and returns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use mst::constraints::ConstrainRange;
use mst::device::{self, DeviceInfo, DeviceKind};
use mst::sink::alsa::AudioPlayback;
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

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn tone_round_trips_through_snd_aloop_bit_exact() {
    if !in_vm("tone_round_trips_through_snd_aloop_bit_exact") {
        return;
    }
    let list = device::enumerate().unwrap();
    let out_id = find(&list, DeviceKind::AudioOutput, "Loopback", 0).device_id;
    let in_id = find(&list, DeviceKind::AudioInput, "Loopback", 1).device_id;

    // Capture first, so nothing played is missed.
    let mic = microphone(&in_id, &stereo_s16()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let captured = collect(Arc::new(Processor::new(&mic, 1000)), stop.clone());

    // 2 s of tone, made ahead (an unpaced tone source read whole) and written through a
    // generator in real time, 10 ms apart, once the sink and a witness clone (which records
    // exactly what the sink was given) are both connected: a paced source starts its clock
    // at once, and the sink, whose open takes a while, could miss its first chunk.
    let chunks = 200u64;
    let ahead = tone(&ToneOptions { paced: false, ..tone_opts(chunks) }).unwrap();
    let reader = Processor::new(&ahead, 1000);
    let mut frames = Vec::new();
    loop {
        match reader.read(Wait::For(Duration::from_secs(5))) {
            Ok(d) => frames.push(d.frame),
            Err(e) if e.kind == ErrorKind::Ended => break,
            Err(e) => panic!("reading the tone: {e}"),
        }
    }
    assert_eq!(frames.len(), chunks as usize, "the tone source made every chunk");
    let g = Generator::new(Kind::Audio);
    let src = g.track().clone_track();
    let witness_track = g.track().clone_track();
    let never = Arc::new(AtomicBool::new(false));
    let played = collect(Arc::new(Processor::new(&witness_track, 1000)), never);
    let playback = AudioPlayback::open(&src, &out_id).unwrap();
    let t0 = Instant::now();
    for (i, f) in frames.into_iter().enumerate() {
        let due = t0 + Duration::from_millis(10 * i as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        g.write(f).map_err(|(e, _)| e).unwrap();
    }
    // The writable closes: every track ends, the sink plays out what it queued.
    g.close();
    let pstats = playback.finish().unwrap();
    println!("playback of {} chunks took {:?}: {pstats:?}", chunks, t0.elapsed());
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Release);
    let (cap, cap_chunks) = captured.join().unwrap();
    let (exp, _) = played.join().unwrap();
    let cstats = capture_stats(&mic).unwrap();
    // Settings follow the delivered chunks (the core sets them per frame).
    let s = mic.settings();
    assert_eq!((s.sample_rate, s.channel_count, s.sample_size), (Some(48000.0), Some(2), Some(16)));
    mic.stop();
    src.stop();
    let _ = std::fs::write("/out/aloop-played.raw", &exp);
    let _ = std::fs::write("/out/aloop-captured.raw", &cap);
    println!("captured {} frames in {} chunks: {cstats:?}", cap.len() / FB, cap_chunks.len());

    let n = exp.len() / FB;
    assert_eq!(n, chunks as usize * CHUNK as usize, "the witness saw every chunk of the tone");
    assert_eq!(pstats.frames_played, n as u64, "{pstats:?}");
    assert_eq!((pstats.chunks_dropped, pstats.chunks_rejected), (0, 0), "{pstats:?}");

    // Chunks: 480 frames, strictly increasing timestamps.
    assert!(cap_chunks.iter().all(|&(_, f)| f == CHUNK), "every captured chunk is 10 ms");
    for w in cap_chunks.windows(2) {
        assert!(w[1].0 > w[0].0, "capture timestamps increase: {} then {}", w[0].0, w[1].0);
    }

    // Alignment: the tone's frame 0 is silence (sin 0), frame 1 is not. The first non-zero
    // captured frame is the tone's frame 1.
    let m = cap.len() / FB;
    let first = (0..m).find(|&i| frame_at(&cap, i) != [0; FB]).expect("the capture holds the tone");
    assert!(frame_at(&exp, 1) != [0; FB]);
    let offset = first - 1; // captured frame offset + k == played frame k
                            // Bit-exact up to 50 ms before the end of playback (snd-aloop's drain leaves a ~4 ms gap
                            // in the last ~30 ms).
    let upto = n - RATE as usize / 20;
    assert!(offset + upto <= m, "captured {m} frames, the tone starts at {offset} and needs {upto}");
    let mismatch = (0..upto).find(|&k| frame_at(&cap, offset + k) != frame_at(&exp, k));
    assert!(
        mismatch.is_none(),
        "captured frame {} (played frame {}) differs: {:?} vs {:?}; playback {pstats:?}, capture {cstats:?}",
        offset + mismatch.unwrap(),
        mismatch.unwrap(),
        frame_at(&cap, offset + mismatch.unwrap()),
        frame_at(&exp, mismatch.unwrap())
    );
    // The rest: equal except one run of zeros of at most 256 frames.
    let tail: Vec<usize> =
        (upto..n.min(m - offset)).filter(|&k| frame_at(&cap, offset + k) != frame_at(&exp, k)).collect();
    if let (Some(&a), Some(&b)) = (tail.first(), tail.last()) {
        assert!(
            b - a < 256 && (a..=b).all(|k| frame_at(&cap, offset + k) == [0; FB]),
            "the last 50 ms differ in frames {a}..={b} (not one short zero run)"
        );
    }
    println!("bit-exact: {upto} frames from captured frame {offset}; tail mismatches {}", tail.len());
    assert_eq!((pstats.underruns, cstats.overruns), (0, 0), "no xrun in a round trip");
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
    std::thread::sleep(Duration::from_millis(300));
    assert!(playback.stats().frames_played > 0, "{:?}", playback.stats());

    let t0 = Instant::now();
    write_sysfs(&format!("/sys/bus/platform/drivers/{driver}/unbind"), dev);
    let unbind_took = t0.elapsed();
    let (reason, at) = rx.recv_timeout(Duration::from_secs(5)).expect("the microphone track ended");
    let latency = at.saturating_duration_since(t0);
    println!("{dev}: unbind took {unbind_took:?}; track ended ({reason:?}) {latency:?} after the unbind began");
    assert_eq!(reason, EndReason::DeviceLost);
    assert_eq!(mic.end_reason(), Some(EndReason::DeviceLost));
    assert_eq!(mic.ready_state(), ReadyState::Ended);
    assert!(latency < Duration::from_secs(1), "ended {latency:?} after the unbind");
    // The processor ends: what was queued, then Ended.
    let t = Instant::now();
    loop {
        match p.read(Wait::For(Duration::from_secs(2))) {
            Ok(_) => assert!(t.elapsed() < Duration::from_secs(2), "the processor keeps delivering after the end"),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Ended, "{e}");
                break;
            }
        }
    }
    // The playback stops without hanging (its error says the device went away).
    let t = Instant::now();
    let r = playback.close();
    println!("{dev}: playback closed in {:?}: {r:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(2), "closing the playback took {:?}", t.elapsed());
    if let Err(e) = &r {
        assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");
    }
    src.stop();
    drop(p);
    drop(mic);

    // Rebind: the card comes back and a new microphone on it captures.
    write_sysfs(&format!("/sys/bus/platform/drivers/{driver}/bind"), dev);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !card_present(card) {
        assert!(Instant::now() < deadline, "card {card} did not come back after bind");
        std::thread::sleep(Duration::from_millis(20));
    }
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
fn a_stalled_reader_never_overruns_the_device() {
    if !in_vm("a_stalled_reader_never_overruns_the_device") {
        return;
    }
    let id = find(&device::enumerate().unwrap(), DeviceKind::AudioInput, "Dummy", 0).device_id;
    let mic = microphone(&id, &stereo_s16()).unwrap();
    let p = Processor::new(&mic, 4);
    p.read(Wait::For(Duration::from_secs(5))).expect("the microphone delivers");
    // Stall the reader for 500 ms: far longer than the ALSA buffer (4 periods, 40 ms).
    std::thread::sleep(Duration::from_millis(500));
    let before = p.stats();
    let cs = capture_stats(&mic).unwrap();
    println!("after the stall: processor {before:?}, capture {cs:?}");
    assert_eq!(cs.overruns, 0, "the capture thread kept reading while the reader stalled: {cs:?}");
    assert!(before.discarded > 0, "the processor dropped the oldest chunks: {before:?}");
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
