"""Devices: enumeration, cameras and microphones (opened, or failing cleanly: the host has no
camera and no sound card; ALSA works through the file plugin PCMs of conftest.py), and the
attributes of the tracks they give."""
import dataclasses

import numpy as np
import pytest

import mst
from conftest import CAPTURE_FRAMES

KINDS = {"audioinput", "audiooutput", "videoinput", "videooutput"}


def test_enumeration_gives_well_formed_device_infos():
    devices = mst.enumerate_devices()
    assert isinstance(devices, list)
    for d in devices:
        assert isinstance(d, mst.DeviceInfo)
        assert d.kind in KINDS
        assert all(isinstance(v, str) for v in (d.device_id, d.label, d.group_id))
        assert d.device_id and d.label and d.group_id
        with pytest.raises(dataclasses.FrozenInstanceError):
            d.label = "x"
    # libmst's order: audio inputs, audio outputs, video inputs, video outputs.
    order = ["audioinput", "audiooutput", "videoinput", "videooutput"]
    ranks = [order.index(d.kind) for d in devices]
    assert ranks == sorted(ranks)
    # ALSA's "default" PCM is listed for both audio kinds even with no sound card.
    ids = {(d.kind, d.device_id) for d in devices}
    assert {("audioinput", "default"), ("audiooutput", "default")} <= ids
    assert mst.enumerate_devices("audioinput") == [d for d in devices if d.kind == "audioinput"]
    with pytest.raises(ValueError, match="videoinput"):
        mst.enumerate_devices("camera")


def test_a_camera_that_does_not_exist_is_no_device_naming_it():
    with pytest.raises(mst.NoDevice) as e:
        mst.Track.camera("v4l2:platform:no-such-camera:0", width=640)
    assert e.value.status == -20
    assert "v4l2:platform:no-such-camera:0" in e.value.message
    assert e.value.function == "mst_track_create_camera"
    if not mst.enumerate_devices("videoinput"):
        with pytest.raises(mst.NoDevice, match="camera"):
            mst.Track.camera()
    with pytest.raises(ValueError, match="four characters"):
        mst.Track.camera(pixel_format="YUV")
    with pytest.raises(ValueError, match="unknown video constraint 'widht'"):
        mst.Track.camera(widht=640)


def test_a_microphone_that_does_not_exist_is_no_device_naming_it():
    with pytest.raises(mst.NoDevice) as e:
        mst.Track.microphone("mst_py_no_such_pcm", sampleRate=48000)
    assert "mst_py_no_such_pcm" in e.value.message
    with pytest.raises(ValueError, match="unknown audio constraint 'width'"):
        mst.Track.microphone("mst_py_capture", width=640)


def decode_index(chunk):
    """The capture file's frame index each frame of an S16 stereo chunk holds."""
    c = chunk.astype(np.uint16).astype(np.int64)
    return c[:, 0] << 16 | c[:, 1]


def test_a_microphone_delivers_the_devices_samples_as_constrained():
    with mst.Track.microphone("mst_py_capture", {"sampleRate": {"exact": 48000}},
                              channelCount={"exact": 2}, sampleSize=16) as track, \
            mst.Processor(track, max_buffer_size=1000) as processor:
        assert (track.kind, track.ready_state, track.enabled, track.muted) == \
            ("audio", "live", True, False)
        assert "mst_py_capture" in track.label
        with processor.read(timeout=10) as chunk:
            assert (chunk.format, chunk.info.sample_rate, chunk.info.number_of_channels,
                    chunk.info.number_of_frames) == ("S16", 48000, 2, 480)
            index = decode_index(chunk.to_numpy())
        assert index[0] % 480 == 0 and index[-1] < CAPTURE_FRAMES
        np.testing.assert_array_equal(index, np.arange(index[0], index[0] + 480))
        assert track.get_settings() == {"sampleRate": 48000, "channelCount": 2, "sampleSize": 16}
        assert track.get_capabilities() == {}  # an audio track has none
        stats = track.capture_stats
        assert stats.chunks >= 1 and stats.frames == stats.chunks * 480
        with pytest.raises(mst.WrongType):
            track.camera_stats
        track.stop()
        assert (track.ready_state, track.end_reason) == ("ended", mst.END_REASON_STOPPED)
    assert track.freed


def test_microphone_constraints_choose_rate_channels_and_size():
    with mst.Track.microphone("mst_py_capture", sampleRate={"exact": 16000},
                              channelCount={"exact": 1}, sampleSize={"exact": 32}) as track, \
            mst.Processor(track) as processor:
        with processor.read(timeout=10) as chunk:
            info = chunk.info
            assert (info.sample_rate, info.number_of_channels, info.number_of_frames) == \
                (16000, 1, 160)
            assert chunk.format in ("S32", "F32")


@pytest.mark.parametrize("constraints, name", [
    ({"sampleRate": {"exact": 1_000_000}}, "sampleRate"),
    ({"sampleRate": {"min": 50_000, "max": 40_000}}, "sampleRate"),
    ({"channelCount": {"exact": 1000}}, "channelCount"),
    ({"sampleSize": {"exact": 24}}, "sampleSize"),
])
def test_impossible_microphone_constraints_are_overconstrained_naming_the_property(
        constraints, name):
    with pytest.raises(mst.Overconstrained) as e:
        mst.Track.microphone("mst_py_capture", constraints)
    assert e.value.constraint == name
    assert name in e.value.message and "mst_py_capture" in e.value.message


def test_track_attributes_content_hint_enabled_and_mute():
    with mst.Generator("video") as gen, mst.Track.test_pattern() as pattern:
        track = gen.track
        assert track.content_hint == ""
        track.content_hint = "motion"
        assert track.content_hint == "motion"
        with pytest.raises(mst.InvalidArg):
            track.content_hint = "speech"  # an audio hint on a video track
        assert track.content_hint == "motion"
        track.enabled = False
        assert track.enabled is False
        assert track.muted is False
        gen.muted = True
        assert track.muted is True and gen.muted is True
        assert pattern.kind == "video" and pattern.id and pattern.id != track.id
        with pytest.raises(mst.WrongType):
            pattern.capture_stats


def test_ended_and_mute_callbacks_fire_and_are_released():
    import gc
    import weakref

    events = []
    with mst.Generator("audio") as gen:
        track = gen.track
        track.on_mute(lambda muted: events.append(("mute", muted)))
        track.on_ended(lambda reason: events.append(("ended", reason)))
        gen.muted = True
        gen.muted = True  # no change, no event
        gen.muted = False
        gen.close()
        assert events == [("mute", True), ("mute", False),
                          ("ended", mst.END_REASON_WRITABLE_CLOSED)]

    class Callback:
        def __call__(self, reason):
            events.append(reason)

    with mst.Track.test_pattern() as pattern:
        callback = Callback()
        gone = weakref.ref(callback)
        pattern.on_ended(callback)
        del callback
        gc.collect()
        assert gone() is not None  # held while libmst may call it
        pattern.on_ended(None)
        gc.collect()
        assert gone() is None  # removing it gave it back
        with pytest.raises(TypeError):
            pattern.on_ended(42)
    with pytest.raises(mst.InvalidState):
        pattern.on_ended(print)
