//! `MediaStreamTrackGenerator` (and the standardized VideoTrackGenerator's `muted`).
//!
//! The writable follows the Streams standard: a write the sink rejects errors it
//! (WritableStreamDealWithRejection), and from then on every write and close fails with the
//! stored error; a write to a closed writable is a TypeError. Rejection does not run the abort
//! algorithm (Streams runs it only for `writer.abort()`), so connected tracks stay live until
//! the generator goes away.

use std::sync::{Arc, OnceLock};

use crate::constraints::Capabilities;
use crate::error::{err, Error, Result};
use crate::frame::{Frame, Kind};
use crate::source::SourceCore;
use crate::track::{EndReason, Track};

/// The highest frame rate a generator's video track reports as its capability.
pub const MAX_FRAME_RATE: f64 = 1000.0;

/// The state of a generator's writable (a WritableStream's `[[state]]`; "erroring" never
/// lasts here: a rejected write errors it at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritableState {
    Writable,
    /// Closed by `close_writable` (or `close`), or every connected track ended.
    Closed,
    /// A write was rejected; `Generator::stored_error` says why.
    Errored,
}

/// A source whose frames the application writes; also a track (its own, from `track()`).
pub struct Generator {
    source: Arc<SourceCore>,
    track: Track,
    /// The writable's `[[storedError]]`: the first rejected write's error.
    stored_error: OnceLock<Error>,
}

impl Generator {
    /// The spec's constructor. (The C ABI turns an unknown kind into a type error.)
    pub fn new(kind: Kind) -> Generator {
        let caps = match kind {
            Kind::Video => Capabilities::any_video(MAX_FRAME_RATE),
            Kind::Audio => Capabilities::default(),
        };
        let source = SourceCore::new(kind, "", caps);
        let track = Track::new(&source);
        Generator { source, track, stored_error: OnceLock::new() }
    }

    pub fn kind(&self) -> Kind {
        self.source.kind()
    }

    /// The generator's own track.
    pub fn track(&self) -> &Track {
        &self.track
    }

    /// The writable's state. Errored stays errored, also after the tracks end.
    pub fn state(&self) -> WritableState {
        if self.stored_error.get().is_some() {
            WritableState::Errored
        } else if self.source.is_ended() {
            WritableState::Closed
        } else {
            WritableState::Writable
        }
    }

    /// The error that errored the writable (the first rejected write's), if it is errored.
    pub fn stored_error(&self) -> Option<&Error> {
        self.stored_error.get()
    }

    /// What a write or close of an errored writable returns: a TypeError naming the original.
    fn errored(&self, original: &Error) -> Error {
        err!(Type, "the writable was errored by an earlier write: {}", original.message)
    }

    /// The error a write meets before reaching the sink, if any: the stored error, or a
    /// TypeError when the writable is closed (neither errors the writable).
    fn refused(&self) -> Option<Error> {
        match self.state() {
            WritableState::Writable => None,
            WritableState::Errored => self.stored_error.get().map(|e| self.errored(e)),
            WritableState::Closed => {
                Some(err!(Type, "the writable is closed: close_writable ran, or every connected track ended"))
            }
        }
    }

    /// The spec's writeFrame, as a WritableStream write. On success the frame goes to every
    /// live connected track (while muted, to none: each track's processors count it as
    /// discarded, muted) and is closed (dropped here: writeFrame's last step). On every error
    /// the frame comes back untouched:
    /// - errored writable: `Type`, "the writable was errored by an earlier write: <first
    ///   error>";
    /// - closed writable: `Type` (Streams' TypeError), the writable stays closed;
    /// - a frame of the other kind: `Type`, and the sink's rejection errors the writable with
    ///   this error (later writes and `close_writable` fail with it; the tracks stay live).
    pub fn write(&self, frame: Frame) -> std::result::Result<(), (Error, Frame)> {
        if let Some(e) = self.refused() {
            return Err((e, frame));
        }
        if frame.kind() != self.kind() {
            let e = err!(
                Type,
                "{} generator accepts {} frames, not {}",
                if self.kind() == Kind::Audio { "an audio" } else { "a video" },
                self.kind().name(),
                frame.kind().name()
            );
            return Err((self.reject(e), frame));
        }
        self.source.deliver(&frame);
        Ok(())
    }

