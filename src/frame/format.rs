//! Pixel and sample formats with WebCodecs semantics.

/// A WebCodecs `VideoPixelFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoPixelFormat {
    I420,
    I420A,
    I422,
    I444,
    Nv12,
    Rgba,
    Rgbx,
    Bgra,
    Bgrx,
}

/// How one plane of a pixel format is laid out relative to the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaneInfo {
    /// Bytes per sample (a sample of NV12's UV plane is the U,V pair: 2).
    pub bytes_per_sample: usize,
    /// Horizontal subsampling factor (1 or 2).
    pub sub_x: usize,
    /// Vertical subsampling factor (1 or 2).
    pub sub_y: usize,
}

const Y: PlaneInfo = PlaneInfo { bytes_per_sample: 1, sub_x: 1, sub_y: 1 };
const C420: PlaneInfo = PlaneInfo { bytes_per_sample: 1, sub_x: 2, sub_y: 2 };
const C422: PlaneInfo = PlaneInfo { bytes_per_sample: 1, sub_x: 2, sub_y: 1 };
const UV420: PlaneInfo = PlaneInfo { bytes_per_sample: 2, sub_x: 2, sub_y: 2 };
const PACKED4: PlaneInfo = PlaneInfo { bytes_per_sample: 4, sub_x: 1, sub_y: 1 };

impl VideoPixelFormat {
    pub const ALL: [VideoPixelFormat; 9] =
        [Self::I420, Self::I420A, Self::I422, Self::I444, Self::Nv12, Self::Rgba, Self::Rgbx, Self::Bgra, Self::Bgrx];

    /// The planes of this format, in WebCodecs order (Y, U, V, A / Y, UV / RGBA).
    pub fn planes(self) -> &'static [PlaneInfo] {
        match self {
            Self::I420 => &[Y, C420, C420],
            Self::I420A => &[Y, C420, C420, Y],
            Self::I422 => &[Y, C422, C422],
            Self::I444 => &[Y, Y, Y],
            Self::Nv12 => &[Y, UV420],
            Self::Rgba | Self::Rgbx | Self::Bgra | Self::Bgrx => &[PACKED4],
        }
    }

    pub fn is_rgb(self) -> bool {
        matches!(self, Self::Rgba | Self::Rgbx | Self::Bgra | Self::Bgrx)
    }

    pub fn has_alpha(self) -> bool {
        matches!(self, Self::I420A | Self::Rgba | Self::Bgra)
    }

    /// The largest subsampling of any plane: visible-rect offsets must be multiples of it.
    pub fn alignment(self) -> (usize, usize) {
        self.planes().iter().fold((1, 1), |(ax, ay), p| (ax.max(p.sub_x), ay.max(p.sub_y)))
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::I420 => "I420",
            Self::I420A => "I420A",
            Self::I422 => "I422",
            Self::I444 => "I444",
            Self::Nv12 => "NV12",
            Self::Rgba => "RGBA",
            Self::Rgbx => "RGBX",
            Self::Bgra => "BGRA",
            Self::Bgrx => "BGRX",
        }
    }
}

impl PlaneInfo {
    /// Samples across and down this plane for `width` x `height` pixels (rounded up).
    pub fn samples(&self, width: usize, height: usize) -> (usize, usize) {
        (width.div_ceil(self.sub_x), height.div_ceil(self.sub_y))
    }

    /// Bytes in one row of this plane for `width` pixels.
    pub fn row_bytes(&self, width: usize) -> usize {
        width.div_ceil(self.sub_x) * self.bytes_per_sample
    }
}

/// A WebCodecs `AudioSampleFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioSampleFormat {
    U8,
    S16,
    S32,
    F32,
    U8Planar,
    S16Planar,
    S32Planar,
    F32Planar,
}

impl AudioSampleFormat {
    pub const ALL: [AudioSampleFormat; 8] =
        [Self::U8, Self::S16, Self::S32, Self::F32, Self::U8Planar, Self::S16Planar, Self::S32Planar, Self::F32Planar];

    pub fn bytes_per_sample(self) -> usize {
        match self {
            Self::U8 | Self::U8Planar => 1,
            Self::S16 | Self::S16Planar => 2,
            Self::S32 | Self::S32Planar | Self::F32 | Self::F32Planar => 4,
        }
    }

    pub fn is_planar(self) -> bool {
        matches!(self, Self::U8Planar | Self::S16Planar | Self::S32Planar | Self::F32Planar)
    }

    /// The same samples, interleaved (a planar format's interleaved twin; itself otherwise).
    pub fn interleaved(self) -> AudioSampleFormat {
        match self {
            Self::U8Planar => Self::U8,
            Self::S16Planar => Self::S16,
            Self::S32Planar => Self::S32,
            Self::F32Planar => Self::F32,
            f => f,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::U8 => "u8",
            Self::S16 => "s16",
            Self::S32 => "s32",
            Self::F32 => "f32",
            Self::U8Planar => "u8-planar",
            Self::S16Planar => "s16-planar",
            Self::S32Planar => "s32-planar",
            Self::F32Planar => "f32-planar",
        }
    }
}
