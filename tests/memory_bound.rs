//! Memory stays within the stated bound (src/frame/mod.rs, STORAGE_POOL; RELIABILITY.md) when
//! readers stall: processors on a 1280x720 video track whose readers never read, the source
//! running for many frames. The figures are the pool's own counts of media buffers
//! (`mst::frame::buffer_stats`), not RSS. One test in this binary: the counts are the process's.

use mst::constraints::ConstrainRange;
use mst::frame::{buffer_stats, Frame, VideoPixelFormat, POOL_MAX_BUFFERS, POOL_MAX_BYTES};
use mst::{Generator, Kind, Processor, ProcessorOptions, Track, VideoConstraints};

const W: u32 = 1280;
const H: u32 = 720;
const FRAMES: i64 = 300;
/// The processors' frame widths: four on the track itself, four on clones constrained to
/// smaller sizes (frames scaled from the track's, lazily: until read, a scaled frame holds the
/// frame it is made from).
const WIDTHS: [u32; 8] = [W, W, W, W, 1024, 640, 320, 160];

/// What the pool hands out for a frame of `bytes`: at most 1.5 times that plus 4 KiB (it reuses
/// a larger buffer rather than allocate).
fn buffer(bytes: usize) -> usize {
    bytes + bytes / 2 + 4096
}

#[test]
fn stalled_processors_hold_at_most_their_queues() {
    let i420 = |w: u32, h: u32| (w * h + 2 * w.div_ceil(2) * h.div_ceil(2)) as usize;
    let source = i420(W, H);
    for (k, latest_only) in [(3u32, false), (5, false), (4, true)] {
        let g = Generator::new(Kind::Video);
        let tracks: Vec<Track> = WIDTHS
            .iter()
            .map(|&w| {
                if w == W {
                    return g.track().clone();
                }
                let t = g.track().clone_track();
                let width = ConstrainRange { exact: Some(w as f64), ..Default::default() };
                t.apply_constraints(&VideoConstraints { width, ..Default::default() }).unwrap();
                t
            })
            .collect();
        let processors: Vec<Processor> = tracks
            .iter()
            .map(|t| Processor::with_options(t, ProcessorOptions { max_buffer_size: k, latest_only }).unwrap())
            .collect();
        let queue = if latest_only { 1 } else { k as usize };
        assert!(processors.iter().all(|p| p.max_buffer_size() == queue));
        // The bound: every processor's queue full of frames of its own (a scaled one also
        // holding its source frame), plus the frame being written, plus what the pool keeps
        // idle.
        let in_frames: usize = WIDTHS.iter().map(|&w| queue * if w == W { 1 } else { 2 }).sum::<usize>() + 1;
        let in_bytes: usize = WIDTHS
            .iter()
            .map(|&w| queue * (buffer(i420(w, w * H / W)) + if w == W { 0 } else { buffer(source) }))
            .sum::<usize>()
            + buffer(source);
        let mut most = 0;
        for i in 0..FRAMES {
            let f = Frame::video_with(VideoPixelFormat::I420, W, H, i * 33_333, Some(33_333), |img| {
                img.planes[0].fill(i as u8);
            })
            .unwrap();
            g.write(f).map_err(|(e, _)| e).unwrap();
            let s = buffer_stats();
            let used = s.buffers - s.idle_buffers;
            most = most.max(used);
            assert!(used <= in_frames, "k {k}: {used} buffers in frames after {i} frames, bound {in_frames}");
            assert!(s.bytes - s.idle_bytes <= in_bytes, "k {k}: {} bytes in frames", s.bytes - s.idle_bytes);
            assert!(s.idle_buffers <= POOL_MAX_BUFFERS && s.idle_bytes <= POOL_MAX_BYTES, "k {k}: {s:?}");
        }
        // The source ran far past the queues: unbounded queues would hold every frame.
        assert!(FRAMES as usize > 4 * in_frames);
        // Every queue is full, of the newest frames; the rest were discarded.
        for (p, w) in processors.iter().zip(WIDTHS) {
            let st = p.stats();
            assert_eq!((st.total, st.queued, st.delivered), (FRAMES as u64, queue as u64, 0), "k {k}, width {w}");
            assert_eq!(p.read(mst::Wait::No).unwrap().frame.video().unwrap().visible_rect.width, w);
        }
        // The queues share the track's newest `queue` frames (the scaled ones are not made
        // until read), and the counts see them.
        assert!((queue..=queue + 1).contains(&most), "k {k}: at most {most} buffers in frames");
        drop(processors);
        drop(tracks);
        g.close();
        let s = buffer_stats();
        assert_eq!(s.buffers, s.idle_buffers, "k {k}: every buffer is back in the pool: {s:?}");
        assert!(s.idle_buffers <= POOL_MAX_BUFFERS && s.idle_bytes <= POOL_MAX_BYTES);
    }
}
