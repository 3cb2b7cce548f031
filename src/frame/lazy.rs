//! Frames whose pixels are made on first access: a camera's MJPEG frame decodes, and a track's
//! scaled frame scales, only when somebody reads a pixel (a plane, a copy, a sink that writes
//! it out), once, on the reader's thread, and every clone and every reader shares the result.
//! A consumer that only counts frames or reads their timestamps costs no pixel work at all.
//!
//! The frame's metadata (format, size, layout, timestamp) is known at once; only its buffer
//! waits. The recipe holds what the pixels are made from (the compressed bytes, or the source
//! frame and crop), and is dropped as soon as the pixels exist, so a scaled frame stops
//! holding its source once made. Everything here is pooled with the frame's storage: making a
//! lazy frame, and making its pixels, allocate nothing once warm.

use std::sync::{Arc, Mutex, OnceLock};

use super::pool::Pooled;
use super::{image_mut, packed_layout, Frame, Rect, Storage, VideoPixelFormat};
use crate::convert;

/// What a lazy buffer's pixels are made from.
pub(crate) enum Recipe {
    /// `crop` of `src` area-averaged (or interpolated) to `width` x `height`, same format.
    Scale { src: Frame, crop: Rect, width: u32, height: u32 },
    /// A JPEG (the bytes of `data`, completed with its stream's tables) decoded to I420 of
    /// `width` x `height` by one of its stream's `decoders`.
    Jpeg { data: Pooled<Storage>, width: u32, height: u32, decoders: Arc<JpegDecoders> },
}

/// The lazy part of a [`Storage`]: the recipe until the pixels are made, then the pixels.
#[derive(Default)]
pub(crate) struct Lazy {
    /// True while this storage is a lazy frame's (a recycled box keeps its place otherwise).
    pub(crate) armed: bool,
    recipe: Mutex<Option<Recipe>>,
    made: OnceLock<Pooled<Storage>>,
}

impl Lazy {
    pub(crate) fn arm(&mut self, recipe: Recipe) {
        *self.recipe.get_mut().unwrap_or_else(|p| p.into_inner()) = Some(recipe);
        self.armed = true;
    }

    /// Back to unarmed, dropping the recipe and the pixels (into their pools).
    pub(crate) fn reset(&mut self) {
        *self.recipe.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
        self.made.take();
        self.armed = false;
    }

    /// Whether the pixels exist yet.
    pub(crate) fn is_made(&self) -> bool {
        self.made.get().is_some()
    }

    /// The pixels, made now if this is the first access (other readers wait for them).
    ///
    /// The recipe is only borrowed while the pixels are made, and dropped after the OnceLock
    /// is set, outside its initialiser: dropping it may drop the source frame, whose wrapped
    /// memory's release callback then runs with nothing of this frame locked. A panic while
    /// making leaves the recipe in place, so the next read tries again.
    pub(crate) fn bytes(&self) -> &[u8] {
        let mut spent = None;
        let made = self.made.get_or_init(|| {
            let mut recipe = self.recipe.lock().unwrap_or_else(|p| p.into_inner());
            let pixels = make(recipe.as_ref().expect("a lazy frame keeps its recipe until its pixels are made"));
            spent = recipe.take();
            pixels
        });
        drop(spent);
        made.as_slice()
    }
}

fn make(recipe: &Recipe) -> Pooled<Storage> {
    match *recipe {
        Recipe::Scale { ref src, crop, width, height } => {
            let v = *src.video().expect("scaled frames are made from video");
            let (w, h) = (width as usize, height as usize);
            let (layout, size) = packed_layout(v.format, w, h).expect("checked when the frame was made");
            Storage::pooled(size, |buf| {
                let from = src.image(crop).expect("video");
                convert::scale(&from, &mut image_mut(v.format, w, h, buf, &layout));
            })
        }
        Recipe::Jpeg { ref data, width, height, ref decoders } => {
            let (w, h) = (width as usize, height as usize);
            let (layout, size) = packed_layout(VideoPixelFormat::I420, w, h).expect("checked when the frame was made");
            Storage::pooled(size, |buf| {
                let mut img = image_mut(VideoPixelFormat::I420, w, h, buf, &layout);
                // The header was checked when the frame was made; data the decoder gives up on
                // (rare: truncation and corruption only warn) leaves a black frame, never the
                // pooled buffer's old pixels: full-range black, as the frame is tagged JFIF
                // unless the driver said otherwise.
                if decoders.with(|d| d.decode_i420_complete(data.as_slice(), &mut img)).is_err() {
                    convert::fill_black_in(&mut img, true);
                }
            })
        }
    }
}

