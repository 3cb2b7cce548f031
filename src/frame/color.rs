//! The colour space of a video frame, as WebCodecs' `VideoColorSpace`, and where its chroma
//! samples sit (which WebCodecs does not describe, but a file's header must).

use crate::convert::{YuvEncoding, YuvMatrix};
use crate::frame::format::VideoPixelFormat;

/// WebCodecs' `VideoColorPrimaries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColorPrimaries {
    /// BT.709, also sRGB's.
    Bt709,
    /// BT.601 625-line (PAL).
    Bt470bg,
    /// BT.601 525-line (NTSC).
    Smpte170m,
    /// BT.2020 and BT.2100.
    Bt2020,
    /// P3 with the D65 white point.
    Smpte432,
}

/// WebCodecs' `VideoTransferCharacteristics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferCharacteristics {
    Bt709,
    Smpte170m,
    /// sRGB ("iec61966-2-1").
    Iec61966_2_1,
    Linear,
    Pq,
    Hlg,
}

/// WebCodecs' `VideoMatrixCoefficients`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatrixCoefficients {
    /// No matrix: the samples are R, G, B.
    Rgb,
    Bt709,
    /// BT.601 625-line; the same matrix as `Smpte170m`.
    Bt470bg,
    /// BT.601 525-line; the same matrix as `Bt470bg`.
    Smpte170m,
    /// BT.2020 non-constant luminance.
    Bt2020Ncl,
}

/// WebCodecs' `VideoColorSpace`: every member may be unknown (`None`), as in WebCodecs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VideoColorSpace {
    pub primaries: Option<ColorPrimaries>,
    pub transfer: Option<TransferCharacteristics>,
    pub matrix: Option<MatrixCoefficients>,
    pub full_range: Option<bool>,
}

impl VideoColorSpace {
    /// WebCodecs' sRGB colour space: what RGB frames get when nobody says otherwise.
    pub const SRGB: VideoColorSpace = VideoColorSpace {
        primaries: Some(ColorPrimaries::Bt709),
        transfer: Some(TransferCharacteristics::Iec61966_2_1),
        matrix: Some(MatrixCoefficients::Rgb),
        full_range: Some(true),
    };

    /// WebCodecs' REC709 colour space: what YUV frames get when nobody says otherwise, and
    /// what libmst's own RGB to YUV conversion produces.
    pub const REC709: VideoColorSpace = VideoColorSpace {
        primaries: Some(ColorPrimaries::Bt709),
        transfer: Some(TransferCharacteristics::Bt709),
        matrix: Some(MatrixCoefficients::Bt709),
        full_range: Some(false),
    };

    /// JFIF, what a JPEG's YCbCr is (V4L2_COLORSPACE_JPEG): sRGB primaries and transfer,
    /// BT.601 matrix, full range.
    pub const JPEG: VideoColorSpace = VideoColorSpace {
        primaries: Some(ColorPrimaries::Bt709),
        transfer: Some(TransferCharacteristics::Iec61966_2_1),
        matrix: Some(MatrixCoefficients::Smpte170m),
        full_range: Some(true),
    };

    /// WebCodecs' "pick color space" for a frame made without one: sRGB for the RGB formats,
    /// REC709 for the YUV ones.
    pub fn default_for(format: VideoPixelFormat) -> VideoColorSpace {
        if format.is_rgb() {
            Self::SRGB
        } else {
            Self::REC709
        }
    }

    /// How YUV samples in this colour space become R, G, B: the matrix (BT.709 when unknown,
    /// or when the space says `rgb` for YUV samples, as WebCodecs' default is) and the range
    /// (limited when unknown).
    pub fn yuv_encoding(&self) -> YuvEncoding {
        let matrix = match self.matrix {
            Some(MatrixCoefficients::Bt470bg | MatrixCoefficients::Smpte170m) => YuvMatrix::Bt601,
            Some(MatrixCoefficients::Bt2020Ncl) => YuvMatrix::Bt2020,
            Some(MatrixCoefficients::Bt709 | MatrixCoefficients::Rgb) | None => YuvMatrix::Bt709,
        };
        YuvEncoding { matrix, full_range: self.full_range.unwrap_or(false) }
    }
}

/// Where a 4:2:0 or 4:2:2 frame's chroma samples sit relative to the luma samples they cover.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChromaSiting {
    /// At the centre of the block (JPEG; libmst's RGB to YUV box average): Y4M's `C420jpeg`.
    #[default]
    Center,
    /// Horizontally on the left sample of the pair, vertically between the rows (MPEG-2,
    /// H.264's default, what V4L2 cameras deliver): Y4M's `C420mpeg2`.
    Left,
}
