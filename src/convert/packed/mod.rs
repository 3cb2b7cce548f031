//! Packed camera formats (YUYV/UYVY, 24-bit RGB) into WebCodecs ones: the reference
//! ([`reference`]) and libyuv's exact kernels ([`fast`]).

pub mod fast;
pub mod reference;

pub use reference::Packed422;
