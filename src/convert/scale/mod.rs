//! Scaling: the reference ([`reference`]: exact area average down, pixel-centre bilinear up)
//! and the fast paths that compute the same ([`fast`], which picks among libmst's
//! [`boxdown`] and [`resample`] kernels and libyuv's box).

pub mod boxdown;
pub mod fast;
pub mod reference;
pub mod resample;
