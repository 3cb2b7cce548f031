//! The ALSA microphone source: a capture PCM opened by device id, hw params negotiated from
//! the constraints (sampleRate, channelCount, sampleSize), ~10 ms periods, and 10 ms AudioData
//! chunks delivered from a capture thread.
//!
//! The thread reads non-blocking and waits in poll() on the PCM's descriptors and a stop
//! eventfd, so `stop` is honoured at once and an idle device costs nothing. Overruns (EPIPE)
//! are counted and recovered (prepare, start); a suspended PCM is resumed; a device that goes
//! away (ENODEV, EBADFD, ENXIO, POLLERR outside an xrun, DISCONNECTED state) ends every track
//! with `EndReason::DeviceLost` within one wait (at most `max(2 periods, 20 ms)`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use alsa::pcm::{Access, HwParams, PCM};
use alsa::Direction;

pub use crate::constraints::AudioConstraints;
use crate::constraints::{
    audio_settings, overconstrained, select_settings, Capabilities, ConstrainRange, Offer, Property,
};
use crate::device::alsa::{
    alsa_error, alsa_format, classify, offered_channels, offered_formats, offered_rates, open_pcm, rate_range,
    set_period, Failure, Ready, Waiter,
};
use crate::device::DeviceKind;
use crate::error::{err, ErrorKind, Result};
use crate::frame::{AudioDataInit, AudioSampleFormat, Frame, Kind};
use crate::source::reacquire::Reopen;
use crate::source::worker::{monotonic_us, spawn_producer, StopSignal};
use crate::source::SourceCore;
use crate::track::{EndReason, Track};

/// What a microphone source has done, for `capture_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// AudioData chunks delivered.
    pub chunks: u64,
    /// Sample frames delivered.
    pub frames: u64,
    /// Overruns (the capture thread fell behind the device; audio was lost and the PCM
    /// restarted).
    pub overruns: u64,
}

/// The counters, written by the capture thread alone and read whole by any thread: a sequence
/// count, odd while the thread updates them, lets a reader retry a read that overlapped an
/// update (a seqlock), so `frames` is always `chunks` x the chunk size in a snapshot.
#[derive(Default)]
pub(crate) struct Counters {
    seq: AtomicU64,
    pub(crate) chunks: AtomicU64,
    pub(crate) frames: AtomicU64,
    pub(crate) overruns: AtomicU64,
}

impl Counters {
    /// Applies `update` as one step that readers see whole or not at all. Capture thread only.
    pub(crate) fn update(&self, update: impl FnOnce(&Counters)) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s + 1, Ordering::Relaxed);
        std::sync::atomic::fence(Ordering::Release);
        update(self);
        self.seq.store(s + 2, Ordering::Release);
    }

    fn snapshot(&self) -> CaptureStats {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let stats = CaptureStats {
                chunks: self.chunks.load(Ordering::Relaxed),
                frames: self.frames.load(Ordering::Relaxed),
                overruns: self.overruns.load(Ordering::Relaxed),
            };
            std::sync::atomic::fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return stats;
            }
        }
    }
}

/// The capture counters of `track`'s source, all as of one moment (summed over the sessions
/// of a reacquired device); None when it is not a microphone.
pub fn capture_stats(track: &Track) -> Option<CaptureStats> {
    let snapshots = track.source().session_counters::<Counters>().into_iter().map(|c| c.snapshot());
    snapshots.reduce(|a, b| CaptureStats {
        chunks: a.chunks + b.chunks,
        frames: a.frames + b.frames,
        overruns: a.overruns + b.overruns,
    })
}

/// The negotiated capture mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureMode {
    pub format: AudioSampleFormat,
    pub rate: u32,
    pub channels: u32,
    /// Frames per ALSA period and per AudioData chunk.
    pub period: u32,
    pub chunk: u32,
}

/// SelectSettings over the values of one property the device takes; `offered` describes them
/// for the error.
fn select<T: Copy>(
    device: &str,
    p: Property,
    c: &ConstrainRange,
    values: &[T],
    value: impl Fn(T) -> f64,
    offered: &str,
) -> Result<T> {
    select_settings(values, &[(p, *c)], |v, _| Some(Offer::fixed(value(*v))))
        .map(|i| values[i])
        .map_err(|_| overconstrained(p, c, &format!("ALSA device \"{device}\""), offered))
}

