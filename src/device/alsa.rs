//! ALSA: PCM enumeration, and the pieces the microphone source (source/alsa.rs) and the
//! playback sink (sink/alsa.rs) share: opening a PCM with readable errors, errno classes,
//! and waiting for a PCM or a stop signal without busy-looping.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::time::Duration;

use alsa::pcm::{Format, HwParams, State, PCM};
use alsa::poll::Descriptors;
use alsa::Direction;

use super::{DeviceInfo, DeviceKind};
use crate::error::{err, Error, ErrorKind, Result};
use crate::frame::AudioSampleFormat;

/// The ALSA PCM every configuration defines.
pub const DEFAULT_DEVICE: &str = "default";

/// What an errno means to a streaming PCM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Try again after waiting (EAGAIN).
    Again,
    /// Over- or underrun (EPIPE): prepare and start again, count it.
    Xrun,
    /// Suspended (ESTRPIPE): resume, or prepare.
    Suspended,
    /// The device is gone (ENODEV, EBADFD, ENXIO, EIO after a hot unplug): end with
    /// "device lost".
    Lost,
    /// A signal interrupted the call: just retry.
    Interrupted,
    /// Anything else: try snd_pcm_recover once, else give up.
    Other,
}

pub(crate) fn classify(e: &alsa::Error) -> Failure {
    match e.errno().abs() {
        libc::EAGAIN => Failure::Again,
        libc::EPIPE => Failure::Xrun,
        libc::ESTRPIPE => Failure::Suspended,
        libc::ENODEV | libc::EBADFD | libc::ENXIO | libc::ESHUTDOWN => Failure::Lost,
        libc::EINTR => Failure::Interrupted,
        _ => Failure::Other,
    }
}

/// A readable error for an alsa-lib failure on `device` while `what`.
pub(crate) fn alsa_error(device: &str, what: &str, e: &alsa::Error) -> Error {
    let errno = e.errno().abs();
    let kind = match errno {
        libc::ENOENT | libc::ENODEV | libc::ENXIO => ErrorKind::NoDevice,
        libc::EBUSY => ErrorKind::Busy,
        libc::ENOMEM => ErrorKind::NoMemory,
        libc::EINVAL => ErrorKind::InvalidArg,
        _ => ErrorKind::Io,
    };
    let text = std::io::Error::from_raw_os_error(errno);
    Error::new(kind, format!("ALSA device \"{device}\": {what} failed ({}: {text})", e.func()))
}

/// Opens `device` (any ALSA PCM name) non-blocking. An unknown name gives NoDevice with the
/// name in the message.
pub(crate) fn open_pcm(device: &str, dir: Direction) -> Result<PCM> {
    let name = CString::new(device).map_err(|_| err!(InvalidArg, "the device id {device:?} contains a NUL byte"))?;
    let what = match dir {
        Direction::Capture => "opening for capture",
        Direction::Playback => "opening for playback",
    };
    PCM::open(&name, dir, true).map_err(|e| {
        let mut error = alsa_error(device, what, &e);
        if matches!(e.errno().abs(), libc::ENOENT | libc::ENODEV | libc::ENXIO) {
            error.kind = ErrorKind::NoDevice;
            error.message =
                format!("no ALSA device \"{device}\" ({what}: {})", std::io::Error::from_raw_os_error(e.errno().abs()))
                    .into();
        }
        error
    })
}

/// The ALSA format of an (interleaved) AudioData sample format, little-endian as on every
/// Linux machine libmst supports.
pub(crate) fn alsa_format(f: AudioSampleFormat) -> Format {
    match f {
        AudioSampleFormat::U8 | AudioSampleFormat::U8Planar => Format::U8,
        AudioSampleFormat::S16 | AudioSampleFormat::S16Planar => Format::s16(),
        AudioSampleFormat::S32 | AudioSampleFormat::S32Planar => Format::s32(),
        AudioSampleFormat::F32 | AudioSampleFormat::F32Planar => Format::float(),
    }
}

