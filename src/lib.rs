//! libmst: MediaStreamTrack Insertable Streams ("breakout box") for native Linux programs.
//!
//! The safe Rust API lives in these modules; `ffi` is the C ABI over it.
pub mod constraints;
pub mod convert;
pub mod device;
pub mod error;
pub mod ffi;
pub mod frame;
pub mod log;
pub mod sink;
pub mod source;
pub mod stats;
mod sys;
pub mod track;
pub(crate) mod v4l2;

pub use constraints::{Capabilities, ConstrainRange, ResizeMode, Settings, VideoConstraints};
pub use error::{Error, ErrorKind, Result};
pub use frame::{AudioSampleFormat, Frame, Kind, VideoPixelFormat};
pub use sink::processor::{Delivered, Processor, ProcessorOptions, ProcessorStats, Wait};
pub use sink::DiscardReason;
pub use source::generator::Generator;
pub use track::{EndReason, ReadyState, Track};