fn negotiate(pcm: &PCM, device: &str, c: &AudioConstraints) -> Result<CaptureMode> {
    let fail = |what: &'static str| move |e: alsa::Error| alsa_error(device, what, &e);
    let hw = HwParams::any(pcm).map_err(fail("reading the hardware parameters"))?;
    hw.set_access(Access::RWInterleaved).map_err(|e| {
        let mut e = alsa_error(device, "choosing interleaved read/write access", &e);
        e.kind = ErrorKind::Unsupported;
        e
    })?;

    // One property at a time, as each choice narrows what the device offers for the next.
    let bits = |f: AudioSampleFormat| f.bytes_per_sample() as u32 * 8;
    let offered = offered_formats(&hw);
    if offered.is_empty() {
        return Err(err!(
            Unsupported,
            "ALSA device \"{device}\" offers none of the sample formats S16_LE, S32_LE, FLOAT_LE, U8"
        ));
    }
    let sizes: Vec<String> = offered.iter().map(|f| bits(*f).to_string()).collect();
    let format = select(
        device,
        Property::SampleSize,
        &c.sample_size,
        &offered,
        |f| bits(f) as f64,
        &format!("{} bits", sizes.join("/")),
    )?;
    hw.set_format(alsa_format(format)).map_err(fail("setting the sample format"))?;

    let ((ch_lo, ch_hi), counts) = offered_channels(&hw).map_err(fail("reading channels"))?;
    let offered = format!("{ch_lo}..={ch_hi} channels");
    let channels = select(device, Property::ChannelCount, &c.channel_count, &counts, |n| n as f64, &offered)?;
    hw.set_channels(channels).map_err(fail("setting the channel count"))?;

    let (r_lo, r_hi) = rate_range(&hw).map_err(fail("reading rates"))?;
    let wanted =
        c.sample_rate.probes(Property::SampleRate, r_lo as f64, r_hi as f64).into_iter().map(|r| r.round() as u32);
    let rates = offered_rates(&hw, (r_lo, r_hi), wanted);
    let offered = format!("{r_lo}..={r_hi} Hz");
    let rate = select(device, Property::SampleRate, &c.sample_rate, &rates, |r| r as f64, &offered)?;
    hw.set_rate(rate, alsa::ValueOr::Nearest).map_err(fail("setting the sample rate"))?;

    set_period(&hw, rate).map_err(fail("setting the period and buffer sizes"))?;
    pcm.hw_params(&hw).map_err(fail("applying the hardware parameters"))?;
    let period = hw.get_period_size().map_err(fail("reading the period size"))?.max(1) as u32;
    let chunk = (rate / 100).max(1);
    Ok(CaptureMode { format, rate, channels, period, chunk })
}

/// Opens the ALSA capture PCM `device_id` ("default", "hw:CARD=...,DEV=...", or any PCM name
/// alsa-lib knows) with `constraints` and starts capturing on a thread ("mst-alsa-capture").
/// The track delivers interleaved AudioData of 10 ms (rate / 100 frames), timestamped with
/// the CLOCK_MONOTONIC time of their first sample in microseconds.
///
/// Errors: NoDevice (unknown id, named in the message), Busy, Overconstrained (naming
/// sampleRate, channelCount or sampleSize), InvalidArg (NaN or infinite constraint values),
/// Unsupported (no interleaved access, or no sample format libmst handles), Io.
pub fn microphone(device_id: &str, constraints: &AudioConstraints) -> Result<Track> {
    let track = open_microphone(device_id, constraints)?;
    let reopen = Reopen::Microphone { device_id: device_id.into(), constraints: *constraints };
    crate::source::reacquire::remember(&track, reopen);
    Ok(track)
}

fn open_microphone(device_id: &str, constraints: &AudioConstraints) -> Result<Track> {
    if device_id.starts_with(crate::source::fake::ID_PREFIX) {
        return crate::source::fake::microphone(device_id, constraints);
    }
    constraints.validate(&format!("ALSA device \"{device_id}\""))?;
    let pcm = open_pcm(device_id, Direction::Capture)?;
    let mode = negotiate(&pcm, device_id, constraints)?;
    let label = crate::device::alsa::enumerate()
        .ok()
        .and_then(|l| {
            l.into_iter().find(|d| d.kind == DeviceKind::AudioInput && d.device_id == device_id).map(|d| d.label)
        })
        .unwrap_or_else(|| format!("ALSA capture \"{device_id}\""));
    let (core, track, counters) = microphone_source(label, &mode);
    spawn_producer(&core, "mst-alsa-capture", move |core, stop| {
        crate::log::AlsaErrorsToLog::for_this_thread();
        Ok(Capture { pcm, mode, counters }.run(core, stop))
    })?;
    Ok(track)
}