    /// A write whose chunk the sink rejects before it is a frame at all (the C ABI's closed
    /// frame or a handle that is not a frame): as `write` with a frame of the other kind. When
    /// the writable is writable, `rejection` (a `Type` error) errors it and is returned; when
    /// it is already errored or closed, the write never reached the sink and the error is the
    /// one `write` would give.
    pub fn write_rejected(&self, rejection: Error) -> Error {
        match self.refused() {
            Some(e) => e,
            None => self.reject(rejection),
        }
    }

    /// WritableStreamDealWithRejection: errors the writable with `e`, unless a racing write
    /// errored it first, and returns `e` (this write's own error).
    fn reject(&self, e: Error) -> Error {
        let _ = self.stored_error.set(e.clone());
        e
    }

    /// The Streams close of the writable (the spec's closeAlgorithm, closeWritable): ends
    /// every connected track with `EndReason::WritableClosed`. On an errored writable it
    /// returns the stored error (`Type`, naming it) and does nothing. Closing a closed
    /// writable succeeds and does nothing.
    pub fn close_writable(&self) -> Result<()> {
        if let Some(e) = self.stored_error.get() {
            return Err(self.errored(e));
        }
        self.source.end(EndReason::WritableClosed);
        Ok(())
    }

    /// What releasing the generator does: ends every connected track
    /// (`EndReason::WritableClosed`) whatever the writable's state, since nothing can write to
    /// them again. An errored writable stays errored. Not the spec's close: see
    /// `close_writable`.
    pub fn close(&self) {
        self.source.end(EndReason::WritableClosed);
    }

    /// Whether the writable is closed (closed explicitly, or every connected track ended);
    /// false when it is errored.
    pub fn is_closed(&self) -> bool {
        self.state() == WritableState::Closed
    }

    /// VideoTrackGenerator's `muted`: connected tracks report muted (and call their mute
    /// callbacks) and written frames are dropped, counted by each processor as discarded
    /// (muted), until it is cleared.
    pub fn set_muted(&self, muted: bool) {
        self.source.set_muted(muted);
    }

