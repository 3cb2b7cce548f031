"""Fake devices (mst_fake_device_*, libmst 1.2): a camera or microphone in this process's
device list, opened like a real one, that runs a script of faults."""
import ctypes as C
import dataclasses

from . import _abi
from ._core import SAMPLE_FORMATS, _fourcc, _Handle, _out_handle
from .errors import call

FAULTS = {"unplug": _abi.MST_FAULT_UNPLUG, "overrun": _abi.MST_FAULT_OVERRUN,
          "format-change": _abi.MST_FAULT_FORMAT_CHANGE, "stall": _abi.MST_FAULT_STALL,
          "read-error": _abi.MST_FAULT_READ_ERROR,
          "timestamp-jump": _abi.MST_FAULT_TIMESTAMP_JUMP,
          "damaged-mjpeg": _abi.MST_FAULT_DAMAGED_MJPEG}
DAMAGES = {None: 0, "truncated": _abi.MST_MJPEG_DAMAGE_TRUNCATED,
           "bad-huffman": _abi.MST_MJPEG_DAMAGE_BAD_HUFFMAN,
           "missing-eoi": _abi.MST_MJPEG_DAMAGE_MISSING_EOI,
           "junk-before-eoi": _abi.MST_MJPEG_DAMAGE_JUNK_BEFORE_EOI,
           "zero-length": _abi.MST_MJPEG_DAMAGE_ZERO_LENGTH}
PACINGS = {"lossless": _abi.MST_FAKE_PACING_LOSSLESS, "free": _abi.MST_FAKE_PACING_FREE,
           "real-time": _abi.MST_FAKE_PACING_REAL_TIME}


@dataclasses.dataclass(frozen=True)
class Fault:
    """One scripted fault (MstFault): `kind` is one of FAULTS' names; it hits frame (camera) or
    10 ms chunk (microphone) number `at`. `value` is the count (overrun, damaged-mjpeg), the
    microseconds (stall, timestamp-jump) or the errno (read-error). format-change takes
    width/height/pixel_format (a fourcc such as "NV12") or sample_rate/channels; 0 or None
    leaves a value unchanged."""
    kind: str
    at: int
    value: int = 0
    width: int = 0
    height: int = 0
    pixel_format: str = None
    sample_rate: int = 0
    channels: int = 0
    damage: str = None

    def _c(self):
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {sorted(FAULTS)}")
        if self.damage not in DAMAGES:
            raise ValueError(f"unknown MJPEG damage {self.damage!r}; one of "
                             f"{sorted(k for k in DAMAGES if k)}")
        return _abi.MstFault(kind=FAULTS[self.kind], at=self.at, value=self.value,
                             width=self.width, height=self.height,
                             pixel_format=_fourcc(self.pixel_format),
                             sample_rate=self.sample_rate, channels=self.channels,
                             damage=DAMAGES[self.damage])


class FakeDevice(_Handle):
    """A fake camera or microphone (mst_fake_device_add). `device_id` ("fake:NAME") opens it
    with Track.camera / Track.microphone; free() (or `with`) removes it from the list and ends
    its tracks with END_REASON_DEVICE_LOST. Deterministic by default (pacing "lossless": it
    waits for the slowest reader, frame n has timestamp n periods and carries n in
    capture_sequence and its first samples); "free" never waits, "real-time" runs at the
    frame rate. Fakes exist only in this process."""

    _free_fn = "mst_fake_device_free"

    @classmethod
    def camera(cls, name, *, width=640, height=480, pixel_format="YUYV", frame_rate=30.0,
               label=None, pacing="lossless", frame_count=0, faults=(), mjpeg_frames=()):
        """A fake camera; "MJPG" needs `mjpeg_frames` (bytes objects, copied), sent in turn."""
        init = cls._init(_abi.MST_DEVICE_KIND_VIDEO_INPUT, name, label, pacing, frame_count,
                         faults)
        init.width, init.height, init.frame_rate = width, height, frame_rate
        init.pixel_format = _fourcc(pixel_format)
        keep = [init._faults]
        if mjpeg_frames:
            frames = [bytes(f) for f in mjpeg_frames]
            ptrs = (C.c_char_p * len(frames))(*frames)
            sizes = (C.c_size_t * len(frames))(*(len(f) for f in frames))
            init.mjpeg_frames, init.mjpeg_sizes = C.addressof(ptrs), C.addressof(sizes)
            init.num_mjpeg_frames = len(frames)
            keep += [frames, ptrs, sizes]
        return cls._add(init, keep)

    @classmethod
    def microphone(cls, name, *, sample_rate=48000, channels=1, sample_format="S16",
                   label=None, pacing="lossless", frame_count=0, faults=()):
        """A fake microphone delivering 10 ms chunks of interleaved `sample_format`."""
        if sample_format not in SAMPLE_FORMATS:
            raise ValueError(f"unknown sample format {sample_format!r}; one of "
                             f"{sorted(SAMPLE_FORMATS)}")
        init = cls._init(_abi.MST_DEVICE_KIND_AUDIO_INPUT, name, label, pacing, frame_count,
                         faults)
        init.sample_rate, init.channels = sample_rate, channels
        init.sample_format = SAMPLE_FORMATS[sample_format]
        return cls._add(init, [init._faults])

    @staticmethod
    def _init(kind, name, label, pacing, frame_count, faults):
        if pacing not in PACINGS:
            raise ValueError(f"unknown pacing {pacing!r}; one of {sorted(PACINGS)}")
        script = [f._c() for f in faults]
        array = (_abi.MstFault * max(len(script), 1))(*script)
        init = _abi.MstFakeDeviceInit(kind=kind, name=name.encode(),
                                      label=label.encode() if label else None,
                                      pacing=PACINGS[pacing], frame_count=frame_count,
                                      faults=C.addressof(array) if script else None,
                                      num_faults=len(script))
        init._faults = array
        return init

    @classmethod
    def _add(cls, init, keep):
        # libmst copies the script and the frames: `keep` (what init points into) only has to
        # live through the call.
        device = cls(_out_handle("mst_fake_device_add", C.byref(init)))
        del keep
        return device

    @property
    def device_id(self):
        out = C.c_char_p()
        call("mst_fake_device_get_id", self, C.byref(out))
        return out.value.decode()

    def inject(self, fault):
        """Adds a Fault while the device runs (an `at` already past hits the next frame)."""
        call("mst_fake_device_inject", self, C.byref(fault._c()))
