//! `MediaStreamTrackGenerator` (and the standardized VideoTrackGenerator's `muted`).

use std::sync::Arc;

use crate::constraints::Capabilities;
use crate::error::{err, Error};
use crate::frame::{Frame, Kind};
use crate::source::SourceCore;
use crate::track::{EndReason, Track};

/// The highest frame rate a generator's video track reports as its capability.
pub const MAX_FRAME_RATE: f64 = 1000.0;

/// A source whose frames the application writes; also a track (its own, from `track()`).
pub struct Generator {
    source: Arc<SourceCore>,
    track: Track,
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
        Generator { source, track }
    }

    pub fn kind(&self) -> Kind {
        self.source.kind()
    }

    /// The generator's own track.
    pub fn track(&self) -> &Track {
        &self.track
    }

    /// The spec's writeFrame: a frame of the wrong kind is a type error, a closed writable an
    /// invalid-state error; on both the frame comes back to the caller untouched. Otherwise it
    /// goes to every live connected track and is closed (dropped) here. While muted, frames
    /// are dropped and the call succeeds.
    pub fn write(&self, frame: Frame) -> Result<(), (Error, Frame)> {
        if frame.kind() != self.kind() {
            let e = err!(
                Type,
                "a {} generator accepts {} frames, not {}",
                self.kind().name(),
                self.kind().name(),
                frame.kind().name()
            );
            return Err((e, frame));
        }
        if self.source.is_ended() {
            return Err((
                err!(InvalidState, "the writable is closed: closeWritable ran or every connected track ended"),
                frame,
            ));
        }
        self.source.deliver(&frame);
        Ok(())
    }

    /// The spec's closeWritable: ends every connected track.
    pub fn close(&self) {
        self.source.end(EndReason::WritableClosed);
    }

    pub fn is_closed(&self) -> bool {
        self.source.is_ended()
    }

    /// VideoTrackGenerator's `muted`: connected tracks report muted (and call their mute
    /// callbacks) and written frames are dropped until it is cleared.
    pub fn set_muted(&self, muted: bool) {
        self.source.set_muted(muted);
    }

    pub fn muted(&self) -> bool {
        self.source.is_muted()
    }
}