/// The interleaved sample formats libmst moves to and from ALSA, in order of preference.
pub(crate) const FORMATS: [AudioSampleFormat; 4] =
    [AudioSampleFormat::S16, AudioSampleFormat::S32, AudioSampleFormat::F32, AudioSampleFormat::U8];

/// Rates tried besides a range's ends and what the constraints name, so that a device that
/// takes only some rates of its range is still asked for the common ones.
pub(crate) const COMMON_RATES: [u32; 13] =
    [8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 384_000, 768_000];

/// The most channels libmst asks a device about: past this, counts are not tried one by one.
const MAX_CHANNELS: u32 = 32;

/// The formats of [`FORMATS`] that `hw` still allows, in order of preference.
pub(crate) fn offered_formats(hw: &HwParams) -> Vec<AudioSampleFormat> {
    FORMATS.into_iter().filter(|f| hw.test_format(alsa_format(*f)).is_ok()).collect()
}

/// The range of channel counts `hw` allows (its top capped at [`MAX_CHANNELS`]) and the counts
/// in it that it takes.
pub(crate) fn offered_channels(hw: &HwParams) -> std::result::Result<((u32, u32), Vec<u32>), alsa::Error> {
    let (lo, hi) = (hw.get_channels_min()?, hw.get_channels_max()?.min(MAX_CHANNELS));
    Ok(((lo, hi), (lo..=hi).filter(|n| hw.test_channels(*n).is_ok()).collect()))
}

/// The range of rates `hw` allows, within 1..=768000 Hz.
pub(crate) fn rate_range(hw: &HwParams) -> std::result::Result<(u32, u32), alsa::Error> {
    Ok((hw.get_rate_min()?.max(1), hw.get_rate_max()?.min(768_000)))
}

/// Of `wanted` and the [`COMMON_RATES`] within `range`, those `hw` takes, sorted.
pub(crate) fn offered_rates(hw: &HwParams, range: (u32, u32), wanted: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut rates: Vec<u32> =
        wanted.into_iter().chain(COMMON_RATES.into_iter().filter(|r| (range.0..=range.1).contains(r))).collect();
    rates.sort_unstable();
    rates.dedup();
    rates.retain(|r| hw.test_rate(*r).is_ok());
    rates
}

/// What an ALSA PCM offers libmst before anything is chosen: each property lists what some
/// configuration takes (a combination can be narrower, e.g. fewer channels at a high rate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcmOffer {
    /// The interleaved sample formats libmst moves that the device takes, in order of preference.
    pub formats: Vec<AudioSampleFormat>,
    /// The channel counts it takes (tried up to 32).
    pub channels: Vec<u32>,
    /// The lowest and highest rate, in Hz.
    pub rate_range: (u32, u32),
    /// The common rates (8000 to 768000 Hz) in `rate_range` that it takes.
    pub rates: Vec<u32>,
}

/// Opens the PCM `device_id` (for capture when `kind` is AudioInput, for playback when it is
/// AudioOutput), reads what it offers with interleaved access (as the microphone source and
/// the playback sink open it) and closes it again. For listings (`mst devices`): the same
/// probing the microphone's negotiation does.
/// Errors: InvalidArg (a video kind, or an id with a NUL), NoDevice, Busy, Unsupported (no
/// interleaved access, or none of libmst's sample formats), Io.
pub fn pcm_offer(device_id: &str, kind: DeviceKind) -> Result<PcmOffer> {
    let dir = match kind {
        DeviceKind::AudioInput => Direction::Capture,
        DeviceKind::AudioOutput => Direction::Playback,
        _ => return Err(err!(InvalidArg, "{kind:?} is not an ALSA device kind")),
    };
    let pcm = open_pcm(device_id, dir)?;
    let fail = |what: &'static str| move |e: alsa::Error| alsa_error(device_id, what, &e);
    let hw = HwParams::any(&pcm).map_err(fail("reading the hardware parameters"))?;
    hw.set_access(alsa::pcm::Access::RWInterleaved).map_err(|e| {
        let mut e = alsa_error(device_id, "choosing interleaved read/write access", &e);
        e.kind = ErrorKind::Unsupported;
        e
    })?;
    let formats = offered_formats(&hw);
    if formats.is_empty() {
        return Err(err!(
            Unsupported,
            "ALSA device \"{device_id}\" offers none of the sample formats S16_LE, S32_LE, FLOAT_LE, U8"
        ));
    }
    let (_, channels) = offered_channels(&hw).map_err(fail("reading channels"))?;
    let rate_range = rate_range(&hw).map_err(fail("reading rates"))?;
    let rates = offered_rates(&hw, rate_range, [rate_range.0, rate_range.1]);
    Ok(PcmOffer { formats, channels, rate_range, rates })
}

