//! Memory stays within the stated bound (src/frame/mod.rs, STORAGE_POOL; RELIABILITY.md) when
//! readers stall: processors on a 1280x720 video track whose readers never read, the source
//! running for many frames. The figures are the pool's own counts of media buffers
//! (`mst::frame::buffer_stats`), not RSS. One test in this binary: the counts are the process's.

use mst::frame::{buffer_stats, Frame, VideoPixelFormat, POOL_MAX_BUFFERS, POOL_MAX_BYTES};
use mst::{Generator, Kind, Processor, ProcessorOptions};

const W: u32 = 1280;
const H: u32 = 720;
const PROCESSORS: usize = 8;
const FRAMES: i64 = 300;

#[test]
fn stalled_processors_hold_at_most_their_queues() {
    let size = (W * H * 3 / 2) as usize;
    // A buffer the pool hands out is at most this large (it reuses one of up to 1.5x a frame's
    // size plus 4 KiB rather than allocate).
    let buffer = size + size / 2 + 4096;
    for (k, latest_only) in [(3u32, false), (5, false), (4, true)] {
        let g = Generator::new(Kind::Video);
        let processors: Vec<Processor> = (0..PROCESSORS)
            .map(|_| Processor::with_options(g.track(), ProcessorOptions { max_buffer_size: k, latest_only }).unwrap())
            .collect();
        let queue = if latest_only { 1 } else { k as usize };
        assert!(processors.iter().all(|p| p.max_buffer_size() == queue));
        // The bound: every processor's queue full of frames of their own, plus the frame being
        // written, plus what the pool keeps idle.
        let in_frames = PROCESSORS * queue + 1;
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
            assert!(s.bytes - s.idle_bytes <= in_frames * buffer, "k {k}: {} bytes in frames", s.bytes - s.idle_bytes);
            assert!(s.idle_buffers <= POOL_MAX_BUFFERS && s.idle_bytes <= POOL_MAX_BYTES, "k {k}: {s:?}");
        }
        // The source ran far past the queues: unbounded queues would hold every frame.
        assert!(FRAMES as usize > 4 * in_frames);
        // Every queue is full, of the newest frames; the rest were discarded.
        for p in &processors {
            let st = p.stats();
            assert_eq!((st.total, st.queued, st.delivered), (FRAMES as u64, queue as u64, 0), "k {k}");
        }
        // Processors on one track share its frames: the queues hold the newest `queue` frames.
        // (And the counts see them: full queues hold `queue` buffers.)
        assert!((queue..=queue + 1).contains(&most), "k {k}: at most {most} buffers in frames");
        drop(processors);
        g.close();
        let s = buffer_stats();
        assert_eq!(s.buffers, s.idle_buffers, "k {k}: every buffer is back in the pool: {s:?}");
        assert!(s.idle_buffers <= POOL_MAX_BUFFERS && s.idle_bytes <= POOL_MAX_BYTES);
    }
}