/// A microphone source in `mode`, labelled `label`, with one track on it and its counters
/// attached.
pub(crate) fn microphone_source(label: String, mode: &CaptureMode) -> (Arc<SourceCore>, Track, Arc<Counters>) {
    let core = SourceCore::new(Kind::Audio, label, Capabilities::default());
    core.set_initial_settings(audio_settings(mode.rate, mode.channels, mode.format));
    let track = Track::new(&core);
    let counters = Arc::new(Counters::default());
    core.set_counters(counters.clone());
    (core, track, counters)
}

/// The timestamps of successive chunks, whoever reads them (ALSA, or the fake microphone):
/// counted in samples from an anchor read from the clock at the start and whenever audio was
/// lost, and never before the end of the previous chunk.
pub(crate) struct ChunkClock {
    us_per_frame: f64,
    /// The timestamp of the next chunk's first frame; None: take it from the clock.
    next: Option<f64>,
    last_end: f64,
}

impl ChunkClock {
    pub(crate) fn new(rate: u32) -> ChunkClock {
        ChunkClock { us_per_frame: 1e6 / rate as f64, next: None, last_end: f64::NEG_INFINITY }
    }

    /// The timestamp of a chunk of `frames` just read; `first_sample` says when the clock
    /// saw its first sample, and is asked only when the clock must be read again.
    pub(crate) fn stamp(&mut self, frames: u32, first_sample: impl FnOnce(f64) -> f64) -> i64 {
        let ts = match self.next {
            Some(t) => t,
            None => first_sample(self.us_per_frame).max(self.last_end),
        };
        let end = ts + frames as f64 * self.us_per_frame;
        self.next = Some(end);
        self.last_end = end;
        ts as i64
    }

    /// Audio was lost (an overrun, a suspend): the next chunk's time comes from the clock.
    pub(crate) fn lost(&mut self) {
        self.next = None;
    }
}

/// Delivers one chunk of `mode` read into `data`, counted first (so a reader that has a chunk
/// sees it counted). Err(reason) when the source must end (None: the source is gone).
pub(crate) fn deliver_chunk(
    counters: &Counters,
    core: &Weak<SourceCore>,
    mode: &CaptureMode,
    ts: i64,
    data: &[u8],
) -> std::result::Result<(), Option<EndReason>> {
    let init = AudioDataInit {
        format: mode.format,
        sample_rate: mode.rate as f32,
        number_of_frames: mode.chunk,
        number_of_channels: mode.channels,
        timestamp: ts,
    };
    let core = core.upgrade().ok_or(None)?;
    let f = Frame::audio_copy(&init, data).map_err(|_| Some(EndReason::Error))?;
    counters.update(|c| {
        c.chunks.fetch_add(1, Ordering::Relaxed);
        c.frames.fetch_add(mode.chunk as u64, Ordering::Relaxed);
    });
    core.deliver(&f);
    Ok(())
}

struct Capture {
    pcm: PCM,
    mode: CaptureMode,
    counters: Arc<Counters>,
}

