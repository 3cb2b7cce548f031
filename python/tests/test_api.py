"""Handles, iteration, errors and options."""
import numpy as np
import pytest

import mst


def black(timestamp, w=16, h=8):
    return mst.VideoFrame.from_numpy(np.zeros((h, w, 4), np.uint8), "RGBX", timestamp)


def test_errors_carry_their_status_and_the_librarys_message():
    with mst.Generator("video") as gen:
        with pytest.raises(mst.WrongType) as e:
            mst.Processor(gen.track, max_buffer_size=70000)
        assert isinstance(e.value, TypeError) and isinstance(e.value, mst.Error)
        assert e.value.status == -12 and "65535" in e.value.message
        assert str(e.value).count("mst_processor_create") == 1   # named once, not twice
        with mst.Processor(gen.track) as processor:
            with pytest.raises(mst.Again) as e:
                processor.read(timeout=0)
            assert e.value.status == -1
            with pytest.raises(mst.Timeout):
                processor.read(timeout=0.01)
            gen.close()
            with pytest.raises(mst.Ended) as e:
                processor.read(timeout=1)
            assert e.value.status == -3 and e.value.message
        assert gen.state == "closed"
        with black(0) as frame, pytest.raises(mst.WrongType) as e:
            gen.write(frame)
        assert e.value.message


def test_iteration_ends_when_the_track_ends():
    with mst.Generator("video") as gen, mst.Processor(gen.track, max_buffer_size=4) as processor:
        for t in (1, 2):
            with black(t) as frame:
                gen.write(frame)
        timestamps = []
        for frame in processor:
            with frame:
                timestamps.append(frame.timestamp)
            if len(timestamps) == 2:
                gen.close()  # the next step of the loop meets MST_ERR_ENDED
        assert timestamps == [1, 2]
        assert list(processor) == []
        assert gen.track.end_reason == mst.END_REASON_WRITABLE_CLOSED


def test_latest_only_reads_the_newest_frame_once():
    with mst.Generator("video") as gen, \
            mst.Processor(gen.track, max_buffer_size=8, latest_only=True) as processor:
        for t in range(5):
            with black(t) as frame:
                gen.write(frame)
        with processor.read(timeout=5) as frame:
            assert frame.timestamp == 4
            assert frame.info.discarded_before == 4
            assert frame.info.received == -1, "not captured from a camera: no dequeue time"
        with pytest.raises(mst.Again):
            processor.read(timeout=0)
        assert processor.stats.discarded_superseded == 4


def test_stats_held_counts_the_frames_a_processor_received_while_open():
    with mst.Generator("video") as gen, mst.Processor(gen.track, max_buffer_size=4) as processor:
        for t in range(3):
            with black(t) as frame:
                gen.write(frame)
        assert processor.stats.held == 3
        with processor.read(timeout=5) as frame:
            with frame.clone():
                assert processor.stats.held == 4
            assert processor.stats.held == 3
        assert processor.stats.held == 2
        processor.close()
        assert processor.stats.held == 0


def test_content_hint():
    with mst.Track.test_pattern(width=16, height=16) as track:
        assert track.content_hint == ""
        track.content_hint = "motion"
        with track.clone() as clone:
            assert clone.content_hint == "motion"
        with pytest.raises(mst.InvalidArg) as e:
            track.content_hint = "speech"  # an audio hint on a video track
        assert "speech" in e.value.message
        assert track.content_hint == "motion"


def test_stop_and_close_keep_the_handle_free_releases_it():
    track = mst.Track.test_pattern(width=16, height=16)
    with track:
        processor = mst.Processor(track)
        track.stop()
        assert track.ready_state == "ended" and track.end_reason == mst.END_REASON_STOPPED
        with pytest.raises(mst.Ended):
            processor.read(timeout=1)
        processor.close()
        assert not processor.freed
        processor.free()
        processor.free()  # freeing twice does nothing
        assert processor.freed
    assert track.freed
    with pytest.raises(mst.InvalidState) as e:
        track.kind
    assert e.value.status == -13
    with pytest.raises(mst.InvalidState):
        next(processor)


def test_library_is_the_one_mst_lib_names():
    import os
    import pathlib
    import re
    # The library's version is the crate's (Cargo.toml), as mst.h's MST_VERSION_STRING is.
    cargo = (pathlib.Path(__file__).resolve().parents[2] / "Cargo.toml").read_text()
    assert mst.version() == re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)
    path = os.environ.get("MST_LIB")
    if not path:
        pytest.skip("MST_LIB is not set: the library came from pkg-config or the loader")
    assert os.path.samefile(mst.lib._name, path)


def test_a_processor_callback_gets_every_frame_on_libmsts_thread(monkeypatch):
    import threading

    reported = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)
    got, done, kept = [], threading.Event(), []

    def on_frame(frame):
        if frame is None:
            done.set()
            return
        with open(f"/proc/self/task/{threading.get_native_id()}/comm") as f:
            got.append((frame.timestamp, f.read().strip()))
        if len(got) == 1:
            kept.append(frame.clone())
        if len(got) == 2:
            raise RuntimeError("a broken callback")

    with mst.Track.test_pattern(width=64, height=48, unpaced=True, frame_count=5) as track, \
            mst.Processor(track, max_buffer_size=5) as processor:
        processor.set_callback(on_frame)
        with pytest.raises(mst.InvalidState):
            processor.read(timeout=0)
        assert done.wait(60), "the callback never saw the end"
        processor.set_callback(None)
    assert [t for t, _ in got] == [n * 1_000_000 // 30 for n in range(5)]
    assert {name for _, name in got} == {"mst-processor-c"}  # comm holds 15 characters
    assert len(reported) == 1 and isinstance(reported[0].exc_value, RuntimeError)
    with kept[0] as frame:  # the clone outlived the callback's own frame
        assert frame.timestamp == 0 and frame.planes()[0].shape == (48, 64)
