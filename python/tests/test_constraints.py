"""Constraints, settings and capabilities in the spec's names, on test-pattern tracks."""
import numpy as np
import pytest

import mst


def read_frames(processor, n):
    out = []
    for _ in range(n):
        with processor.read(timeout=10) as f:
            out.append((f.width, f.height, f.timestamp))
    return out


def test_capabilities_and_settings_of_a_test_pattern():
    with mst.Track.test_pattern(width=320, height=180, frame_rate=30, unpaced=True) as track, \
            mst.Processor(track) as processor:
        caps = track.get_capabilities()
        assert caps["width"] == {"min": 1, "max": 320}
        assert caps["height"] == {"min": 1, "max": 180}
        assert caps["frameRate"]["max"] == 30
        assert caps["aspectRatio"]["min"] == pytest.approx(1 / 180)
        assert caps["aspectRatio"]["max"] == 320
        assert caps["resizeMode"] == ["none", "crop-and-scale"]
        assert track.get_constraints() == {}
        processor.read(timeout=10).free()
        settings = track.get_settings()
        assert (settings["width"], settings["height"]) == (320, 180)
        assert settings["aspectRatio"] == pytest.approx(16 / 9)
        assert isinstance(settings["width"], int)


def test_applied_constraints_scale_and_decimate_the_frames():
    # An unpaced pattern starts with its first consumer: constraints applied before the
    # processor exists hold for every frame it gets.
    with mst.Track.test_pattern(width=320, height=180, frame_rate=30, unpaced=True) as track:
        track.apply_constraints({"width": {"exact": 160}}, height={"exact": 90},
                                frameRate={"max": 10})
        assert track.get_constraints() == {"width": {"exact": 160}, "height": {"exact": 90},
                                           "frameRate": {"max": 10.0}}
        with mst.Processor(track, max_buffer_size=8) as processor:
            frames = read_frames(processor, 6)
            assert {(w, h) for w, h, _ in frames} == {(160, 90)}
            # 30 fps decimated to at most 10: consecutive frames at least 100 ms apart.
            gaps = np.diff([t for _, _, t in frames])
            assert (gaps >= 100_000 - 1).all(), gaps
            assert processor.stats.discarded_decimated > 0
        settings = track.get_settings()
        assert (settings["width"], settings["height"], settings["resizeMode"]) == \
            (160, 90, "crop-and-scale")

        # resizeMode "none" passes frames through untouched, whatever else was asked.
        track.apply_constraints(resizeMode="none")
        assert track.get_constraints() == {"resizeMode": "none"}
        with mst.Processor(track, max_buffer_size=8) as processor:
            # The first may have been made while the constraints changed.
            sizes = {(w, h) for w, h, _ in read_frames(processor, 4)[1:]}
            assert sizes == {(320, 180)}


def test_overconstrained_names_the_constraint_and_changes_nothing():
    with mst.Track.test_pattern(width=320, height=180) as track:
        track.apply_constraints(width=200)  # a bare number is ideal, as in the spec
        assert track.get_constraints() == {"width": {"ideal": 200}}
        for constraints, name in [({"width": {"min": 100_000}}, "width"),
                                  ({"height": {"exact": 1000}}, "height"),
                                  ({"frameRate": {"min": 60}}, "frameRate")]:
            with pytest.raises(mst.Overconstrained) as e:
                track.apply_constraints(constraints)
            assert e.value.constraint == name and name in e.value.message
            assert e.value.status == -23
        assert track.get_constraints() == {"width": {"ideal": 200}}
    with mst.Track.tone() as tone:
        with pytest.raises(mst.Overconstrained) as e:
            tone.apply_constraints(width={"exact": 160})
        assert e.value.constraint == "width"


def test_malformed_constraints_raise_before_libmst():
    with mst.Track.test_pattern() as track:
        with pytest.raises(ValueError, match="unknown video constraint 'fps'"):
            track.apply_constraints(fps=30)
        with pytest.raises(ValueError, match="sampleRate is not a video constraint"):
            track.apply_constraints(sampleRate=48000)
        with pytest.raises(ValueError, match="unknown member"):
            track.apply_constraints(width={"atleast": 3})
        with pytest.raises(TypeError, match="width"):
            track.apply_constraints(width="wide")
        with pytest.raises(TypeError):
            track.apply_constraints(width=True)
        with pytest.raises(ValueError, match="resizeMode"):
            track.apply_constraints(resizeMode="stretch")
        with pytest.raises(mst.InvalidArg):  # NaN is libmst's to refuse
            track.apply_constraints(width=float("nan"))
        assert track.get_constraints() == {}


def test_camera_controls_on_a_track_without_them():
    # Media Capture Image's names; a test pattern has no camera controls: an ideal is ignored
    # (and kept in getConstraints), a required member is overconstrained naming the control.
    with mst.Track.test_pattern(width=64, height=48) as track:
        caps = track.get_capabilities()
        assert not {"brightness", "zoom", "exposureMode"} & set(caps)
        track.apply_constraints(brightness=10, exposureMode="manual",
                                focusMode={"ideal": "continuous"})
        assert track.get_constraints() == {"brightness": {"ideal": 10},
                                           "exposureMode": {"ideal": "manual"},
                                           "focusMode": {"ideal": "continuous"}}
        assert "brightness" not in track.get_settings()
        for constraints, name in [({"zoom": {"min": 1}}, "zoom"),
                                  ({"whiteBalanceMode": {"exact": "manual"}}, "whiteBalanceMode")]:
            with pytest.raises(mst.Overconstrained) as e:
                track.apply_constraints(constraints)
            assert e.value.constraint == name
        with pytest.raises(ValueError, match="'auto' is not one of"):
            track.apply_constraints(focusMode="auto")
        with pytest.raises(ValueError, match="unknown member"):
            track.apply_constraints(focusMode={"min": "manual"})


def test_camera_controls_convert_both_ways():
    from mst import _abi, _constraints
    caps = _abi.MstCapabilities()
    caps.present = _abi.MST_SETTING_BRIGHTNESS | _abi.MST_SETTING_EXPOSURE_MODE
    caps.brightness.min, caps.brightness.max, caps.brightness.step = -64, 64, 1
    caps.exposure_modes = (1 << _abi.MST_METERING_MODE_MANUAL) | (
        1 << _abi.MST_METERING_MODE_CONTINUOUS)
    assert _constraints.capabilities_dict(caps) == {
        "brightness": {"min": -64, "max": 64, "step": 1},
        "exposureMode": ["manual", "continuous"]}
    s = _abi.MstSettings()
    s.present = _abi.MST_SETTING_EXPOSURE_TIME | _abi.MST_SETTING_FOCUS_MODE
    s.exposure_time, s.focus_mode = 156, _abi.MST_METERING_MODE_MANUAL
    assert _constraints.settings_dict(s) == {"exposureTime": 156, "focusMode": "manual"}
    c = _constraints.video_struct({"pan": {"min": -3600, "max": 3600},
                                   "exposureMode": {"exact": "continuous"}})
    assert c.pan.present == _abi.MST_CONSTRAIN_MIN | _abi.MST_CONSTRAIN_MAX
    assert c.exposure_mode.exact == _abi.MST_METERING_MODE_CONTINUOUS
    assert _constraints.video_dict(c) == {"pan": {"min": -3600, "max": 3600},
                                          "exposureMode": {"exact": "continuous"}}