/// The period libmst asks for: 10 ms.
pub(crate) const PERIOD_US: u32 = 10_000;
/// Periods per buffer.
pub(crate) const PERIODS: u32 = 4;

/// Sets the period to ~10 ms and the buffer to ~4 periods (whatever the device allows near
/// that), after rate, channels and format are fixed.
pub(crate) fn set_period(hw: &HwParams, rate: u32) -> std::result::Result<(), alsa::Error> {
    let period = (rate as i64 * PERIOD_US as i64 / 1_000_000).max(1);
    let period = hw.set_period_size_near(period, alsa::ValueOr::Nearest)?;
    hw.set_buffer_size_near(period * PERIODS as i64)?;
    Ok(())
}

/// Waits on a PCM's poll descriptors and a stop eventfd.
pub(crate) struct Waiter {
    fds: Vec<libc::pollfd>,
    pcm_fds: usize,
}

/// What a wait found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ready {
    /// The PCM can be read or written.
    Io,
    /// Stop was signalled.
    Stop,
    /// Nothing within the timeout, and the PCM's state is fine: wait again.
    Idle,
    /// The PCM needs attention: an xrun, a suspend, or the device is gone. A timeout is judged
    /// by the PCM's state; POLLERR in a state that looks fine means the device is going away.
    Failed(Failure),
}

impl Waiter {
    pub(crate) fn new(pcm: &PCM, stop_fd: RawFd) -> std::result::Result<Waiter, alsa::Error> {
        let mut fds = pcm.get()?;
        let pcm_fds = fds.len();
        fds.push(libc::pollfd { fd: stop_fd, events: libc::POLLIN, revents: 0 });
        Ok(Waiter { fds, pcm_fds })
    }

    /// Polls up to `timeout`; POLLIN on the stop fd wins.
    pub(crate) fn wait(&mut self, pcm: &PCM, timeout: Duration) -> Ready {
        match self.poll(pcm, timeout) {
            Polled::Stop => Ready::Stop,
            Polled::Io => Ready::Io,
            Polled::Timeout => match failure_from_state(pcm) {
                Failure::Again => Ready::Idle,
                f => Ready::Failed(f),
            },
            Polled::Error => match failure_from_state(pcm) {
                Failure::Again => Ready::Failed(Failure::Lost),
                f => Ready::Failed(f),
            },
        }
    }

    fn poll(&mut self, pcm: &PCM, timeout: Duration) -> Polled {
        for f in &mut self.fds {
            f.revents = 0;
        }
        let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: fds is a live, correctly sized array of pollfd for the duration of the call.
        let n = unsafe { libc::poll(self.fds.as_mut_ptr(), self.fds.len() as libc::nfds_t, ms) };
        if self.fds[self.pcm_fds].revents != 0 {
            return Polled::Stop;
        }
        if n <= 0 {
            // 0: timeout; < 0: EINTR (nothing else is possible with a valid array).
            return Polled::Timeout;
        }
        match pcm.revents(&self.fds[..self.pcm_fds]) {
            Ok(flags) => {
                let bits = flags.bits();
                if bits & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                    Polled::Error
                } else if bits & (libc::POLLIN | libc::POLLOUT) != 0 {
                    Polled::Io
                } else {
                    Polled::Timeout
                }
            }
            // Descriptors that cannot be decoded: the PCM is unusable.
            Err(_) => Polled::Error,
        }
    }
}