impl Capture {
    /// Captures until stopped (None) or until the device fails (the reason to end with).
    fn run(&self, core: &Weak<SourceCore>, stop: &StopSignal) -> Option<EndReason> {
        let m = self.mode;
        let frame_bytes = m.channels as usize * m.format.bytes_per_sample();
        let chunk = m.chunk as usize;
        let mut buf = vec![0u8; chunk * frame_bytes];
        let mut filled = 0usize;
        let Ok(mut waiter) = Waiter::new(&self.pcm, stop.fd()) else { return Some(EndReason::Error) };
        // Waiting longer than this without data means the device stalled: look at its state.
        let patience = Duration::from_micros((2 * m.period.max(m.chunk)) as u64 * 1_000_000 / m.rate as u64)
            .max(Duration::from_millis(20));
        let mut clock = ChunkClock::new(m.rate);
        let mut idle_wakeups = 0u32;
        let io = self.pcm.io_bytes();
        if let Err(e) = self.pcm.start() {
            if classify(&e) == Failure::Lost {
                return Some(EndReason::DeviceLost);
            }
        }
        loop {
            if stop.is_raised() {
                return None;
            }
            let failure = match io.readi(&mut buf[filled * frame_bytes..]) {
                Ok(0) => Failure::Again,
                Ok(n) => {
                    idle_wakeups = 0;
                    filled += n;
                    if filled < chunk {
                        continue;
                    }
                    filled = 0;
                    let ts = clock.stamp(m.chunk, |us_per_frame| {
                        // The chunk's first frame was captured `chunk + still buffered` frames ago.
                        let queued = self.pcm.avail_update().unwrap_or(0).max(0) as f64;
                        monotonic_us() as f64 - (chunk as f64 + queued) * us_per_frame
                    });
                    if let Err(end) = deliver_chunk(&self.counters, core, &m, ts, &buf) {
                        return end;
                    }
                    continue;
                }
                Err(e) => {
                    let f = classify(&e);
                    if f == Failure::Other {
                        // Unknown errors: snd_pcm_recover knows more cases than we do.
                        match self.pcm.try_recover(e, true) {
                            Ok(()) => {
                                let _ = self.pcm.start();
                                continue;
                            }
                            Err(e2) if classify(&e2) == Failure::Lost => return Some(EndReason::DeviceLost),
                            Err(_) => return Some(EndReason::Error),
                        }
                    }
                    f
                }
            };
            let failure = if failure == Failure::Again {
                match waiter.wait(&self.pcm, patience) {
                    Ready::Stop => return None,
                    Ready::Io => {
                        idle_wakeups += 1;
                        if idle_wakeups > 3 {
                            // Ready by poll but nothing to read: don't spin.
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        continue;
                    }
                    Ready::Idle => continue,
                    Ready::Failed(f) => f,
                }
            } else {
                failure
            };
            match failure {
                Failure::Again | Failure::Interrupted => continue,
                Failure::Xrun => {
                    self.counters.update(|c| {
                        c.overruns.fetch_add(1, Ordering::Relaxed);
                    });
                    if let Some(r) = self.restart() {
                        return Some(r);
                    }
                    // Audio was lost: the partial chunk is dropped and timestamps follow the clock.
                    filled = 0;
                    clock.lost();
                }
                Failure::Suspended => {
                    if let Some(r) = self.resume(stop) {
                        return Some(r);
                    }
                    filled = 0;
                    clock.lost();
                }
                Failure::Lost => return Some(EndReason::DeviceLost),
                Failure::Other => return Some(EndReason::Error),
            }
        }
    }

    /// prepare + start after an overrun.
    fn restart(&self) -> Option<EndReason> {
        let r = self.pcm.prepare().and_then(|_| self.pcm.start());
        match r {
            Ok(()) => None,
            Err(e) if classify(&e) == Failure::Lost => Some(EndReason::DeviceLost),
            Err(_) => Some(EndReason::Error),
        }
    }

    /// Waits (up to 1 s, stop honoured) for a suspended device to resume, else prepares it.
    fn resume(&self, stop: &StopSignal) -> Option<EndReason> {
        for _ in 0..100 {
            if stop.is_raised() {
                return None;
            }
            match self.pcm.resume() {
                Ok(()) => return None,
                Err(e) if classify(&e) == Failure::Again => std::thread::sleep(Duration::from_millis(10)),
                Err(e) if classify(&e) == Failure::Lost => return Some(EndReason::DeviceLost),
                Err(_) => break,
            }
        }
        self.restart()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot is never torn: read while the capture thread counts as fast as it can, the
    /// frames are always the chunks times the chunk size (reading the counters one by one,
    /// as before, saw one chunk counted and its frames not yet: a CI failure).
    #[test]
    fn capture_counters_are_read_whole() {
        let c = std::sync::Arc::new(Counters::default());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (c, stop) = (c.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    c.update(|c| {
                        c.chunks.fetch_add(1, Ordering::Relaxed);
                        c.frames.fetch_add(480, Ordering::Relaxed);
                    });
                }
            })
        };
        while c.snapshot().chunks == 0 {
            std::hint::spin_loop();
        }
        let mut last = 0;
        for _ in 0..1_000_000 {
            let s = c.snapshot();
            assert_eq!(s.frames, s.chunks * 480, "{s:?}");
            assert!(s.chunks >= last);
            last = s.chunks;
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        assert!(last > 0, "the writer ran");
    }
}
