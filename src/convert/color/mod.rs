//! Colour (pixel-format) conversion between the nine WebCodecs pixel formats: the reference
//! ([`reference`]: the matrices and ranges, exact integer arithmetic) and the fast paths
//! ([`fast`]: libmst's AVX2 [`yuv2rgb`] and [`rgb2yuv`], within 1, and libyuv's exact ones).

pub mod fast;
pub mod reference;
pub mod rgb2yuv;
pub mod yuv2rgb;

pub use reference::{YuvEncoding, YuvMatrix};
