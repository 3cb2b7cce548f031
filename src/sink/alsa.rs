//! ALSA playback of an audio track: a sink with its own processor (so the source's thread
//! never waits for the device) and a playback thread that converts each AudioData to the
//! negotiated interleaved format and writes it.
//!
//! The PCM is opened at once (an unknown device fails the open); its hw params are set from
//! the first chunk: its rate and channel count, and its sample format if the device has it
//! (else s16, s32, f32 or u8, whichever it has). A chunk with another rate or channel count
//! renegotiates. Underruns (EPIPE) are counted and recovered (prepare, write again). Playback
//! starts once two periods are queued. When the track ends, what is queued is played out,
//! followed by silence rather than stale buffer contents (see `Player::drain`); a device that
//! goes away stops playback.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alsa::pcm::{Access, HwParams, State, PCM};
use alsa::Direction;

use crate::device::alsa::{alsa_error, alsa_format, classify, open_pcm, set_period, Failure, Ready, Waiter, FORMATS};
use crate::error::{err, Error, ErrorKind, Result};
use crate::frame::{AudioCopyOptions, AudioSampleFormat, Frame, Kind};
use crate::sink::processor::{EndPolicy, Processor, Wait};
use crate::sink::SinkThread;
use crate::source::worker::StopSignal;
use crate::track::Track;

/// What a playback sink has done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlaybackStats {
    /// Sample frames written to the device.
    pub frames_played: u64,
    /// Underruns recovered (the device ran out of audio; it was prepared and restarted).
    pub underruns: u64,
    /// Chunks the sink's queue discarded because the device took them slower than the track
    /// delivered them.
    pub chunks_dropped: u64,
    /// Chunks not played because the device could not take their format.
    pub chunks_rejected: u64,
}

#[derive(Default)]
struct Counters {
    frames: AtomicU64,
    underruns: AtomicU64,
    rejected: AtomicU64,
}

struct Shared {
    stop: Arc<StopSignal>,
    counters: Counters,
}

/// Plays an audio track on an ALSA PCM.
pub struct AudioPlayback {
    shared: Arc<Shared>,
    run: SinkThread,
}

/// Queue length of the sink's processor: 1 s of 10 ms chunks.
const QUEUE: usize = 100;

impl AudioPlayback {
    /// Starts playing `track` (an audio track) on the ALSA PCM `device_id`.
    /// Errors: Type (a video track), NoDevice (unknown id, named), Busy, Io, NoMemory.
    pub fn open(track: &Track, device_id: &str) -> Result<AudioPlayback> {
        if track.kind() != Kind::Audio {
            return Err(err!(Type, "ALSA playback takes an audio track, not a {} one", track.kind().name()));
        }
        let pcm = open_pcm(device_id, Direction::Playback)?;
        let shared = Arc::new(Shared {
            stop: StopSignal::new().map_err(|e| err!(Io, "creating an eventfd: {e}"))?,
            counters: Counters::default(),
        });
        let processor = Arc::new(Processor::with_end_policy(track, QUEUE, EndPolicy::Drain));
        let s2 = shared.clone();
        let device = device_id.to_string();
        let run = SinkThread::spawn(processor, shared.stop.clone(), "mst-alsa-playback", "playback", move |p, _| {
            crate::log::AlsaErrorsToLog::for_this_thread();
            Player { pcm, device, mode: None, buf: Vec::new(), waiter: None }.run(p, &s2)
        })?;
        Ok(AudioPlayback { shared, run })
    }

    /// The counters so far; the final ones once stopped. Never waits.
    pub fn stats(&self) -> PlaybackStats {
        let c = &self.shared.counters;
        PlaybackStats {
            frames_played: c.frames.load(Ordering::Relaxed),
            underruns: c.underruns.load(Ordering::Relaxed),
            chunks_dropped: self.run.processor().stats().discarded_in_queue(),
            chunks_rejected: c.rejected.load(Ordering::Relaxed),
        }
    }