/// What poll() itself reported.
enum Polled {
    Io,
    Stop,
    Timeout,
    Error,
}

/// After POLLERR: Lost when the device has gone (state DISCONNECTED, or the state cannot be
/// read), Xrun or Suspended when recoverable, Again otherwise.
fn failure_from_state(pcm: &PCM) -> Failure {
    match pcm.state() {
        State::Disconnected => Failure::Lost,
        State::XRun => Failure::Xrun,
        State::Suspended => Failure::Suspended,
        _ => Failure::Again,
    }
}

fn card_group(card_id: &str) -> String {
    format!("alsa-card:{card_id}")
}

/// ALSA's PCMs: "default" as an input and an output, then the hw devices of every card, as
/// inputs when they have a capture stream and outputs when they have a playback one.
pub(crate) fn enumerate() -> Result<Vec<DeviceInfo>> {
    let mut inputs = vec![DeviceInfo {
        kind: DeviceKind::AudioInput,
        device_id: DEFAULT_DEVICE.into(),
        label: "Default audio input (ALSA \"default\")".into(),
        group_id: "alsa:default".into(),
    }];
    let mut outputs = vec![DeviceInfo {
        kind: DeviceKind::AudioOutput,
        device_id: DEFAULT_DEVICE.into(),
        label: "Default audio output (ALSA \"default\")".into(),
        group_id: "alsa:default".into(),
    }];
    for card in alsa::card::Iter::new() {
        // A card that vanishes while we look is simply not listed.
        let Ok(card) = card else { continue };
        let Ok(ctl) = alsa::Ctl::from_card(&card, false) else { continue };
        let Ok(info) = ctl.card_info() else { continue };
        let card_id = info.get_id().unwrap_or("").to_string();
        let card_name = info.get_name().unwrap_or(&card_id).to_string();
        if card_id.is_empty() {
            continue;
        }
        for dev in alsa::ctl::DeviceIter::new(&ctl) {
            let Ok(dev) = u32::try_from(dev) else { continue };
            let id = format!("hw:CARD={card_id},DEV={dev}");
            for (dir, list, kind) in [
                (Direction::Capture, &mut inputs, DeviceKind::AudioInput),
                (Direction::Playback, &mut outputs, DeviceKind::AudioOutput),
            ] {
                let Ok(pcm) = ctl.pcm_info(dev, 0, dir) else { continue };
                let pcm_name = pcm.get_name().unwrap_or("").trim().to_string();
                let label = if pcm_name.is_empty() {
                    format!("{card_name} ({id})")
                } else {
                    format!("{card_name}: {pcm_name} ({id})")
                };
                list.push(DeviceInfo { kind, device_id: id.clone(), label, group_id: card_group(&card_id) });
            }
        }
    }
    inputs.extend(outputs);
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_classes() {
        let c = |n| classify(&alsa::Error::new("x", n));
        assert_eq!(c(libc::EPIPE), Failure::Xrun);
        assert_eq!(c(libc::ENODEV), Failure::Lost);
        assert_eq!(c(libc::EBADFD), Failure::Lost);
        assert_eq!(c(-libc::ESTRPIPE), Failure::Suspended);
        assert_eq!(c(libc::EAGAIN), Failure::Again);
        assert_eq!(alsa_error("hw:9", "x", &alsa::Error::new("f", libc::ENOENT)).kind, ErrorKind::NoDevice);
        assert_eq!(alsa_error("hw:9", "x", &alsa::Error::new("f", libc::EBUSY)).kind, ErrorKind::Busy);
    }
}
