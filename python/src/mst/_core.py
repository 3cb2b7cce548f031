"""Handles: frames, tracks, processors and generators.

Lifecycle, as in C: free() always releases the handle (and first does what close()/stop()
does); close() and stop() end the activity and keep the handle, which then answers "closed"
or "ended". `with` frees on exit, and so does the garbage collector when the object goes.
"""
import atexit
import ctypes as C
import itertools
import os
import threading
import types
import weakref

import numpy as np

from . import _abi, _constraints
from .errors import InvalidState, Unsupported, call, check
from ._lib import lib

VIDEO, AUDIO = _abi.MST_KIND_VIDEO, _abi.MST_KIND_AUDIO

PIXEL_FORMATS = {name: getattr(_abi, "MST_VIDEO_PIXEL_FORMAT_" + name)
                 for name in ("I420", "I420A", "I422", "I444", "NV12", "RGBA", "RGBX", "BGRA", "BGRX")}
SAMPLE_FORMATS = {name: getattr(_abi, "MST_AUDIO_SAMPLE_FORMAT_" + name)
                  for name in ("U8", "S16", "S32", "F32", "U8_PLANAR", "S16_PLANAR", "S32_PLANAR",
                               "F32_PLANAR")}
_SAMPLE_DTYPES = {"U8": np.uint8, "S16": np.int16, "S32": np.int32, "F32": np.float32}
_PACKED = ("RGBA", "RGBX", "BGRA", "BGRX")
# Formats an array may hold whole: (height * 3 / 2, width) uint8, planes one after another.
_ONE_BUFFER = ("I420", "NV12")


def _lookup(table, value, what):
    if isinstance(value, str):
        if value.upper() not in table:
            raise ValueError(f"unknown {what} {value!r}; known: {', '.join(table)}")
        return table[value.upper()]
    return int(value)


def _name(table, value):
    return next((n for n, v in table.items() if v == value), value)


def _kind(kind):
    return {"video": VIDEO, "audio": AUDIO}.get(kind, kind) if isinstance(kind, str) else kind


def _planes_geometry(fmt, width, height):
    """(rows, row_bytes, element_shape) of each plane of a `fmt` image of width x height."""
    cw, ch = (width + 1) // 2, (height + 1) // 2
    luma = (height, width, ())
    return {
        "I420": [luma, (ch, cw, ()), (ch, cw, ())],
        "I420A": [luma, (ch, cw, ()), (ch, cw, ()), luma],
        "I422": [luma, (height, cw, ()), (height, cw, ())],
        "I444": [luma, luma, luma],
        "NV12": [luma, (ch, cw * 2, (2,))],
    }.get(fmt, [(height, width * 4, (4,))])


# Handles whose libmst threads may call into Python: see _before_python_goes.
_threaded = weakref.WeakSet()


