//! The frame ledger (issue 15): per source, how many frames each consumer holds, and the
//! report when a processor is closed or freed with frames still open.

use std::sync::{Arc, Mutex};

use mst::frame::ledger::Holding;
use mst::frame::VideoFrameInit;
use mst::source::generator::Generator;
use mst::source::synthetic::{test_pattern, TestPatternOptions};
use mst::*;

fn i420(ts: i64) -> Frame {
    let init = VideoFrameInit {
        format: VideoPixelFormat::I420,
        coded_width: 16,
        coded_height: 8,
        timestamp: ts,
        duration: None,
        layout: None,
        visible_rect: None,
        display_size: None,
        color_space: None,
    };
    Frame::video_copy(&init, &[ts as u8; 16 * 8 * 3 / 2]).unwrap()
}

fn held(p: &Processor) -> u64 {
    p.stats().held
}

fn holding(p: &Processor, frames: u64) -> Holding {
    Holding { consumer: p.consumer().name(), frames }
}

#[test]
fn each_processor_counts_the_frames_it_received_while_they_are_open() {
    let g = Generator::new(Kind::Video);
    let (a, b) = (Processor::new(g.track(), 4), Processor::new(g.track(), 1));
    // A processor on a clone of the track is a consumer of the same source.
    let other = g.track().clone_track();
    let c = Processor::new(&other, 2);
    assert!(a.consumer().name().starts_with("processor #"), "{}", a.consumer().name());
    assert!(a.consumer().name().contains(g.track().id()), "{}", a.consumer().name());
    assert_eq!(g.track().source().holdings(), vec![]);

    for ts in 0..3 {
        g.write(i420(ts)).map_err(|(e, _)| e).unwrap();
    }
    // Queued frames are held by their processor: b's queue of 1 closed the two it evicted.
    assert_eq!((held(&a), held(&b), held(&c)), (3, 1, 2));
    assert_eq!(g.track().source().holdings(), vec![holding(&a, 3), holding(&b, 1), holding(&c, 2)]);

    // A frame read from a processor still counts against it, and so does each clone of it.
    let f = a.read(Wait::No).unwrap().frame;
    assert_eq!((held(&a), a.stats().queued), (3, 2));
    assert!(Arc::ptr_eq(f.consumer().unwrap(), a.consumer()));
    let clones = [f.clone(), f.clone()];
    assert_eq!(held(&a), 5);
    assert!(Arc::ptr_eq(clones[0].consumer().unwrap(), a.consumer()));
    drop(clones);
    assert_eq!(held(&a), 3);
    drop(f);
    assert_eq!(held(&a), 2);

    // The frame the application wrote is nobody's: only delivered handles are attributed.
    let mine = i420(9);
    assert!(mine.consumer().is_none());
    g.write(mine.clone()).map_err(|(e, _)| e).unwrap();
    assert!(mine.consumer().is_none());
    assert_eq!((held(&a), held(&b), held(&c)), (3, 1, 2));

    // Closing empties the queues: nothing is held any more.
    a.close();
    b.close();
    c.close();
    assert_eq!((held(&a), held(&b), held(&c)), (0, 0, 0));
    assert_eq!(g.track().source().holdings(), vec![]);
}

#[test]
fn freeing_a_processor_with_frames_open_is_reported_and_they_stay_in_the_ledger() {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let previous = log::set_receiver(Some(Arc::new(move |level, _, m: &std::ffi::CStr| {
        if level == log::Level::Warning {
            sink.lock().unwrap().push(m.to_string_lossy().into_owned());
        }
    })));

    let g = Generator::new(Kind::Video);
    let p = Processor::new(g.track(), 4);
    let name = p.consumer().name();
    let mine = |lines: &Mutex<Vec<String>>| -> Vec<String> {
        lines.lock().unwrap().iter().filter(|l| l.starts_with(&format!("{name} "))).cloned().collect()
    };
    for ts in 0..3 {
        g.write(i420(ts)).map_err(|(e, _)| e).unwrap();
    }
    let f = p.read(Wait::No).unwrap().frame;
    let g2 = p.read(Wait::No).unwrap().frame;
    let kept = f.clone();
    assert_eq!(held(&p), 4, "one queued, two read, one clone");

    // Closing drops the queued frame; the three handles the application holds are reported.
    p.close();
    assert_eq!(held(&p), 3);
    assert_eq!(mine(&lines).len(), 1, "{:?}", lines.lock().unwrap());
    assert!(mine(&lines)[0].contains(" closed with 3 of its frames still open"), "{:?}", mine(&lines));

    drop(g2);
    drop(p);
    let report = mine(&lines);
    assert_eq!(report.len(), 2, "{report:?}");
    assert!(report[1].contains(" freed with 2 of its frames still open"), "{report:?}");

    // The freed processor stays in its source's ledger while its frames are open.
    assert_eq!(g.track().source().holdings(), vec![Holding { consumer: name.clone(), frames: 2 }]);
    drop(f);
    assert_eq!(g.track().source().holdings(), vec![Holding { consumer: name.clone(), frames: 1 }]);
    drop(kept);
    assert_eq!(g.track().source().holdings(), vec![]);

    // A track whose last handle goes while its processors' frames are open says so too,
    // naming itself and each holder (after the processor's own report).
    let t = g.track().clone_track();
    let tp = Processor::new(&t, 4);
    let tp_name = tp.consumer().name();
    g.write(i420(4)).map_err(|(e, _)| e).unwrap();
    let open = tp.read(Wait::No).unwrap().frame;
    let (t_id, t_label) = (t.id().to_owned(), t.label().to_owned());
    drop(tp);
    drop(t);
    {
        let lines = lines.lock().unwrap();
        let track_line =
            format!("track '{t_label}' ({t_id}) freed with 1 of its frames still open, by holder: {tp_name}: 1");
        assert!(lines.contains(&track_line), "{track_line:?} not in {lines:?}");
    }
    drop(open);

    // A processor freed with nothing open says nothing.
    let quiet = Processor::new(g.track(), 4);
    let quiet_name = quiet.consumer().name();
    g.write(i420(5)).map_err(|(e, _)| e).unwrap();
    drop(quiet);
    assert!(!lines.lock().unwrap().iter().any(|l| l.starts_with(&format!("{quiet_name} "))));
    drop(log::set_receiver(previous));
}

#[test]
fn a_running_source_attributes_its_frames_to_each_processor() {
    let track = test_pattern(&TestPatternOptions {
        width: 32,
        height: 16,
        frame_rate: 30.0,
        paced: false,
        ..Default::default()
    })
    .unwrap();
    let p = Processor::new(&track, 2);
    let held_frames: Vec<Frame> = (0..3).map(|_| p.read(Wait::Forever).unwrap().frame).collect();
    assert!(p.stats().held >= 3, "{:?}", p.stats());
    // Once the track ends its queue is emptied: what stays counted is what the reader holds.
    track.stop();
    assert_eq!(p.stats().held, 3, "{:?}", p.stats());
    assert_eq!(track.source().holdings(), vec![holding(&p, 3)]);
    drop(held_frames);
    assert_eq!(track.source().holdings(), vec![]);
    p.close();
    assert_eq!(held(&p), 0);
    assert_eq!(track.source().holdings(), vec![]);
}