    /// True once playback has stopped: the device failed or went away (see
    /// [`stop`](Self::stop) for why), or the ended track was played out, or stopped. A writer
    /// that waits for room in the sink's queue must stop waiting then, as the queue is never
    /// emptied again.
    pub fn is_stopped(&self) -> bool {
        self.run.has_stopped()
    }

    /// Ends playback and closes the device: if the track has ended, what it delivered is
    /// played out first (as `finish`); if it is live, playback stops now and what is queued
    /// is not played. The error that stopped playback (device lost, I/O error), if any; later
    /// calls return the first one's result.
    pub fn stop(&self) -> Result<()> {
        self.run.close()
    }

    /// `stop`, then the final counters.
    pub fn close(&self) -> Result<PlaybackStats> {
        self.stop()?;
        Ok(self.stats())
    }

    /// Waits until the track has ended and everything it delivered was played (drained, at
    /// most 2 s once the queue is written), then closes. Returns at once if playback has
    /// already stopped.
    pub fn finish(&self) -> Result<PlaybackStats> {
        self.run.finish()?;
        Ok(self.stats())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Mode {
    rate: u32,
    channels: u32,
    format: AudioSampleFormat,
    period: u32,
    /// Frames the device's buffer holds.
    buffer: u32,
}

struct Player {
    pcm: PCM,
    device: String,
    mode: Option<Mode>,
    buf: Vec<u8>,
    waiter: Option<Waiter>,
}

enum Outcome {
    Done,
    Stopped,
}

impl Player {
    fn run(&mut self, processor: &Processor, shared: &Shared) -> Result<()> {
        loop {
            if shared.stop.is_raised() {
                let _ = self.pcm.drop();
                return Ok(());
            }
            match processor.read(Wait::Forever) {
                Ok(d) => match self.play(&d.frame, shared)? {
                    Outcome::Done => {}
                    Outcome::Stopped => {
                        let _ = self.pcm.drop();
                        return Ok(());
                    }
                },
                Err(e) if e.kind == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        self.drain(shared);
        Ok(())
    }

    fn configure(&mut self, rate: u32, channels: u32, preferred: AudioSampleFormat) -> Result<Mode> {
        let device = self.device.clone();
        let device = device.as_str();
        let fail = |what: &'static str| move |e: alsa::Error| alsa_error(device, what, &e);
        if self.mode.is_some() {
            let _ = self.pcm.drain();
            let _ = self.pcm.hw_free();
            self.mode = None;
        }
        let hw = HwParams::any(&self.pcm).map_err(fail("reading the hardware parameters"))?;
        hw.set_access(Access::RWInterleaved).map_err(fail("choosing interleaved access"))?;
        let interleaved = match preferred {
            AudioSampleFormat::U8Planar => AudioSampleFormat::U8,
            AudioSampleFormat::S16Planar => AudioSampleFormat::S16,
            AudioSampleFormat::S32Planar => AudioSampleFormat::S32,
            AudioSampleFormat::F32Planar => AudioSampleFormat::F32,
            f => f,
        };
        let format =
            std::iter::once(interleaved).chain(FORMATS).find(|f| hw.test_format(alsa_format(*f)).is_ok()).ok_or_else(
                || err!(Unsupported, "ALSA device \"{}\" takes none of S16_LE, S32_LE, FLOAT_LE, U8", self.device),
            )?;
        hw.set_format(alsa_format(format)).map_err(fail("setting the sample format"))?;
        hw.set_channels(channels).map_err(|e| {
            let mut x = alsa_error(&self.device, "setting the channel count", &e);
            x.kind = ErrorKind::Unsupported;
            x.message = format!("ALSA device \"{}\" cannot play {channels} channels", self.device).into();
            x
        })?;
        hw.set_rate(rate, alsa::ValueOr::Nearest).map_err(|e| {
            let mut x = alsa_error(&self.device, "setting the rate", &e);
            x.kind = ErrorKind::Unsupported;
            x.message = format!(
                "ALSA device \"{}\" cannot play {rate} Hz (open a \"plughw:\" or \"default\" device to resample)",
                self.device
            )
            .into();
            x
        })?;
        set_period(&hw, rate).map_err(fail("setting the period and buffer sizes"))?;
        self.pcm.hw_params(&hw).map_err(fail("applying the hardware parameters"))?;
        let period = hw.get_period_size().map_err(fail("reading the period size"))?.max(1);
        let buffer = hw.get_buffer_size().map_err(fail("reading the buffer size"))?.max(1);
        drop(hw);
        let sw = self.pcm.sw_params_current().map_err(fail("reading the software parameters"))?;
        sw.set_start_threshold((2 * period).min(buffer)).map_err(fail("setting the start threshold"))?;
        sw.set_avail_min(period).map_err(fail("setting avail_min"))?;
        self.pcm.sw_params(&sw).map_err(fail("applying the software parameters"))?;
        drop(sw);
        let m = Mode { rate, channels, format, period: period as u32, buffer: buffer as u32 };
        self.mode = Some(m);
        Ok(m)
    }

    fn play(&mut self, frame: &Frame, shared: &Shared) -> Result<Outcome> {
        let Some(a) = frame.audio().copied() else { return Ok(Outcome::Done) };
        let rate = a.sample_rate.round() as u32;
        let mode = match self.mode {
            Some(m) if m.rate == rate && m.channels == a.number_of_channels => m,
            _ => match self.configure(rate, a.number_of_channels, a.format) {
                Ok(m) => m,
                Err(e) if matches!(e.kind, ErrorKind::Unsupported | ErrorKind::InvalidArg) => {
                    // This chunk cannot be played here; a later one of another shape may be.
                    shared.counters.rejected.fetch_add(1, Ordering::Relaxed);
                    return Ok(Outcome::Done);
                }
                Err(e) => return Err(e),
            },
        };
        if self.waiter.is_none() {
            self.waiter = Some(
                Waiter::new(&self.pcm, shared.stop.fd())
                    .map_err(|e| alsa_error(&self.device, "getting poll descriptors", &e))?,
            );
        }
        let opts = AudioCopyOptions { format: Some(mode.format), ..Default::default() };
        self.buf.resize(frame.audio_allocation_size(&opts)?, 0);
        frame.audio_copy_to(&mut self.buf, &opts)?;
        let frame_bytes = mode.channels as usize * mode.format.bytes_per_sample();
        let patience =
            Duration::from_micros(2 * mode.period as u64 * 1_000_000 / mode.rate as u64).max(Duration::from_millis(20));
        let mut off = 0usize;
        let io = self.pcm.io_bytes();
        while off < self.buf.len() {
            if shared.stop.is_raised() {
                return Ok(Outcome::Stopped);
            }
            let failure = match io.writei(&self.buf[off..]) {
                Ok(n) => {
                    off += n * frame_bytes;
                    shared.counters.frames.fetch_add(n as u64, Ordering::Relaxed);
                    continue;
                }
                Err(e) if classify(&e) == Failure::Other => return Err(alsa_error(&self.device, "writing", &e)),
                Err(e) => classify(&e),
            };
            let failure = match failure {
                Failure::Again => match self.waiter.as_mut().expect("set above").wait(&self.pcm, patience) {
                    Ready::Stop => return Ok(Outcome::Stopped),
                    Ready::Io | Ready::Idle => continue,
                    Ready::Failed(f) => f,
                },
                f => f,
            };
            match failure {
                Failure::Again | Failure::Interrupted => {}
                Failure::Xrun => {
                    shared.counters.underruns.fetch_add(1, Ordering::Relaxed);
                    self.pcm.prepare().map_err(|e| self.lost_or(e, "recovering from an underrun"))?;
                }
                Failure::Suspended => {
                    let mut resumed = false;
                    for _ in 0..100 {
                        match self.pcm.resume() {
                            Ok(()) => {
                                resumed = true;
                                break;
                            }
                            Err(e) if classify(&e) == Failure::Again => std::thread::sleep(Duration::from_millis(10)),
                            Err(_) => break,
                        }
                    }
                    if !resumed {
                        self.pcm.prepare().map_err(|e| self.lost_or(e, "recovering from a suspend"))?;
                    }
                }
                Failure::Lost => {
                    return Err(err!(NoDevice, "ALSA device \"{}\" went away during playback", self.device))
                }
                Failure::Other => return Err(err!(Io, "ALSA device \"{}\": writing failed", self.device)),
            }
        }
        Ok(Outcome::Done)
    }

    fn lost_or(&self, e: alsa::Error, what: &str) -> Error {
        if classify(&e) == Failure::Lost {
            err!(NoDevice, "ALSA device \"{}\" went away during playback", self.device)
        } else {
            alsa_error(&self.device, what, &e)
        }
    }

    /// Plays out what the device holds, then stops it; bounded by 2 s (a device with no clock,
    /// or one that went away, cannot hold us).
    ///
    /// Not with snd_pcm_drain: on Linux 6.1 it can zero the last frames still to be played and
    /// play stale buffer contents after them (seen on snd-aloop in 4 of 9 streams: the last 2-4
    /// ms zeroed, then 4 ms of audio from one buffer earlier; most likely the silence alsa-lib
    /// asks the kernel to fill after the last frame, filled from the wrong place, as the kernel's
    /// silence filling was reworked in 6.5). Instead the device is fed
    /// silence until everything written before it has been played, then stopped, so whatever it
    /// plays past the end is silence: at most a buffer of it is written (what a `file` PCM
    /// records after the stream). Running dry meanwhile is an underrun like any other.
    fn drain(&mut self, shared: &Shared) {
        let (Some(mode), Some(waiter)) = (self.mode, self.waiter.as_mut()) else { return };
        let frame_bytes = mode.channels as usize * mode.format.bytes_per_sample();
        let zero = if mode.format == AudioSampleFormat::U8 { 0x80 } else { 0 };
        let silence = vec![zero; mode.period as usize * frame_bytes];
        let io = self.pcm.io_bytes();
        // Silence frames written after the last frame of audio.
        let mut padded = 0i64;
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && !shared.stop.is_raised() {
            // A buffer of silence covers all the audio the device still held at the start.
            let room = (mode.buffer as i64 - padded).clamp(0, mode.period as i64) as usize;
            let written =
                if room == 0 { Ok(0) } else { io.writei(&silence[..room * frame_bytes]).map_err(|e| classify(&e)) };
            let failure = match written {
                Ok(n) => {
                    padded += n as i64;
                    None
                }
                Err(Failure::Again) => None,
                Err(f) => Some(f),
            };
            if failure.is_none() && self.pcm.state() == State::Prepared {
                // Less than the start threshold was written: start so it is played.
                let _ = self.pcm.start();
            }
            let ready = match (failure, self.pcm.delay()) {
                (Some(f), _) => Ready::Failed(f),
                // Only silence is left to play.
                (None, Ok(queued)) if queued <= padded => break,
                (None, Ok(_)) if room == 0 => {
                    // Nothing more to write, so the PCM's readiness says nothing: let time pass.
                    std::thread::sleep(Duration::from_millis(5));
                    Ready::Idle
                }
                (None, Ok(_)) => waiter.wait(&self.pcm, Duration::from_millis(10)),
                (None, Err(e)) => Ready::Failed(classify(&e)),
            };
            match ready {
                Ready::Io | Ready::Idle | Ready::Failed(Failure::Again | Failure::Interrupted) => {}
                Ready::Failed(Failure::Xrun) => {
                    shared.counters.underruns.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ready::Stop | Ready::Failed(_) => break,
            }
        }
        let _ = self.pcm.drop();
    }
}
