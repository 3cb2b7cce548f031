"""Fake devices from Python: listed, opened as a camera or microphone, and their scripted faults
arrive exactly (frame n carries n in capture_sequence; the clock is virtual)."""
import pathlib
import time

import pytest

import mst

MJPEG = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "mjpeg"


def test_a_fake_camera_is_listed_opens_and_unplugs_on_its_script():
    with mst.FakeDevice.camera("py-cam", width=64, height=48, frame_rate=25,
                               faults=[mst.Fault("overrun", at=2, value=3),
                                       mst.Fault("unplug", at=8)]) as cam:
        assert cam.device_id == "fake:py-cam"
        listed = [d for d in mst.enumerate_devices() if d.device_id == cam.device_id]
        assert [d.kind for d in listed] == ["videoinput"]
        with mst.Track.camera(cam.device_id) as track, mst.Processor(track) as proc:
            stamps = []
            for frame in proc:              # ends when the fake is unplugged
                with frame:
                    stamps.append(frame.timestamp)
            # Frames 2, 3 and 4 were lost to the overrun; the clock is virtual (25 fps).
            assert stamps == [n * 40000 for n in (0, 1, 5, 6, 7)]
            assert track.end_reason == mst.END_REASON_DEVICE_LOST
            assert track.camera_stats.dropped == 3
        assert not [d for d in mst.enumerate_devices() if d.device_id == "fake:py-cam"]


def test_a_fake_microphone_changes_format_mid_stream():
    with mst.FakeDevice.microphone("py-mic", sample_rate=48000, channels=2,
                                   frame_count=4,
                                   faults=[mst.Fault("format-change", at=2, sample_rate=16000,
                                                     channels=1)]) as mic:
        with mst.Track.microphone(mic.device_id) as track, mst.Processor(track) as proc:
            shapes = []
            for _ in range(4):
                with proc.read(timeout=30) as chunk:
                    shapes.append(chunk.to_numpy().shape)
            assert shapes == [(480, 2), (480, 2), (160, 1), (160, 1)]


def test_a_fake_mjpeg_camera_decodes_the_frames_given():
    jpeg = (MJPEG / "quad-420-nodht.jpg").read_bytes()
    with mst.FakeDevice.camera("py-mjpeg", width=64, height=32, pixel_format="MJPG",
                               mjpeg_frames=[jpeg], frame_count=2) as cam:
        with mst.Track.camera(cam.device_id) as track, mst.Processor(track) as proc:
            with proc.read(timeout=30) as frame:
                assert frame.color_space["fullRange"] is True   # JFIF
                assert frame.to_rgba().shape == (32, 64, 4)


def test_bad_scripts_raise_before_libmst_and_libmst_refuses_the_rest():
    with pytest.raises(ValueError, match="unknown fault"):
        mst.FakeDevice.camera("py-bad", faults=[mst.Fault("explode", at=1)])
    with pytest.raises(ValueError, match="pacing"):
        mst.FakeDevice.camera("py-bad", pacing="fast")
    with pytest.raises(mst.InvalidArg):
        mst.FakeDevice.camera("py-bad", pixel_format="MJPG")      # MJPG needs frames
    with mst.FakeDevice.camera("py-dup") as cam:
        with pytest.raises(mst.Error) as e:
            mst.FakeDevice.camera("py-dup")
        assert "py-dup" in e.value.message
        cam.free()
        with pytest.raises(mst.InvalidState):
            cam.inject(mst.Fault("unplug", at=0))


def test_a_track_with_reacquire_waits_muted_for_its_fake_device_and_goes_on():
    mutes = []
    with mst.FakeDevice.camera("py-reacquire", width=32, height=16) as cam:
        track = mst.Track.camera(cam.device_id)
        track.on_mute(mutes.append)
        track.set_reacquire(None)
        with mst.Processor(track) as proc:
            proc.read(timeout=30).close()
            settings = track.get_settings()
            cam.free()                               # unplugged: the track waits, muted
            assert track.muted and track.ready_state == "live"
            with mst.FakeDevice.camera("py-reacquire", width=32, height=16):
                deadline = time.monotonic() + 30
                while track.muted:
                    assert time.monotonic() < deadline, "not reacquired"
                    time.sleep(0.01)
                proc.read(timeout=30).close()
                assert track.get_settings() == settings
                assert mutes == [True, False]
                track.stop()
    with mst.Generator("video") as gen, pytest.raises(mst.Unsupported):
        gen.track.set_reacquire(1.0)
