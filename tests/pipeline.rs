//! Core behaviour through the safe Rust API (the C tests cover the same through the ABI).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mst::frame::{AudioDataInit, VideoFrameInit};
use mst::source::synthetic::{test_pattern, TestPatternOptions};
use mst::*;

fn i420(w: u32, h: u32, ts: i64) -> Frame {
    let init = VideoFrameInit {
        format: VideoPixelFormat::I420,
        coded_width: w,
        coded_height: h,
        timestamp: ts,
        duration: None,
        layout: None,
        visible_rect: None,
        display_size: None,
        color_space: None,
    };
    let len = (w * h + 2 * w.div_ceil(2) * h.div_ceil(2)) as usize;
    Frame::video_copy(&init, &vec![(ts % 200) as u8; len]).unwrap()
}

#[test]
fn generator_to_processor_delivers_in_order_and_drops_oldest() {
    let g = Generator::new(Kind::Video);
    let p = Processor::new(g.track(), 3);
    for ts in 0..10 {
        g.write(i420(64, 48, ts)).unwrap();
    }
    let got: Vec<(i64, u64)> = (0..3)
        .map(|_| {
            let d = p.read(Wait::No).unwrap();
            (d.frame.timestamp(), d.sequence)
        })
        .collect();
    assert_eq!(got, vec![(7, 8), (8, 9), (9, 10)]);
    assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Again);
    let s = p.stats();
    assert_eq!((s.total, s.delivered, s.discarded, s.queued), (10, 3, 7, 0));
}

#[test]
fn pass_through_shares_the_buffer() {
    let g = Generator::new(Kind::Video);
    let p = Processor::new(g.track(), 1);
    let f = i420(64, 48, 1);
    let keep = f.clone();
    g.write(f).unwrap();
    assert!(p.read(Wait::No).unwrap().frame.shares_buffer_with(&keep));
}

#[test]
fn closing_the_writable_ends_tracks_and_processors() {
    let g = Generator::new(Kind::Audio);
    let clone = g.track().clone_track();
    let p = Processor::new(&clone, 0);
    assert_eq!(p.max_buffer_size(), 10);
    let ended = Arc::new(AtomicUsize::new(0));
    let e2 = ended.clone();
    clone.set_ended_callback(Some(Box::new(move |r| {
        assert_eq!(r, EndReason::WritableClosed);
        e2.fetch_add(1, Ordering::SeqCst);
    })));
    g.close_writable().unwrap();
    assert_eq!(ended.load(Ordering::SeqCst), 1);
    assert_eq!(clone.ready_state(), ReadyState::Ended);
    assert_eq!(p.read(Wait::Forever).unwrap_err().kind, ErrorKind::Ended);
    let init = AudioDataInit {
        format: AudioSampleFormat::F32,
        sample_rate: 48000.0,
        number_of_frames: 480,
        number_of_channels: 1,
        timestamp: 0,
    };
    let f = Frame::audio_copy(&init, &[0u8; 480 * 4]).unwrap();
    // Streams: a write to a closed writable is a TypeError; the frame comes back.
    let (e, back) = g.write(f).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Type);
    assert_eq!(back.kind(), Kind::Audio);
    assert_eq!(g.state(), mst::source::generator::WritableState::Closed);
}

#[test]
fn stopping_the_last_track_closes_the_writable() {
    let g = Generator::new(Kind::Video);
    let c = g.track().clone_track();
    g.track().stop();
    assert!(!g.is_closed());
    c.stop();
    assert!(g.is_closed());
}

#[test]
fn test_pattern_runs_and_constraints_scale() {
    let t = test_pattern(&TestPatternOptions {
        width: 320,
        height: 180,
        frame_rate: 30.0,
        format: VideoPixelFormat::I420,
        paced: false,
        frame_count: 5,
    })
    .unwrap();
    let small = t.clone_track();
    small
        .apply_constraints(&VideoConstraints {
            width: ConstrainRange { exact: Some(160.0), ..Default::default() },
            ..Default::default()
        })
        .unwrap();
    let p = Processor::new(&small, 32);
    let mut n = 0;
    loop {
        match p.read(Wait::For(Duration::from_secs(5))) {
            Ok(d) => {
                let v = *d.frame.video().unwrap();
                assert_eq!((v.visible_rect.width, v.visible_rect.height), (160, 90));
                n += 1;
            }
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Ended);
                break;
            }
        }
    }
    assert_eq!(n, 5, "an unpaced finite source reaches a reader that keeps up whole");
    assert_eq!(small.end_reason(), Some(EndReason::SourceEnded));
    assert_eq!(small.settings().width, Some(160));
}

#[test]
fn a_file_sink_keeps_the_tail_of_an_ended_track() {
    let dir = std::env::temp_dir().join(format!("mst-tail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tail.y4m");
    let g = Generator::new(Kind::Video);
    let sink = mst::sink::file::FileSink::open(g.track(), &path).unwrap();
    for ts in 0..5 {
        g.write(i420(16, 8, ts * 33_333)).unwrap();
    }
    g.close();
    let stats = sink.finish().unwrap();
    assert_eq!((stats.frames_written, stats.frames_dropped), (5, 0));
    let bytes = std::fs::read(&path).unwrap();
    let header = b"YUV4MPEG2 W16 H8 F30:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED XMST_MATRIX=BT709\n";
    assert_eq!(&bytes[..header.len()], header);
    assert_eq!(bytes.len(), header.len() + 5 * (6 + 16 * 8 * 3 / 2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn clones_of_ended_tracks_keep_the_end_reason() {
    let g = Generator::new(Kind::Video);
    g.close();
    assert_eq!(g.track().clone_track().end_reason(), Some(EndReason::WritableClosed));
    let h = Generator::new(Kind::Video);
    h.track().stop();
    assert_eq!(h.track().clone_track().end_reason(), Some(EndReason::Stopped));
}

#[test]
fn synthetic_source_options_are_bounded() {
    use mst::source::synthetic::{tone, ToneOptions};
    let o = ToneOptions {
        sample_rate: 48_000,
        channels: 32,
        frequency: 440.0,
        amplitude: 0.5,
        format: AudioSampleFormat::F32,
        chunk_frames: u32::MAX,
        paced: false,
        chunk_count: 1,
    };
    assert_eq!(tone(&o).unwrap_err().kind, ErrorKind::InvalidArg);
    let p = TestPatternOptions {
        width: 64,
        height: 64,
        frame_rate: 1e-19,
        format: VideoPixelFormat::I420,
        paced: true,
        frame_count: 1,
    };
    assert_eq!(test_pattern(&p).unwrap_err().kind, ErrorKind::InvalidArg);
}

#[test]
fn audio_sources_report_their_mode_before_the_first_chunk() {
    use mst::source::synthetic::{tone, ToneOptions};
    // Paced at one chunk a second, and never read: no chunk has been delivered when we look.
    let o = ToneOptions {
        sample_rate: 44_100,
        channels: 2,
        frequency: 440.0,
        amplitude: 0.5,
        format: AudioSampleFormat::S16,
        chunk_frames: 44_100,
        paced: true,
        chunk_count: 0,
    };
    let t = tone(&o).unwrap();
    let s = t.settings();
    assert_eq!((s.sample_rate, s.channel_count, s.sample_size), (Some(44_100.0), Some(2), Some(16)));
    assert_eq!(t.clone_track().settings().sample_rate, Some(44_100.0));
    assert_eq!(s.width, None);
    t.stop();
}
