//! Packed camera formats (YUYV/UYVY, 24-bit RGB) into WebCodecs ones: the reference
//! ([`reference`]) and the exact fast paths ([`fast`]: libmst's own AVX2 kernel for YUYV/UYVY,
//! libyuv's for 24-bit RGB).

pub mod fast;
pub mod reference;

pub use reference::Packed422;