/// The decoders of one stream's lazy JPEG frames, shared by the threads that happen to read
/// them (as many as read at once). The stream and each of its frames hold them, so they (about
/// 5 MB each at 1080p) are freed with the stream's last frame. Any of them decodes any frame:
/// each frame carries the tables it needs ([`convert::jpeg::Decoder::stream_tables`]).
#[derive(Default)]
pub(crate) struct JpegDecoders(Mutex<Vec<convert::jpeg::Decoder>>);

impl JpegDecoders {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut convert::jpeg::Decoder) -> crate::error::Result<T>,
    ) -> crate::error::Result<T> {
        let taken = self.0.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut d = match taken {
            Some(d) => d,
            None => convert::jpeg::Decoder::new()?,
        };
        let r = f(&mut d);
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(d);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::{Generator, Kind, Processor, VideoConstraints, Wait};

    fn picture(w: u32, h: u32) -> Frame {
        Frame::video_with(VideoPixelFormat::I420, w, h, 5, Some(10), |img| {
            for (p, plane) in img.planes.iter_mut().enumerate() {
                for (i, b) in plane.iter_mut().enumerate() {
                    *b = ((i * 7 + p * 31) % 251) as u8;
                }
            }
        })
        .unwrap()
        .with_capture_sequence(Some(3))
    }

    #[test]
    fn a_lazy_scale_is_the_eager_scale_made_on_first_read() {
        let src = picture(64, 36);
        let crop = Rect { x: 2, y: 2, width: 60, height: 32 };
        let lazy = Frame::video_scaled(&src, crop, 30, 16).unwrap();
        assert!(!lazy.pixels_made());
        let v = *lazy.video().unwrap();
        assert_eq!(
            (v.coded_width, v.coded_height, v.timestamp, v.duration, v.capture_sequence),
            (30, 16, 5, Some(10), Some(3))
        );
        // Until then the recipe holds the source.
        assert_eq!(src.handle_refs(), 2);
        let eager = Frame::video_with(VideoPixelFormat::I420, 30, 16, 5, Some(10), |dst| {
            convert::scale(&src.image(crop).unwrap(), dst)
        })
        .unwrap();
        assert_eq!(lazy.data(), eager.data());
        assert!(lazy.pixels_made());
        // Made: the source is let go, and a second read is the same buffer.
        assert_eq!(src.handle_refs(), 1);
        assert_eq!(lazy.data().as_ptr(), lazy.clone().data().as_ptr());
    }

    #[test]
    fn a_lazy_scale_of_a_lazy_scale_makes_both() {
        let src = picture(64, 32);
        let whole = Rect { x: 0, y: 0, width: 64, height: 32 };
        let half = Frame::video_scaled(&src, whole, 32, 16).unwrap();
        let quarter = Frame::video_scaled(&half, Rect { x: 0, y: 0, width: 32, height: 16 }, 16, 8).unwrap();
        let expect = Frame::video_with(VideoPixelFormat::I420, 16, 8, 0, None, |dst| {
            convert::scale(&src.image(whole).unwrap(), dst)
        })
        .unwrap();
        // 2:1 twice is 4:1 to within the double rounding.
        assert!(quarter.data().iter().zip(expect.data()).all(|(a, b)| a.abs_diff(*b) <= 1));
        assert!(half.pixels_made() && quarter.pixels_made());
        assert!(
            Frame::video_scaled(&src, Rect { x: 1, y: 0, width: 8, height: 8 }, 4, 4).is_err(),
            "odd crop of 4:2:0"
        );
        assert!(
            Frame::video_scaled(&src, Rect { x: 0, y: 0, width: 66, height: 8 }, 4, 4).is_err(),
            "crop past the frame"
        );
    }

    /// Wrapped memory whose release is seen by the test.
    struct Flagged(Vec<u8>, std::sync::Arc<std::sync::atomic::AtomicBool>);

    impl crate::frame::ExternalMemory for Flagged {
        fn bytes(&self) -> &[u8] {
            &self.0
        }
    }

    impl Drop for Flagged {
        fn drop(&mut self) {
            self.1.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// A wrapped frame written into a constrained track is scaled at once, so its memory goes
    /// back to its owner when the writer lets go of it, not when a reader (maybe never) reads.
    #[test]
    fn wrapped_frames_are_scaled_at_once_and_released_on_schedule() {
        let g = Generator::new(Kind::Video);
        let exact = |v: f64| crate::constraints::ConstrainRange { exact: Some(v), ..Default::default() };
        let t = g.track().clone_track();
        t.apply_constraints(&VideoConstraints { width: exact(32.0), height: exact(18.0), ..Default::default() })
            .unwrap();
        let p = Processor::new(&t, 4);
        let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let init = VideoFrameInit {
            format: VideoPixelFormat::I420,
            coded_width: 64,
            coded_height: 36,
            timestamp: 0,
            duration: None,
            layout: None,
            visible_rect: None,
            display_size: None,
            color_space: None,
        };
        let f = Frame::video_wrap(&init, Box::new(Flagged(vec![77; 64 * 36 * 3 / 2], released.clone())))
            .map_err(|(e, _)| e)
            .unwrap();
        g.write(f).map_err(|(e, _)| e).unwrap();
        g.track().stop();
        assert!(
            released.load(std::sync::atomic::Ordering::SeqCst),
            "the queued scaled frame still holds the wrapped memory"
        );
        let got = p.read(Wait::No).unwrap().frame;
        assert!(got.pixels_made() && got.plane(0).unwrap().0[0] == 77);
    }

    /// A panic while making the pixels leaves the recipe: the next read tries again (and here
    /// panics the same way), instead of failing on a missing recipe.
    #[test]
    fn a_panic_while_making_pixels_keeps_the_recipe() {
        let audio = Frame::audio_with(
            &crate::frame::AudioDataInit {
                format: crate::frame::AudioSampleFormat::F32,
                sample_rate: 48000.0,
                number_of_frames: 4,
                number_of_channels: 1,
                timestamp: 0,
            },
            |_| {},
        )
        .unwrap();
        let video = picture(8, 8);
        let meta = *video.meta();
        let broken = Frame::from_parts(
            meta,
            Storage::lazy(super::Recipe::Scale {
                src: audio,
                crop: Rect { x: 0, y: 0, width: 8, height: 8 },
                width: 8,
                height: 8,
            }),
        );
        for _ in 0..2 {
            let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| broken.data().len())).unwrap_err();
            let msg = e
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            assert!(msg.contains("made from video"), "{msg}");
        }
    }

    /// Constrained clones get lazily scaled frames: reading one makes it; clones with equal
    /// constraints share it; a processor that never maps a plane costs no scaling.
    #[test]
    fn constrained_tracks_scale_on_first_read_and_share_the_result() {
        let g = Generator::new(Kind::Video);
        let exact = |v: f64| crate::constraints::ConstrainRange { exact: Some(v), ..Default::default() };
        let c = VideoConstraints { width: exact(32.0), height: exact(18.0), ..Default::default() };
        let (a, b) = (g.track().clone_track(), g.track().clone_track());
        a.apply_constraints(&c).unwrap();
        b.apply_constraints(&c).unwrap();
        let (pa, pb) = (Processor::new(&a, 2), Processor::new(&b, 2));
        g.write(picture(64, 36)).map_err(|(e, _)| e).unwrap();
        let (fa, fb) = (pa.read(Wait::No).unwrap().frame, pb.read(Wait::No).unwrap().frame);
        assert_eq!(fa.video().unwrap().coded_width, 32);
        assert!(!fa.pixels_made() && !fb.pixels_made());
        assert!(fa.shares_buffer_with(&fb), "equal constraints share one adapted frame");
        let _ = fa.plane(0).unwrap();
        assert!(fb.pixels_made(), "made once, for both");
    }
}
