"""Generator.write takes numpy arrays: copied or wrapped without a copy, they arrive bit-exact
through a processor; a wrong shape, dtype or layout raises before libmst is called."""
import numpy as np
import pytest

import mst
from mst._core import _borrowed

RNG = np.random.default_rng(13)


def pixels(*shape):
    return RNG.integers(0, 256, shape, np.uint8)


@pytest.fixture
def video():
    with mst.Generator("video") as gen, mst.Processor(gen.track, max_buffer_size=8) as p:
        yield gen, p


@pytest.fixture
def audio():
    with mst.Generator("audio") as gen, mst.Processor(gen.track, max_buffer_size=8) as p:
        yield gen, p


@pytest.mark.parametrize("fmt", ["RGBA", "BGRA", "RGBX", "BGRX"])
def test_packed_rgb_arrays_arrive_bit_exact(video, fmt):
    gen, processor = video
    image = pixels(30, 40, 4)
    gen.write(image, timestamp=1000, format=fmt, duration=33_333)
    with processor.read(timeout=10) as frame:
        assert (frame.format, frame.width, frame.height, frame.timestamp) == (fmt, 40, 30, 1000)
        assert frame.info.duration == 33_333
        np.testing.assert_array_equal(frame.to_numpy(), image)


def test_i420_and_nv12_in_one_array_arrive_bit_exact(video):
    gen, processor = video
    w, h = 48, 32
    i420 = pixels(h * 3 // 2, w)
    nv12 = pixels(h * 3 // 2, w)
    gen.write(i420, timestamp=0, format="I420")
    gen.write(nv12, timestamp=1, format="nv12")
    with processor.read(timeout=10) as frame:
        assert (frame.format, frame.width, frame.height) == ("I420", w, h)
        y, u, v = frame.planes()
        flat = i420.ravel()
        np.testing.assert_array_equal(y, i420[:h])
        np.testing.assert_array_equal(u, flat[w * h:w * h * 5 // 4].reshape(h // 2, w // 2))
        np.testing.assert_array_equal(v, flat[w * h * 5 // 4:].reshape(h // 2, w // 2))
    with processor.read(timeout=10) as frame:
        assert (frame.format, frame.width, frame.height) == ("NV12", w, h)
        y, uv = frame.planes()
        np.testing.assert_array_equal(y, nv12[:h])
        np.testing.assert_array_equal(uv, nv12[h:].reshape(h // 2, w // 2, 2))


def test_planes_and_strided_arrays_are_copied_bit_exact(video):
    gen, processor = video
    planes = (pixels(16, 24), pixels(16, 24), pixels(16, 24))
    gen.write(planes, timestamp=0, format="I444")
    wide = pixels(10, 40, 4)
    gen.write(wide[:, ::2], timestamp=1, format="RGBA")  # pixels not contiguous in a row
    with processor.read(timeout=10) as frame:
        for got, want in zip(frame.planes(), planes):
            np.testing.assert_array_equal(got, want)
    with processor.read(timeout=10) as frame:
        np.testing.assert_array_equal(frame.to_numpy(), wide[:, ::2])


@pytest.mark.parametrize("dtype, fmt", [(np.float32, "F32"), (np.int16, "S16"),
                                        (np.int32, "S32"), (np.uint8, "U8")])
def test_audio_arrays_arrive_bit_exact(audio, dtype, fmt):
    gen, processor = audio
    samples = RNG.integers(-100, 100, (480, 2)).astype(dtype)
    gen.write(samples, timestamp=5, sample_rate=48000)
    gen.write(samples, timestamp=6, sample_rate=48000, planar=True)
    gen.write(samples[:, 0], timestamp=7, sample_rate=8000)  # 1-D: one channel
    with processor.read(timeout=10) as chunk:
        assert (chunk.format, chunk.timestamp, chunk.info.sample_rate) == (fmt, 5, 48000)
        np.testing.assert_array_equal(chunk.to_numpy(), samples)
    with processor.read(timeout=10) as chunk:
        assert chunk.format == fmt + "_PLANAR"
        np.testing.assert_array_equal(chunk.to_numpy(), samples)
    with processor.read(timeout=10) as chunk:
        assert chunk.info.number_of_channels == 1
        np.testing.assert_array_equal(chunk.to_numpy()[:, 0], samples[:, 0])


def test_copy_false_wraps_the_array_until_libmst_lets_go(video, audio):
    before = _borrowed.count()
    (vgen, vproc), (agen, aproc) = video, audio
    i420 = pixels(24, 32)
    samples = RNG.standard_normal((441, 2)).astype(np.float32)
    planar = np.ascontiguousarray(samples.T).T  # (frames, channels), stored channel by channel
    vgen.write(i420, timestamp=0, format="I420", copy=False)
    agen.write(samples, timestamp=0, sample_rate=44100, copy=False)
    agen.write(planar, timestamp=1, sample_rate=44100, planar=True, copy=False)
    assert _borrowed.count() == before + 3  # in the processors' queues
    with vproc.read(timeout=10) as frame:
        y = frame.planes()[0]
        assert y.__array_interface__["data"][0] == i420.ctypes.data  # no copy on the way
        np.testing.assert_array_equal(y, i420[:16])
    with aproc.read(timeout=10) as chunk:
        (plane,) = chunk.planes()
        assert plane.__array_interface__["data"][0] == samples.ctypes.data
        np.testing.assert_array_equal(plane, samples)
    with aproc.read(timeout=10) as chunk:
        left, right = chunk.planes()
        assert left.__array_interface__["data"][0] == planar.ctypes.data
        np.testing.assert_array_equal(right, samples[:, 1])
    del y, plane, left, right
    assert _borrowed.count() == before


class Recording:
    """libmst with every function looked up recorded."""

    def __init__(self, lib):
        self.lib, self.names = lib, []

    def __getattr__(self, name):
        self.names.append(name)
        return getattr(self.lib, name)


@pytest.fixture
def c_calls(monkeypatch):
    rec = Recording(mst.lib)
    monkeypatch.setattr(mst.errors, "lib", rec)
    monkeypatch.setattr(mst._core, "lib", rec)
    return rec.names


VIDEO_REFUSED = [
    (dict(data=np.zeros((4, 4, 4), np.float32), format="RGBA"), ValueError, "uint8"),
    (dict(data=np.zeros((4, 4, 3), np.uint8), format="RGBA"), ValueError, r"\(height, width, 4\)"),
    (dict(data=np.zeros((0, 4, 4), np.uint8), format="RGBA"), ValueError, "uint8"),
    (dict(data=np.zeros((6, 5), np.uint8), format="I420"), ValueError, "even"),
    (dict(data=np.zeros((7, 4), np.uint8), format="NV12"), ValueError, "height \\* 3 / 2"),
    (dict(data=np.zeros((6, 4), np.int16), format="I420"), ValueError, "uint8"),
    (dict(data=np.zeros((6, 4), np.uint8), format="I444"), ValueError, "tuple of its planes"),
    (dict(data=(np.zeros((4, 4), np.uint8),) * 2, format="I420"), ValueError, "3 planes"),
    (dict(data=(np.zeros((4, 4), np.float32),) * 3, format="I420"), ValueError, "uint8"),
    (dict(data=np.zeros((4, 4, 4), np.uint8), format="RGB"), ValueError, "pixel format"),
    (dict(data=np.zeros((4, 4, 4), np.uint8)), TypeError, "format="),
    (dict(data=np.zeros((4, 4, 4), np.uint8), format="RGBA", timestamp=None), TypeError,
     "timestamp="),
    (dict(data=np.zeros((4, 4, 4), np.uint8), format="RGBA", sample_rate=48000), TypeError,
     "audio"),
    (dict(data=np.zeros((4, 8, 4), np.uint8)[:, ::2], format="RGBA", copy=False), ValueError,
     "contiguous"),
    (dict(data=np.zeros((12, 8), np.uint8)[::2], format="I420", copy=False), ValueError,
     "C-contiguous"),
    (dict(data=(np.zeros((4, 4), np.uint8),) * 3, format="I420", copy=False), ValueError,
     "one array"),
]


@pytest.mark.parametrize("case, error, match", VIDEO_REFUSED)
def test_bad_video_arrays_raise_before_libmst(video, c_calls, case, error, match):
    gen, processor = video
    case = dict(case)
    data = case.pop("data")
    case.setdefault("timestamp", 0)
    with pytest.raises(error, match=match):
        gen.write(data, **case)
    assert not [n for n in c_calls if n.startswith(("mst_frame", "mst_generator_write"))], c_calls
    assert gen.state == "writable" and processor.stats.total == 0


AUDIO_REFUSED = [
    (dict(data=np.zeros((4, 2), np.float64)), ValueError, "float32"),
    (dict(data=np.zeros((4, 2, 2), np.float32)), ValueError, r"\(frames, channels\)"),
    (dict(data=np.zeros((0, 2), np.int16)), ValueError, "non-empty"),
    (dict(data=np.zeros((4, 2), np.int16), sample_rate=None), TypeError, "sample_rate="),
    (dict(data=np.zeros((4, 2), np.int16), format="S16"), TypeError, "dtype"),
    (dict(data=np.zeros((2, 4), np.int16).T, copy=False), ValueError, "contiguous"),
    (dict(data=np.zeros((4, 2), np.int16), planar=True, copy=False), ValueError, "contiguous"),
]


@pytest.mark.parametrize("case, error, match", AUDIO_REFUSED)
def test_bad_audio_arrays_raise_before_libmst(audio, c_calls, case, error, match):
    gen, processor = audio
    case = dict(case)
    data = case.pop("data")
    case.setdefault("timestamp", 0)
    case.setdefault("sample_rate", 48000)
    with pytest.raises(error, match=match):
        gen.write(data, **case)
    assert not [n for n in c_calls if n.startswith(("mst_frame", "mst_generator_write"))], c_calls
    assert gen.state == "writable" and processor.stats.total == 0


def test_a_frame_takes_no_array_arguments(video):
    gen, _ = video
    with mst.VideoFrame.from_numpy(pixels(4, 4, 4), "RGBA", 0) as frame:
        with pytest.raises(TypeError, match="keyword arguments are for arrays"):
            gen.write(frame, timestamp=5)
        gen.write(frame)
        with pytest.raises(mst.InvalidState):  # the write closed it
            frame.info
