"""Video frames as numpy arrays: views, copies, RGB conversion, frames made from numpy."""
import numpy as np
import pytest

import mst
from mst._core import _borrowed

# BT.709 limited-range YUV of the test pattern's 75% colour bars (src/source/synthetic.rs),
# and the RGB they stand for.
BARS = [(180, 128, 128), (168, 44, 136), (145, 147, 44), (133, 63, 52), (63, 193, 204),
        (51, 109, 212), (28, 212, 120), (16, 128, 128)]
BARS_RGB = [(191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0), (191, 0, 191),
            (191, 0, 0), (0, 0, 191), (0, 0, 0)]


def pattern(n, w, h):
    """Frame n of the test pattern as its Y, U and V planes: the bars scrolled left by 4n
    pixels and a white square bouncing over them (the library's draw_pattern, in numpy)."""
    shift = n * 4 % w
    bars = np.array(BARS, np.uint8)[((np.arange(w) + shift) % w) * 8 // w]
    side = max(min(w, h) // 6, 2) & ~1
    span_x, span_y = max(w - min(side, w), 1), max(h - min(side, h), 1)

    def bounce(t, span):
        return t % span if (t // span) % 2 == 0 else span - t % span

    bx, by = bounce(n * 6, span_x) & ~1, bounce(n * 4, span_y) & ~1
    y = np.tile(bars[:, 0], (h, 1))
    y[by:by + side, bx:bx + side] = 235
    cw, ch = (w + 1) // 2, (h + 1) // 2
    u = np.tile(bars[::2, 1], (ch, 1))
    v = np.tile(bars[::2, 2], (ch, 1))
    yy, xx = np.mgrid[0:ch, 0:cw] * 2
    box = (xx >= bx) & (xx < bx + side) & (yy >= by) & (yy < by + side)
    u[box], v[box] = 128, 128
    return y, u, v


def test_pattern_planes_are_zero_copy_views_of_the_known_pattern():
    w, h, count = 64, 48, 4
    with mst.Track.test_pattern(width=w, height=h, unpaced=True, frame_count=count) as track, \
            mst.Processor(track, max_buffer_size=count) as processor:
        seen = []
        for frame in processor:
            with frame:
                n = round(frame.timestamp * 30 / 1e6)
                planes = frame.planes()
                assert [p.shape for p in planes] == [(h, w), (h // 2, w // 2), (h // 2, w // 2)]
                assert all(p.dtype == np.uint8 and not p.flags.writeable for p in planes)
                for got, want in zip(planes, pattern(n, w, h)):
                    np.testing.assert_array_equal(got, want)
                copies = frame.to_numpy()
                for got, view in zip(copies, planes):
                    np.testing.assert_array_equal(got, view)
                    assert not np.shares_memory(got, view)
                seen.append(n)
        assert seen == list(range(count))  # the loop ended at MST_ERR_ENDED, nothing lost
        assert track.ready_state == "ended" and track.end_reason == mst.END_REASON_SOURCE_ENDED


def test_a_view_has_the_planes_stride_and_writes_are_refused():
    with mst.Generator("video") as gen, mst.Processor(gen.track) as processor:
        rgba = np.zeros((6, 40, 4), np.uint8)  # rows 160 bytes apart, only 32 x 4 used
        rgba[..., 0] = np.arange(40)
        with mst.VideoFrame.from_numpy(rgba[:, :32], "RGBA", 0) as frame:
            gen.write(frame)
        with processor.read(timeout=5) as got:
            (plane,) = got.planes()
            assert plane.shape == (6, 32, 4)
            assert plane.strides[0] >= 32 * 4 and plane.strides[1:] == (4, 1)
            np.testing.assert_array_equal(plane, rgba[:, :32])
            with pytest.raises(ValueError):
                plane[0, 0, 0] = 1
            with pytest.raises(ValueError):
                plane.flags.writeable = True


def test_views_outlive_close_but_planes_then_raises():
    w, h = 32, 16
    y = np.arange(w * h, dtype=np.uint8).reshape(h, w)
    u = np.full((h // 2, w // 2), 90, np.uint8)
    v = np.full((h // 2, w // 2), 200, np.uint8)
    with mst.VideoFrame.from_numpy((y, u, v), "I420", 7) as frame:
        views = frame.planes()
        frame.close()
        with pytest.raises(mst.InvalidState) as e:
            frame.planes()
        assert e.value.status == -13 and "closed" in e.value.message
        # The views hold their own reference to the media: still the pixels written.
        for got, want in zip(views, (y, u, v)):
            np.testing.assert_array_equal(got, want)
    assert frame.freed
    with pytest.raises(mst.InvalidState):
        frame.planes()


def test_generator_frames_from_numpy_read_back_bit_exact():
    rng = np.random.default_rng(1)
    w, h = 48, 30
    planes = (rng.integers(0, 256, (h, w), np.uint8),
              rng.integers(0, 256, (h // 2, w // 2), np.uint8),
              rng.integers(0, 256, (h // 2, w // 2), np.uint8))
    with mst.Generator("video") as gen, mst.Processor(gen.track, max_buffer_size=4) as processor:
        with mst.VideoFrame.from_numpy(planes, "I420", 1234, duration=40) as frame:
            gen.write(frame)
            with pytest.raises(mst.InvalidState):  # the write closed it
                frame.info
        with processor.read(timeout=5) as got:
            assert (got.format, got.width, got.height, got.timestamp) == ("I420", w, h, 1234)
            assert got.info.duration == 40 and got.info.sequence == 1
            for a, b in zip(got.planes(), planes):
                np.testing.assert_array_equal(a, b)
            for a, b in zip(got.to_numpy(copy=False), planes):
                np.testing.assert_array_equal(a, b)


def test_wrong_plane_shapes_are_refused():
    with pytest.raises(ValueError, match="plane 1"):
        mst.VideoFrame.from_numpy((np.zeros((4, 4), np.uint8),) * 3, "I420", 0)
    with pytest.raises(ValueError, match="uint8"):
        mst.VideoFrame.from_numpy(np.zeros((4, 4, 4), np.float32), "RGBA", 0)


def test_rgba_and_rgb_conversion_through_the_library():
    w, h = 64, 48
    with mst.Track.test_pattern(width=w, height=h, unpaced=True, frame_count=1) as track, \
            mst.Processor(track) as processor:
        with processor.read(timeout=10) as frame:
            assert frame.timestamp == 0  # frame 0: bars unscrolled, the square top left
            rgba = frame.to_rgba()
            rgb = frame.to_rgb()
    assert (rgba.shape, rgba.dtype) == ((h, w, 4), np.uint8)
    assert (rgb.shape, rgb.dtype) == ((h, w, 3), np.uint8) and rgb.flags.c_contiguous
    np.testing.assert_array_equal(rgb, rgba[..., :3])
    assert (rgba[..., 3] == 255).all()
    row = h - 1  # below the square
    for i, colour in enumerate(BARS_RGB):
        x = i * w // 8 + w // 16
        assert np.abs(rgba[row, x, :3].astype(int) - colour).max() <= 3, (i, rgba[row, x])


def test_wrapped_numpy_memory_is_held_until_the_last_view_goes():
    rgba = np.random.default_rng(2).integers(0, 256, (8, 16, 4), np.uint8)
    before = _borrowed.count()
    with mst.Generator("video") as gen, mst.Processor(gen.track) as processor:
        frame = mst.VideoFrame.wrap_numpy(rgba, "RGBA", 5)
        assert _borrowed.count() == before + 1
        gen.write(frame)
        frame.free()
        got = processor.read(timeout=5)
        view = got.planes()[0]
        np.testing.assert_array_equal(view, rgba)
        assert view.__array_interface__["data"][0] == rgba.ctypes.data  # no copy on the way
        got.free()
        assert _borrowed.count() == before + 1  # the view still reads the array
        del view
        assert _borrowed.count() == before


def test_color_space_follows_webcodecs_defaults():
    """A test-pattern frame is BT.709 limited range (what libmst's YUV is); an RGBA frame made
    from numpy gets WebCodecs' sRGB default; a closed frame raises rather than inventing one."""
    with mst.Track.test_pattern(width=64, height=48) as track, mst.Processor(track) as proc:
        with proc.read(timeout=5) as frame:
            assert frame.color_space == {"primaries": "bt709", "transfer": "bt709",
                                         "matrix": "bt709", "fullRange": False}
    rgba = np.zeros((4, 4, 4), np.uint8)
    with mst.VideoFrame.from_numpy(rgba, "RGBA", timestamp=0) as frame:
        assert frame.color_space == {"primaries": "bt709", "transfer": "iec61966-2-1",
                                     "matrix": "rgb", "fullRange": True}
        frame.close()
        with pytest.raises(mst.Error):
            frame.color_space


def test_only_camera_frames_have_a_dmabuf():
    """A frame libmst made (here a test pattern's) is no driver buffer: no DMA-BUF; a closed
    frame raises rather than answering."""
    with mst.Track.test_pattern(width=64, height=48) as track, mst.Processor(track) as proc:
        with proc.read(timeout=5) as frame:
            assert frame.dmabuf is None
            assert frame.dmabuf_planes is None
            frame.close()
            with pytest.raises(mst.Error):
                frame.dmabuf
            with pytest.raises(mst.Error):
                frame.dmabuf_planes