class _Handle:
    """An owned libmst handle; `_free_fn` names its release function. A class with a
    `_before_exit` method has it called at interpreter exit while the handle lives."""

    _free_fn = None

    def __init__(self, ptr):
        self._ptr = C.c_void_p(ptr)
        if hasattr(self, "_before_exit"):
            _threaded.add(self)

    @property
    def _as_parameter_(self):
        if not self._ptr:
            raise InvalidState(_abi.MST_ERR_INVALID_STATE, f"this {type(self).__name__} was freed")
        return self._ptr

    @property
    def freed(self):
        return not self._ptr

    def free(self):
        """Releases the handle (closing or stopping it first); later calls raise
        mst.InvalidState. Freeing twice does nothing."""
        if self._ptr:
            ptr, self._ptr = self._ptr, C.c_void_p()
            call(self._free_fn, ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def __del__(self):
        try:
            self.free()
        except Exception:  # at interpreter exit the library may be gone already
            pass


@atexit.register
def _before_python_goes():
    """libmst's threads must not call into Python once the interpreter finalises: Python ends
    a thread that takes the GIL then (pthread_exit), which aborts the process as it unwinds
    through libmst. So while Python still runs, tracks' and processors' callbacks are removed
    and sinks (whose threads drop frames, maybe wrapped arrays) are freed."""
    for handle in list(_threaded):
        if not handle.freed:
            try:
                handle._before_exit()
            except Exception:
                pass


def _out_handle(fn, *args):
    out = C.c_void_p()
    call(fn, *args, C.byref(out))
    return out.value


class Stats(types.SimpleNamespace):
    """Counters read from libmst at one moment (attributes as the C struct's members)."""

    @classmethod
    def of(cls, struct):
        return cls(**{f: getattr(struct, f) for f, _ in struct._fields_ if f != "struct_size"})


def _one_buffer(fmt, arr, wrap):
    """(array, width, height, layout) of an I420 or NV12 image held in one (height * 3 / 2,
    width) uint8 array: Y, then U and V (I420) or the interleaved UV (NV12), packed tightly,
    as OpenCV's COLOR_*2YUV_I420 gives it."""
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[0] < 3 or arr.shape[0] % 3 \
            or arr.shape[1] < 2 or arr.shape[1] % 2:
        raise ValueError(f"an {fmt} image in one array is a (height * 3 / 2, width) uint8 array "
                         f"with width and height even; got {arr.dtype} {arr.shape} (or pass "
                         "its planes as a tuple)")
    if not arr.flags.c_contiguous:
        if wrap:
            raise ValueError(f"wrapping an {fmt} array needs it C-contiguous: pass "
                             "np.ascontiguousarray(data), or copy")
        arr = np.ascontiguousarray(arr)
    height, width = arr.shape[0] * 2 // 3, arr.shape[1]
    luma = width * height
    if fmt == "I420":
        layout = [(0, width), (luma, width // 2), (luma + luma // 4, width // 2)]
    else:
        layout = [(0, width), (luma, width)]
    return arr, width, height, layout


class _Media:
    """A clone of a frame's handle (the same media, a reference more) that the numpy views
    of its planes keep alive: the views stay valid after the frame they came from is closed,
    and the media goes when the last view does."""

    def __init__(self, frame):
        self.handle = _out_handle("mst_frame_clone", frame)

    def view(self, ptr, length, shape, strides, dtype=np.uint8):
        buf = (C.c_uint8 * length).from_address(ptr)
        buf._media = self  # the buffer, and so every array on it, holds the media
        flat = np.frombuffer(memoryview(buf).toreadonly(), dtype=np.uint8)
        return np.ndarray(shape, dtype=dtype, buffer=flat, strides=strides)

    def __del__(self):
        try:
            lib.mst_frame_free(self.handle)
        except Exception:
            pass


# WebCodecs' names for the colour enums (VideoColorPrimaries, VideoTransferCharacteristics,
# VideoMatrixCoefficients); UNSET is absent, so it reads as None.
_COLOR_PRIMARIES = {
    _abi.MST_VIDEO_COLOR_PRIMARIES_BT709: "bt709",
    _abi.MST_VIDEO_COLOR_PRIMARIES_BT470BG: "bt470bg",
    _abi.MST_VIDEO_COLOR_PRIMARIES_SMPTE170M: "smpte170m",
    _abi.MST_VIDEO_COLOR_PRIMARIES_BT2020: "bt2020",
    _abi.MST_VIDEO_COLOR_PRIMARIES_SMPTE432: "smpte432",
}
_COLOR_TRANSFERS = {
    _abi.MST_VIDEO_TRANSFER_BT709: "bt709",
    _abi.MST_VIDEO_TRANSFER_SMPTE170M: "smpte170m",
    _abi.MST_VIDEO_TRANSFER_IEC61966_2_1: "iec61966-2-1",
    _abi.MST_VIDEO_TRANSFER_LINEAR: "linear",
    _abi.MST_VIDEO_TRANSFER_PQ: "pq",
    _abi.MST_VIDEO_TRANSFER_HLG: "hlg",
}
_COLOR_MATRICES = {
    _abi.MST_VIDEO_MATRIX_RGB: "rgb",
    _abi.MST_VIDEO_MATRIX_BT709: "bt709",
    _abi.MST_VIDEO_MATRIX_BT470BG: "bt470bg",
    _abi.MST_VIDEO_MATRIX_SMPTE170M: "smpte170m",
    _abi.MST_VIDEO_MATRIX_BT2020_NCL: "bt2020-ncl",
}


class Frame(_Handle):
    """A VideoFrame or AudioData handle. close() drops the media (the handle stays and answers
    mst.InvalidState); free() releases the handle."""

    _free_fn = "mst_frame_free"

    @staticmethod
    def _wrap(ptr):
        kind = C.c_int32()
        status = lib.mst_frame_get_kind(C.c_void_p(ptr), C.byref(kind))
        cls = AudioData if status == _abi.MST_OK and kind.value == AUDIO else VideoFrame
        return cls(ptr)

    def close(self):
        call("mst_frame_close", self)

    def clone(self):
        return type(self)(_out_handle("mst_frame_clone", self))


class VideoFrame(Frame):
    @property
    def info(self):
        """The frame's MstVideoFrameInfo."""
        info = _abi.MstVideoFrameInfo()
        call("mst_frame_get_video_info", self, C.byref(info))
        return info

    @property
    def format(self):
        return _name(PIXEL_FORMATS, self.info.format)

    @property
    def width(self):
        return self.info.visible_rect.width

    @property
    def height(self):
        return self.info.visible_rect.height

    @property
    def timestamp(self):
        return self.info.timestamp

    @property
    def color_space(self):
        """WebCodecs' VideoFrame.colorSpace as a dict: primaries, transfer, matrix (WebCodecs'
        names, None when unknown) and fullRange (None when unknown)."""
        cs = _abi.MstVideoColorSpace()
        call("mst_frame_get_color_space", self, C.byref(cs))
        return {
            "primaries": _COLOR_PRIMARIES.get(cs.primaries),
            "transfer": _COLOR_TRANSFERS.get(cs.transfer),
            "matrix": _COLOR_MATRICES.get(cs.matrix),
            "fullRange": {_abi.MST_VIDEO_COLOR_RANGE_FULL: True,
                          _abi.MST_VIDEO_COLOR_RANGE_LIMITED: False}.get(cs.range),
        }

    @property
    def dmabuf(self):
        """The frame's pixels as a DMA-BUF for GPU import: (fd, [(offset, stride) per plane]),
        or None when they are not one (only zero-copy camera frames are). The fd stays libmst's,
        open while the frame is: os.dup() it to keep it longer."""
        fd, layout = C.c_int32(-1), _abi.MstPlaneLayouts()
        try:
            call("mst_frame_get_dmabuf", self, C.byref(fd), C.byref(layout))
        except Unsupported:
            return None
        return fd.value, [(p.offset, p.stride) for p in layout.planes[:layout.count]]

    @property
    def dmabuf_planes(self):
        """The frame's pixels as DMA-BUFs, one (fd, offset, stride) per plane: for frames whose
        planes are separate DMA-BUFs (NM12 / YM12 capture) as for one-buffer ones (the same fd
        for every plane); None when they are not DMA-BUFs. A GREY camera frame (I420 whose luma
        only is the driver's DMA-BUF) has None for its chroma planes. The fds stay libmst's,
        open while the frame is."""
        out = []
        for plane in range(len(_planes_geometry(_name(PIXEL_FORMATS, self.info.format), 2, 2))):
            fd, layout = C.c_int32(-1), _abi.MstPlaneLayout()
            try:
                call("mst_frame_get_dmabuf_plane", self, C.c_uint32(plane), C.byref(fd), C.byref(layout))
            except Unsupported:
                if plane == 0:
                    return None
                out.append(None)
                continue
            out.append((fd.value, layout.offset, layout.stride))
        return out

    def planes(self):
        """Zero-copy, read-only numpy views of the coded planes, each (rows, row_bytes) uint8
        with the plane's stride (NV12's UV plane and packed RGB are (rows, columns, 2 or 4)).
        The views hold a reference to the media: they stay valid after close(), and the
        media is released when the last of them goes."""
        info = self.info
        media = _Media(self)
        views = []
        geometry = _planes_geometry(_name(PIXEL_FORMATS, info.format), info.coded_width,
                                    info.coded_height)
        for i, (rows, row_bytes, element) in enumerate(geometry[:info.num_planes]):
            data, stride, length = C.c_void_p(), C.c_size_t(), C.c_size_t()
            call("mst_frame_get_video_plane", media.handle, i, C.byref(data), C.byref(stride),
                 C.byref(length))
            if (rows - 1) * stride.value + row_bytes > length.value:
                raise RuntimeError(f"plane {i}: {rows} rows of {row_bytes} bytes at stride "
                                   f"{stride.value} exceed its {length.value} bytes")
            shape, strides = (rows, row_bytes), (stride.value, 1)
            if element:
                shape = (rows, row_bytes // element[0], element[0])
                strides = (stride.value, element[0], 1)
            views.append(media.view(data.value, length.value, shape, strides))
        return views

    def to_numpy(self, copy=True):
        """The visible rect's pixels: one array for packed RGB formats (height, width, 4),
        else a tuple of planes (as planes(), cropped). copy=False gives views (see planes())."""
        info = self.info
        fmt = _name(PIXEL_FORMATS, info.format)
        r = info.visible_rect
        if copy:
            size = C.c_size_t()
            call("mst_frame_video_allocation_size", self, None, C.byref(size))
            buf = np.empty(size.value, np.uint8)
            layouts = _abi.MstPlaneLayouts()
            call("mst_frame_video_copy_to", self, buf.ctypes.data, size.value, None,
                 C.byref(layouts))
            out = []
            for p, (rows, row_bytes, element) in zip(layouts.planes,
                                                    _planes_geometry(fmt, r.width, r.height)):
                plane = np.lib.stride_tricks.as_strided(
                    buf[p.offset:], (rows, row_bytes), (p.stride, 1))
                out.append(plane.reshape(rows, -1, *element) if element else plane)
        else:
            out = []
            for i, plane in enumerate(self.planes()):
                sx = 2 if fmt in ("I420", "I422", "NV12") and i in (1, 2) else 1
                sy = 2 if fmt in ("I420", "NV12") and i in (1, 2) else 1
                rows, cols = (r.height + sy - 1) // sy, (r.width + sx - 1) // sx
                out.append(plane[r.y // sy:r.y // sy + rows, r.x // sx:r.x // sx + cols])
        return out[0] if fmt in _PACKED else tuple(out)

    def _converted(self, fmt):
        opts = _abi.MstVideoCopyOptions(format=PIXEL_FORMATS[fmt])
        size = C.c_size_t()
        call("mst_frame_video_allocation_size", self, C.byref(opts), C.byref(size))
        buf = np.empty(size.value, np.uint8)
        layouts = _abi.MstPlaneLayouts()
        call("mst_frame_video_copy_to", self, buf.ctypes.data, size.value, C.byref(opts),
             C.byref(layouts))
        w, h, stride = self.width, self.height, layouts.planes[0].stride
        return buf[:h * stride].reshape(h, stride)[:, :w * 4].reshape(h, w, 4)

    def to_rgba(self):
        """A (height, width, 4) uint8 RGBA copy of the visible rect, converted by libmst."""
        return self._converted("RGBA")

    def to_rgb(self):
        """A (height, width, 3) uint8 RGB copy of the visible rect, converted by libmst."""
        return np.ascontiguousarray(self._converted("RGBX")[..., :3])

    @staticmethod
    def _init(fmt, width, height, timestamp, duration, layout):
        init = _abi.MstVideoFrameInit(format=PIXEL_FORMATS[fmt], coded_width=width,
                                      coded_height=height, timestamp=timestamp,
                                      duration=duration, num_planes=len(layout))
        for i, (offset, stride) in enumerate(layout):
            init.layout[i].offset, init.layout[i].stride = offset, stride
        return init

    @classmethod
    def from_numpy(cls, data, format, timestamp, duration=0):
        """A new frame holding a copy of `data`, whose shape the format decides:
        RGBA/RGBX/BGRA/BGRX: a (height, width, 4) uint8 array;
        I420, NV12: one (height * 3 / 2, width) uint8 array (Y, then U and V or UV, tightly
        packed; width and height even), or their planes as a tuple;
        any YUV format: a tuple of its planes shaped as planes() gives them (Y, U, V[, A] or
        Y, UV as (rows, columns, 2)), the frame's size being Y's.
        Arrays of another dtype or shape raise ValueError before libmst is called; any
        strides are accepted (the pixels are copied)."""
        fmt = _name(PIXEL_FORMATS, _lookup(PIXEL_FORMATS, format, "pixel format"))
        if fmt in _PACKED:
            arr, width, height, layout, length = cls._packed(data, True)
        elif isinstance(data, np.ndarray):
            if fmt not in _ONE_BUFFER:
                raise ValueError(f"{fmt} takes a tuple of its planes, not one array")
            arr, width, height, layout = _one_buffer(fmt, data, wrap=False)
            length = arr.nbytes
        else:
            arr, width, height, layout = cls._planes(fmt, data)
            length = arr.nbytes
        init = cls._init(fmt, width, height, timestamp, duration, layout)
        return cls(_out_handle("mst_frame_create_video", C.byref(init), arr.ctypes.data, length))

    @staticmethod
    def _planes(fmt, data):
        """One buffer holding the planes of a `fmt` image, and its size and layout."""
        planes = [np.asarray(p) for p in data]
        if not planes or any(p.dtype != np.uint8 or p.ndim not in (2, 3) or 0 in p.shape
                             for p in planes):
            got = [(str(p.dtype), p.shape) for p in planes]
            raise ValueError(f"{fmt} planes are non-empty 2-D uint8 arrays (NV12's UV "
                             f"(rows, columns, 2)); got {got}")
        height, width = planes[0].shape[:2]
        geometry = _planes_geometry(fmt, width, height)
        if len(planes) != len(geometry):
            raise ValueError(f"{fmt} has {len(geometry)} planes, got {len(planes)}")
        layout, offset = [], 0
        for i, (p, (rows, row_bytes, element)) in enumerate(zip(planes, geometry)):
            shapes = [(rows, row_bytes)] + ([(rows, row_bytes // element[0], *element)]
                                            if element else [])
            if p.shape not in shapes:
                raise ValueError(f"{fmt} plane {i} of a {width}x{height} frame is {rows} rows "
                                 f"of {row_bytes} bytes, got shape {p.shape}")
            layout.append((offset, row_bytes))
            offset += p.nbytes
        return np.concatenate([p.ravel() for p in planes]), width, height, layout

    @staticmethod
    def _packed(data, copy):
        """The array, size and layout of a packed RGB image. libmst reads height x stride
        bytes, so when the last row's padding is not memory of the array's buffer (a slice of
        the last rows' columns), or pixels are not contiguous in a row, the rows are copied
        tight, or with copy False refused."""
        arr = np.asarray(data)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 4 or 0 in arr.shape:
            raise ValueError("a packed RGB frame is a (height, width, 4) uint8 array; got "
                             f"{arr.dtype} {arr.shape}")
        if arr.strides[1:] != (4, 1):
            if not copy:
                raise ValueError("wrapping needs each row's pixels contiguous (strides "
                                 f"(any, 4, 1)), got strides {arr.strides}: pass "
                                 "np.ascontiguousarray(data), or copy")
            arr = np.ascontiguousarray(arr)
        height, width = arr.shape[:2]
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        end = root.ctypes.data + root.itemsize + sum(
            (n - 1) * s for n, s in zip(root.shape, root.strides) if s > 0)
        if arr.strides[0] < width * 4 or arr.ctypes.data + height * arr.strides[0] > end:
            if not copy:
                raise ValueError("the array's last row does not extend to its stride, or its "
                                 "rows overlap: pass np.ascontiguousarray(data)")
            arr = np.ascontiguousarray(arr)
        return arr, width, height, [(0, arr.strides[0])], height * arr.strides[0]

    @classmethod
    def wrap_numpy(cls, data, format, timestamp, duration=0):
        """A new frame over `data` without copying: a (height, width, 4) uint8 array for
        RGBA/RGBX/BGRA/BGRX (each row's pixels contiguous), or one C-contiguous
        (height * 3 / 2, width) uint8 array for I420 and NV12 (see from_numpy). libmst reads
        the array's memory until the last reference to the media goes (processors' queues,
        clones, views), then the frame lets go of the array. Do not write to the array until
        then."""
        fmt = _name(PIXEL_FORMATS, _lookup(PIXEL_FORMATS, format, "pixel format"))
        if fmt in _PACKED:
            arr, width, height, layout, length = cls._packed(data, False)
        elif fmt in _ONE_BUFFER:
            if not isinstance(data, np.ndarray):
                raise ValueError(f"wrap_numpy takes an {fmt} image as one array, not planes")
            arr, width, height, layout = _one_buffer(fmt, data, wrap=True)
            length = arr.nbytes
        else:
            raise ValueError(f"wrap_numpy takes RGBA, RGBX, BGRA, BGRX, I420 or NV12, not {fmt}")
        init = cls._init(fmt, width, height, timestamp, duration, layout)
        return cls(_wrap("mst_frame_wrap_video", init, arr, length))


class _Registry:
    """Python objects lent to libmst under a token (a callback's user_data) until libmst's
    destroy-notify gives the token back, on whatever thread. Re-entrant: a finaliser the
    garbage collector starts inside hold() may free a handle whose destroy-notify forgets."""

    def __init__(self):
        self._lock = threading.RLock()
        self._items = {}
        self._tokens = itertools.count(1)

    def hold(self, obj):
        with self._lock:
            token = next(self._tokens)
            self._items[token] = obj
        return token

    def get(self, token):
        with self._lock:
            return self._items.get(token)

    def forget(self, token):
        with self._lock:
            self._items.pop(token, None)

    def count(self):
        with self._lock:
            return len(self._items)


# Arrays lent to libmst by wrap_numpy, each held until libmst's release callback gives its
# token back, on whatever thread drops the media.
_borrowed = _Registry()
_RELEASE = C.CFUNCTYPE(None, C.c_void_p)(_borrowed.forget)


def _wrap(fn, init, arr, length):
    """A frame handle over `arr`'s memory, the array held until libmst releases it."""
    token = _borrowed.hold(arr)
    out = C.c_void_p()
    status = getattr(lib, fn)(C.byref(init), arr.ctypes.data, length, _RELEASE,
                              C.c_void_p(token), C.byref(out))
    if status != _abi.MST_OK:
        _borrowed.forget(token)  # on error libmst never calls release
        check(status, fn)
    return out.value


class AudioData(Frame):
    @property
    def info(self):
        """The chunk's MstAudioDataInfo."""
        info = _abi.MstAudioDataInfo()
        call("mst_frame_get_audio_info", self, C.byref(info))
        return info

    @property
    def format(self):
        return _name(SAMPLE_FORMATS, self.info.format)

    @property
    def timestamp(self):
        return self.info.timestamp

    def planes(self):
        """Zero-copy, read-only views of the sample planes: one (frames, channels) array for
        interleaved formats, one (frames,) array per channel for planar ones. Lifetime as
        VideoFrame.planes()."""
        info = self.info
        fmt = _name(SAMPLE_FORMATS, info.format)
        dtype = np.dtype(_SAMPLE_DTYPES[fmt.removesuffix("_PLANAR")])
        planar = fmt.endswith("_PLANAR")
        media = _Media(self)
        views = []
        for i in range(info.number_of_channels if planar else 1):
            data, length = C.c_void_p(), C.c_size_t()
            call("mst_frame_get_audio_plane", media.handle, i, C.byref(data), C.byref(length))
            if planar:
                shape, strides = (info.number_of_frames,), (dtype.itemsize,)
            else:
                shape = (info.number_of_frames, info.number_of_channels)
                strides = (dtype.itemsize * info.number_of_channels, dtype.itemsize)
            views.append(media.view(data.value, length.value, shape, strides, dtype))
        return views

    def to_numpy(self, format=None):
        """A (frames, channels) copy of the samples, converted by libmst to `format` (a sample
        format name; None = the chunk's own). A planar format gives the transposed view of a
        (channels, frames) array."""
        info = self.info
        fmt = _name(SAMPLE_FORMATS, _lookup(SAMPLE_FORMATS, format or info.format,
                                            "sample format"))
        dtype = _SAMPLE_DTYPES[fmt.removesuffix("_PLANAR")]
        frames, channels = info.number_of_frames, info.number_of_channels
        if not fmt.endswith("_PLANAR"):
            out = np.empty((frames, channels), dtype)
            self._copy(out, 0, fmt)
            return out
        out = np.empty((channels, frames), dtype)
        for c in range(channels):
            self._copy(out[c], c, fmt)
        return out.T

    def _copy(self, dest, plane, fmt):
        opts = _abi.MstAudioCopyOptions(plane_index=plane, format=SAMPLE_FORMATS[fmt])
        call("mst_frame_audio_copy_to", self, dest.ctypes.data, dest.nbytes, C.byref(opts))

    @staticmethod
    def _array(data, planar, wrap):
        """(buffer, format name, frames, channels) of a (frames, channels) sample array."""
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr[:, None]
        names = {np.dtype(v): k for k, v in _SAMPLE_DTYPES.items()}
        if arr.ndim != 2 or arr.dtype not in names or 0 in arr.shape:
            raise ValueError("audio is a non-empty (frames, channels) array of uint8, int16, "
                             f"int32 or float32 (1-D: one channel); got {arr.dtype} {arr.shape}")
        # Planar chunks store channel after channel: the (channels, frames) transpose.
        buf = arr.T if planar else arr
        if not buf.flags.c_contiguous:
            if wrap:
                raise ValueError("wrapping needs the samples contiguous as the format stores "
                                 "them: a C-contiguous (frames, channels) array, or with "
                                 "planar=True a (channels, frames) one transposed; pass "
                                 "np.ascontiguousarray(...), or copy")
            buf = np.ascontiguousarray(buf)
        return buf, names[arr.dtype] + ("_PLANAR" if planar else ""), arr.shape[0], arr.shape[1]

    @staticmethod
    def _audio_init(fmt, sample_rate, frames, channels, timestamp):
        return _abi.MstAudioDataInit(format=SAMPLE_FORMATS[fmt], sample_rate=sample_rate,
                                     number_of_frames=frames, number_of_channels=channels,
                                     timestamp=timestamp)

    @classmethod
    def from_numpy(cls, data, sample_rate, timestamp, planar=False):
        """A new chunk holding a copy of `data`, a (frames, channels) array of uint8, int16,
        int32 or float32 samples (a 1-D array is one channel; the dtype gives the sample
        format); planar=True stores it in the planar variant of the format."""
        buf, fmt, frames, channels = cls._array(data, planar, wrap=False)
        init = cls._audio_init(fmt, sample_rate, frames, channels, timestamp)
        return cls(_out_handle("mst_frame_create_audio", C.byref(init), buf.ctypes.data,
                               buf.nbytes))

    @classmethod
    def wrap_numpy(cls, data, sample_rate, timestamp, planar=False):
        """As from_numpy, without copying: `data` must be C-contiguous (with planar=True, the
        transpose of a C-contiguous (channels, frames) array). The chunk holds the array until
        libmst lets go of the media; do not write to it until then."""
        buf, fmt, frames, channels = cls._array(data, planar, wrap=True)
        init = cls._audio_init(fmt, sample_rate, frames, channels, timestamp)
        return cls(_wrap("mst_frame_wrap_audio", init, buf, buf.nbytes))


def _fourcc(code):
    """A V4L2 fourcc as libmst takes it: "YUYV" -> a | b << 8 | c << 16 | d << 24."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    raw = code.encode("ascii") if isinstance(code, str) else bytes(code)
    if len(raw) != 4:
        raise ValueError(f"a V4L2 pixel format is four characters, such as 'YUYV'; got {code!r}")
    return int.from_bytes(raw, "little")


_callbacks = _Registry()


# An exception a callback raises is not caught in these trampolines: ctypes reports it
# through sys.unraisablehook and returns to libmst, so nothing unwinds into C.
def _ended_trampoline(token, reason):
    callback = _callbacks.get(token)
    if callback is not None:
        callback(reason)


def _mute_trampoline(token, muted):
    callback = _callbacks.get(token)
    if callback is not None:
        callback(bool(muted))


def _frame_trampoline(token, frame):
    callback = _callbacks.get(token)
    if frame is None:  # the end
        if callback is not None:
            callback(None)
        return
    with Frame._wrap(frame) as owned:  # the callback's to use; clone() keeps one
        if callback is not None:
            callback(owned)


# For the life of the process: libmst calls them from any thread until destroy-notify.
_FRAME = C.CFUNCTYPE(None, C.c_void_p, C.c_void_p)(_frame_trampoline)
_ENDED = C.CFUNCTYPE(None, C.c_void_p, C.c_int32)(_ended_trampoline)
_MUTE = C.CFUNCTYPE(None, C.c_void_p, C.c_bool)(_mute_trampoline)
_FORGET = C.CFUNCTYPE(None, C.c_void_p)(_callbacks.forget)


class Track(_Handle):
    """A MediaStreamTrack. stop() ends it (the handle stays); free() releases it."""

    _free_fn = "mst_track_free"

    @classmethod
    def test_pattern(cls, width=0, height=0, frame_rate=0.0, format=0, unpaced=False,
                     frame_count=0):
        """Moving colour bars (mst_track_create_test_pattern); zeros take libmst's defaults."""
        opts = _abi.MstTestPatternOptions(
            width=width, height=height, frame_rate=frame_rate,
            format=_lookup(PIXEL_FORMATS, format, "pixel format"), unpaced=unpaced,
            frame_count=frame_count)
        return cls(_out_handle("mst_track_create_test_pattern", C.byref(opts)))

    @classmethod
    def tone(cls, sample_rate=0, channels=0, frequency=0.0, amplitude=0.0, format=0,
             chunk_frames=0, unpaced=False, chunk_count=0):
        """A sine tone (mst_track_create_tone); zeros take libmst's defaults (amplitude 0
        is the default 0.5)."""
        opts = _abi.MstToneOptions(
            sample_rate=sample_rate, channels=channels, frequency=frequency,
            amplitude=amplitude, format=_lookup(SAMPLE_FORMATS, format, "sample format"),
            chunk_frames=chunk_frames, unpaced=unpaced, chunk_count=chunk_count)
        return cls(_out_handle("mst_track_create_tone", C.byref(opts)))

    @classmethod
    def camera(cls, device_id=None, constraints=None, *, pixel_format=None, **keywords):
        """getUserMedia({video}) for one V4L2 camera: `device_id` from enumerate_devices()
        (kind "videoinput"; None = the first camera). Constraints as apply_constraints()
        takes them pick the device's closest mode; what the mode does not meet the track's
        crop-and-scale and decimation serve. pixel_format limits the modes to one V4L2 fourcc
        ("YUYV", "MJPG", ...). Raises mst.NoDevice (no such camera), mst.Busy,
        mst.Overconstrained (.constraint names the property)."""
        struct = _constraints.video_struct(_constraints.merge(constraints, keywords))
        options = _abi.MstCameraOptions(pixel_format=_fourcc(pixel_format))
        device = None if device_id is None else os.fsencode(device_id)
        return cls(_out_handle("mst_track_create_camera", device, C.byref(struct),
                               C.byref(options)))

    @classmethod
    def microphone(cls, device_id=None, constraints=None, **keywords):
        """getUserMedia({audio}) for one ALSA capture device: `device_id` from
        enumerate_devices() (kind "audioinput"), or any ALSA PCM name; None = "default".
        Constraints sampleRate, channelCount, sampleSize (a number = ideal, or a dict of
        min/max/exact/ideal) choose the hardware parameters. The track delivers 10 ms chunks.
        Raises mst.NoDevice, mst.Busy, mst.Overconstrained (.constraint names the
        property)."""
        struct = _constraints.audio_struct(_constraints.merge(constraints, keywords))
        device = None if device_id is None else os.fsencode(device_id)
        return cls(_out_handle("mst_track_create_microphone", device, C.byref(struct)))

    def _get(self, what, ctype):
        out = ctype()
        call(f"mst_track_get_{what}", self, C.byref(out))
        return out.value

    @property
    def kind(self):
        return {VIDEO: "video", AUDIO: "audio"}[self._get("kind", C.c_int32)]

    @property
    def id(self):
        return self._get("id", C.c_char_p).decode()

    @property
    def label(self):
        return self._get("label", C.c_char_p).decode()

    @property
    def enabled(self):
        return self._get("enabled", C.c_bool)

    @enabled.setter
    def enabled(self, value):
        call("mst_track_set_enabled", self, bool(value))

    @property
    def muted(self):
        return self._get("muted", C.c_bool)

    @property
    def content_hint(self):
        return self._get("content_hint", C.c_char_p).decode()

    @content_hint.setter
    def content_hint(self, hint):
        call("mst_track_set_content_hint", self, hint.encode())

    @property
    def ready_state(self):
        return {_abi.MST_READY_STATE_LIVE: "live",
                _abi.MST_READY_STATE_ENDED: "ended"}[self._get("ready_state", C.c_int32)]

    @property
    def end_reason(self):
        """An MST_END_REASON_* value (mst.END_REASON_NONE while live)."""
        return self._get("end_reason", C.c_int32)

    def get_settings(self):
        """getSettings(): a dict of what the latest frame had (width, height, frameRate,
        aspectRatio, resizeMode for video; sampleRate, channelCount, sampleSize for audio);
        empty before the first frame."""
        out = _abi.MstSettings()
        call("mst_track_get_settings", self, C.byref(out))
        return _constraints.settings_dict(out)

    def get_capabilities(self):
        """getCapabilities(): {"width": {"min": .., "max": ..}, "height": .., "frameRate": ..,
        "aspectRatio": .., "resizeMode": ["none", "crop-and-scale"]} for a video track; an
        audio track has none ({})."""
        out = _abi.MstCapabilities()
        call("mst_track_get_capabilities", self, C.byref(out))
        return _constraints.capabilities_dict(out)

    def get_constraints(self):
        """getConstraints(): the constraints last applied, each as a dict of min, max, exact
        and ideal (resizeMode as its name)."""
        out = _abi.MstVideoConstraints()
        call("mst_track_get_constraints", self, C.byref(out))
        return _constraints.video_dict(out)

    def apply_constraints(self, constraints=None, **keywords):
        """applyConstraints() on a video track: width, height, frameRate, aspectRatio (a number
        = ideal, or a dict of min/max/exact/ideal) and resizeMode ("none" or
        "crop-and-scale"), as a dict or keywords; {} removes them. The next frames follow
        them (crop-and-scale, frame-rate decimation). A constraint the capabilities cannot
        meet raises mst.Overconstrained naming it (.constraint) and changes nothing, as does
        any constraint on an audio track."""
        struct = _constraints.video_struct(_constraints.merge(constraints, keywords))
        call("mst_track_apply_constraints", self, C.byref(struct))

    @property
    def camera_stats(self):
        """A camera track's capture counters: last_sequence, frames, dropped, out_of_order,
        zero_copy, over_budget, held, lost_buffers (mst.WrongType on another track)."""
        out = _abi.MstCameraStats()
        call("mst_track_get_camera_stats", self, C.byref(out))
        return Stats.of(out)

    @property
    def capture_stats(self):
        """A microphone track's counters: chunks, frames, overruns (mst.WrongType on another
        track)."""
        out = _abi.MstCaptureStats()
        call("mst_track_get_capture_stats", self, C.byref(out))
        return Stats.of(out)

    def _set_callback(self, fn, trampoline, callback):
        if callback is None:
            call(fn, self, None, None, None)
            return
        if not callable(callback):
            raise TypeError(f"the callback must be callable or None, not {callback!r}")
        self._as_parameter_  # a freed track raises here, before libmst holds anything
        # libmst gives the token back through _FORGET once it is done with the callback
        # (replaced, fired, the track gone, or the call failed).
        call(fn, self, trampoline, C.c_void_p(_callbacks.hold(callback)), _FORGET)

    def _before_exit(self):
        self.on_ended(None)
        self.on_mute(None)

    def on_ended(self, callback):
        """The ended event: `callback(end_reason)` runs once when the track ends (not if it
        has ended already), on the thread that ends it (the caller of stop(), a generator's
        close(), or a source's thread). None removes it. The package holds the callback until
        libmst is done with it; an exception it raises goes to sys.unraisablehook."""
        self._set_callback("mst_track_set_ended_callback", _ENDED, callback)

    def on_mute(self, callback):
        """The mute and unmute events: `callback(muted)` once per change of the track's muted
        state, on the thread that changes it. None removes it. As on_ended otherwise."""
        self._set_callback("mst_track_set_mute_callback", _MUTE, callback)

    def stop(self):
        call("mst_track_stop", self)

    def set_reacquire(self, timeout):
        """A camera or microphone track (and its clones) outlives its device being unplugged:
        muted while the device is gone, it goes on when the same device (by identity, not its
        node number) is back, opened with the constraints last applied (a camera's controls
        set by apply_constraints included). `timeout` in seconds: how long
        the device may stay away before the track ends with END_REASON_DEVICE_LOST; None waits
        until the track is stopped; 0 turns it off (the default)."""
        if timeout is None:
            ms = _abi.MST_REACQUIRE_FOREVER
        else:
            if timeout < 0:
                raise ValueError(f"a reacquire timeout cannot be negative: {timeout!r}")
            ms = min(int(round(timeout * 1000)), _abi.MST_REACQUIRE_FOREVER - 1)
            if timeout > 0:
                ms = max(ms, 1)
        call("mst_track_set_reacquire", self, ms)

    def clone(self):
        return Track(_out_handle("mst_track_clone", self))


class Processor(_Handle):
    """A MediaStreamTrackProcessor on `track`: read() frames, or iterate until the track
    ends. max_buffer_size 0 = libmst's default; latest_only: each read gets the newest frame
    (MST_PROCESSOR_LATEST_ONLY)."""

    _free_fn = "mst_processor_free"
    # Iteration waits in slices this long, so Ctrl-C (handled between C calls) gets through.
    _SLICE_MS = 200

    def __init__(self, track, max_buffer_size=0, latest_only=False):
        opts = _abi.MstProcessorOptions(
            max_buffer_size=max_buffer_size,
            flags=_abi.MST_PROCESSOR_LATEST_ONLY if latest_only else 0)
        super().__init__(_out_handle("mst_processor_create", track, C.byref(opts)))

    def read(self, timeout=None):
        """The next frame (the caller owns it: free it, or use `with`). timeout in seconds:
        None waits until a frame or the end; 0 does not wait (mst.Again). Raises mst.Ended
        after the end, mst.Timeout when the timeout passes."""
        ms = -1 if timeout is None else max(0, min(int(timeout * 1000), 2**31 - 1))
        return Frame._wrap(_out_handle("mst_processor_read", self, ms))

    def __iter__(self):
        return self

    def __next__(self):
        out = C.c_void_p()
        while True:
            status = lib.mst_processor_read(self._as_parameter_, self._SLICE_MS, C.byref(out))
            if status == _abi.MST_ERR_TIMEOUT:
                continue
            if status == _abi.MST_ERR_ENDED:
                raise StopIteration
            check(status, "mst_processor_read")
            return Frame._wrap(out.value)

    @property
    def stats(self):
        """The processor's counters (total, delivered, discarded, queued, ... as
        MstProcessorStats)."""
        out = _abi.MstProcessorStats()
        call("mst_processor_get_stats", self, C.byref(out))
        return Stats.of(out)

    def fileno(self):
        """A file descriptor readable while a frame or the end is ready, for select,
        selectors or asyncio's add_reader: then read(timeout=0) (mst.Again if another reader
        was faster). It belongs to the processor: do not read or close it."""
        fd = C.c_int()
        call("mst_processor_get_fd", self, C.byref(fd))
        return fd.value

    def _before_exit(self):
        self.set_callback(None)

    def set_callback(self, callback):
        """Callback mode: libmst's thread "mst-processor-cb" reads every frame and calls
        `callback(frame)`, then `callback(None)` once when the processor ends. The frame is
        freed when the callback returns (frame.clone() keeps one). While a callback is set,
        read() raises mst.InvalidState; None stops the thread (waiting for a running call)
        and turns reads back on. An exception the callback raises goes to
        sys.unraisablehook; the next frame still comes."""
        if callback is None:
            call("mst_processor_set_callback", self, None, None, None)
            return
        if not callable(callback):
            raise TypeError(f"the callback must be callable or None, not {callback!r}")
        self._as_parameter_  # a freed processor raises here, before libmst holds anything
        call("mst_processor_set_callback", self, _FRAME, C.c_void_p(_callbacks.hold(callback)),
             _FORGET)

    def wakeup(self):
        call("mst_processor_wakeup", self)

    def close(self):
        """Disconnects from the track (the spec's cancel); reads then end."""
        call("mst_processor_close", self)


class Generator(_Handle):
    """A MediaStreamTrackGenerator of `kind` ("video" or "audio"). `track` is its track
    (freed with the generator); write() frames to it."""

    _free_fn = "mst_generator_free"

    def __init__(self, kind):
        super().__init__(_out_handle("mst_generator_create", _kind(kind)))
        self.track = Track(_out_handle("mst_generator_get_track", self))
        self.kind = self.track.kind

    def write(self, data, *, timestamp=None, format=None, duration=0, sample_rate=None,
              planar=False, copy=True):
        """Writes a frame, or a numpy array made into one.

        A Frame is written as it is, and libmst then closes it (the Python object still holds
        the handle, freed with it). A rejected write raises mst.WrongType and errors the
        writable.

        An array needs timestamp= (microseconds). For a video generator, format= names the
        pixel format and decides the shape (as VideoFrame.from_numpy): (height, width, 4)
        uint8 for RGBA/RGBX/BGRA/BGRX, (height * 3 / 2, width) uint8 for I420 and NV12, or a
        tuple of planes; duration= is optional. For an audio generator, a (frames, channels)
        array of uint8, int16, int32 or float32 (the dtype is the sample format; 1-D = mono)
        with sample_rate=; planar=True stores it planar. copy=False wraps the array instead
        of copying it (VideoFrame/AudioData.wrap_numpy: the array is held until libmst lets
        go of the frame and must not be written to until then). A wrong shape, dtype or
        layout raises ValueError, a missing or misplaced argument TypeError, before libmst is
        called."""
        if isinstance(data, Frame):
            if (timestamp, format, duration, sample_rate, planar, copy) != \
                    (None, None, 0, None, False, True):
                raise TypeError("a Frame carries its own timestamp, format and data: the "
                                "keyword arguments are for arrays")
            call("mst_generator_write", self, data)
            return
        if timestamp is None:
            raise TypeError("writing an array needs timestamp= (microseconds)")
        if self.kind == "video":
            if format is None:
                raise TypeError("writing a video array needs format= (RGBA, RGBX, BGRA, BGRX, "
                                "I420, NV12, ...): it decides the array's shape")
            if sample_rate is not None or planar:
                raise TypeError("sample_rate and planar are for an audio generator")
            make = VideoFrame.from_numpy if copy else VideoFrame.wrap_numpy
            frame = make(data, format, timestamp, duration)
        else:
            if sample_rate is None:
                raise TypeError("writing an audio array needs sample_rate=")
            if format is not None or duration:
                raise TypeError("an audio array's dtype is its format, and its length its "
                                "duration: format= and duration= are for video")
            make = AudioData.from_numpy if copy else AudioData.wrap_numpy
            frame = make(data, sample_rate, timestamp, planar)
        with frame:
            call("mst_generator_write", self, frame)

    def close(self):
        """closeWritable: the tracks end."""
        call("mst_generator_close", self)

    @property
    def state(self):
        out = C.c_int32()
        call("mst_generator_get_state", self, C.byref(out))
        return {_abi.MST_WRITABLE_STATE_WRITABLE: "writable", _abi.MST_WRITABLE_STATE_CLOSED:
                "closed", _abi.MST_WRITABLE_STATE_ERRORED: "errored"}[out.value]

    @property
    def muted(self):
        out = C.c_bool()
        call("mst_generator_get_muted", self, C.byref(out))
        return out.value

    @muted.setter
    def muted(self, value):
        call("mst_generator_set_muted", self, bool(value))

    def free(self):
        if getattr(self, "track", None) is not None:
            self.track.free()
        super().free()
