//! The checks libmst's Rust fuzz targets run (fuzz_targets/), in a library so that
//! tests/replay.rs feeds them every committed corpus file on stable Rust, without libFuzzer.
//! Each panics when libmst breaks a promise; libFuzzer reports the panic as a crash.

pub mod files;
pub mod mjpeg;
pub mod wav;

pub use files::check as files;
pub use mjpeg::check as mjpeg;
pub use wav::check as wav;
