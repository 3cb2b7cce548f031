//! The V4L2 layer.

pub(crate) mod controls;