    pub fn muted(&self) -> bool {
        self.source.is_muted()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::error::ErrorKind;
    use crate::frame::{ExternalMemory, VideoFrameInit, VideoPixelFormat};
    use crate::sink::processor::{Processor, Wait};
    use crate::track::ReadyState;

    /// 16x16 I420 memory that counts its release.
    struct Counted(Vec<u8>, Arc<AtomicUsize>);

    impl ExternalMemory for Counted {
        fn bytes(&self) -> &[u8] {
            &self.0
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn video(ts: i64, released: &Arc<AtomicUsize>) -> Frame {
        let init = VideoFrameInit {
            format: VideoPixelFormat::I420,
            coded_width: 16,
            coded_height: 16,
            timestamp: ts,
            duration: None,
            layout: None,
            visible_rect: None,
            display_size: None,
            color_space: None,
        };
        Frame::video_wrap(&init, Box::new(Counted(vec![0x80; 384], released.clone()))).map_err(|(e, _)| e).unwrap()
    }

    fn audio(ts: i64) -> Frame {
        crate::frame::test_chunk(ts)
    }

    /// The frame came back whole: same metadata and the same memory, not released.
    fn assert_intact(f: &Frame, ts: i64, released: &AtomicUsize) {
        assert_eq!(f.timestamp(), ts);
        assert_eq!(f.plane(0).unwrap().0[0], 0x80);
        assert_eq!(released.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_successful_write_closes_the_frame() {
        let g = Generator::new(Kind::Video);
        let released = Arc::new(AtomicUsize::new(0));
        g.write(video(1, &released)).map_err(|(e, _)| e).unwrap();
        assert_eq!(released.load(Ordering::SeqCst), 1, "nothing is connected, so nothing keeps the frame");
        assert_eq!(g.state(), WritableState::Writable);
    }

    #[test]
    fn a_rejected_write_errors_the_writable_and_returns_the_frame() {
        let g = Generator::new(Kind::Video);
        let p = Processor::new(g.track(), 4);
        let (e, back) = g.write(audio(5)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Type);
        assert_eq!((back.kind(), back.timestamp(), back.data()[0]), (Kind::Audio, 5, 128));
        assert_eq!(g.state(), WritableState::Errored);
        assert_eq!(g.stored_error(), Some(&e));
        assert!(!g.is_closed());

        // Every later write fails with the stored error and keeps its frame.
        let released = Arc::new(AtomicUsize::new(0));
        let (later, back) = g.write(video(6, &released)).unwrap_err();
        assert_eq!(later.kind, ErrorKind::Type);
        assert!(later.message.contains(e.message.as_ref()), "{} does not name {}", later.message, e.message);
        assert_intact(&back, 6, &released);
        drop(back);
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Again, "nothing reached the track");

        // Close returns the stored error and does nothing: no abort, the track stays live.
        let closing = g.close_writable().unwrap_err();
        assert_eq!((closing.kind, &closing.message), (ErrorKind::Type, &later.message));
        assert_eq!(g.state(), WritableState::Errored);
        assert_eq!(g.track().ready_state(), ReadyState::Live);
        assert!(!p.is_closed());

        // Releasing the generator still ends its tracks; the writable stays errored.
        g.close();
        assert_eq!(g.track().ready_state(), ReadyState::Ended);
        assert_eq!(g.state(), WritableState::Errored);
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Ended);
    }

    #[test]
    fn a_rejection_found_before_the_frame_errors_the_writable_like_a_wrong_kind() {
        let g = Generator::new(Kind::Audio);
        let first = g.write_rejected(err!(Type, "the frame is closed"));
        assert_eq!((first.kind, first.message.as_ref()), (ErrorKind::Type, "the frame is closed"));
        assert_eq!(g.state(), WritableState::Errored);
        let (e, _) = g.write(audio(1)).unwrap_err();
        assert!(e.message.ends_with(": the frame is closed"), "{}", e.message);
        // A second rejection gets the stored error; the first stays the stored one.
        let again = g.write_rejected(err!(Type, "not a frame"));
        assert!(again.message.ends_with(": the frame is closed"), "{}", again.message);
        assert_eq!(g.stored_error().unwrap().message, "the frame is closed");
    }

    #[test]
    fn a_write_to_a_closed_writable_is_a_type_error_that_errors_nothing() {
        for ended_by_track_stop in [false, true] {
            let g = Generator::new(Kind::Video);
            if ended_by_track_stop {
                g.track().stop();
            } else {
                g.close_writable().unwrap();
            }
            assert_eq!(g.state(), WritableState::Closed);
            assert!(g.is_closed());
            let released = Arc::new(AtomicUsize::new(0));
            let (e, back) = g.write(video(9, &released)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Type);
            assert_intact(&back, 9, &released);
            // Not even a frame of the wrong kind errors a closed writable.
            assert_eq!(g.write(audio(1)).unwrap_err().0.kind, ErrorKind::Type);
            assert_eq!(g.write_rejected(err!(Type, "the frame is closed")).kind, ErrorKind::Type);
            assert_eq!(g.state(), WritableState::Closed);
            g.close_writable().unwrap();
        }
    }

    #[test]
    fn muted_writes_succeed_deliver_nothing_and_are_counted() {
        let g = Generator::new(Kind::Audio);
        let p = Processor::new(g.track(), 4);
        g.set_muted(true);
        g.write(audio(1)).map_err(|(e, _)| e).unwrap();
        g.write(audio(2)).map_err(|(e, _)| e).unwrap();
        let s = p.stats();
        assert_eq!((s.total, s.discarded_muted, s.discarded), (0, 2, 2));
        g.set_muted(false);
        g.write(audio(3)).map_err(|(e, _)| e).unwrap();
        let d = p.read(Wait::No).unwrap();
        assert_eq!((d.frame.timestamp(), d.sequence, d.discarded_before), (3, 1, 2));
    }
}
