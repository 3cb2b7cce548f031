//! Sinks: what consumes a track. The processor is the spec's sink; file writers (and, later,
//! device playback and output) are built on the same trait.

pub mod alsa;
pub mod file;
pub mod processor;
pub mod v4l2;

use crate::frame::Frame;

/// A consumer connected to a track. Called on the source's delivering thread: implementations
/// must not block (queue and return).
pub trait Sink: Send + Sync {
    /// A frame the track delivers (already adapted to the track's constraints).
    fn on_frame(&self, frame: &Frame);
    /// The track has ended; no more frames will come.
    fn on_ended(&self);
    /// False while the sink would have to discard a frame to take another one. Sources that
    /// may wait (the unpaced test pattern and tone) pace themselves by it; live sources don't.
    fn has_room(&self) -> bool {
        true
    }
    /// True when nothing is queued: everything delivered has been consumed.
    fn is_idle(&self) -> bool {
        true
    }
}
