"""libmst from Python: MediaStreamTrack processors and generators with numpy frames, devices
(enumerate_devices, Track.camera, Track.microphone, FakeDevice), constraints in the spec's names, sinks
(FileSink, AudioPlayback, VideoOutput) and the library's log (set_log_callback).

    import mst
    with mst.Track.test_pattern(width=320, height=180) as track, mst.Processor(track) as p:
        for frame in p:
            with frame:
                rgba = frame.to_rgba()          # (180, 320, 4) uint8, converted by libmst
                y, u, v = frame.planes()        # zero-copy read-only views
            break

The library is found through $MST_LIB (a path to libmst.so), pkg-config's `mst` libdir,
then the dynamic loader. Failures raise mst.Error subclasses carrying .status and .message
(mst_last_error_message()).
"""
import ctypes as _C

# The package's version, the crate's (Cargo.toml) and pyproject.toml's: tests/test_version.py
# keeps the three equal.
__version__ = "1.3.0"

from . import _abi
from ._core import (AUDIO, PIXEL_FORMATS, SAMPLE_FORMATS, VIDEO, AudioData, Frame, Generator,
                    Processor, Stats, Track, VideoFrame)
from ._devices import DeviceInfo, enumerate_devices, set_device_change_callback
from ._fake import FakeDevice, Fault
from ._lib import lib
from ._log import LogLevel, log_to_logging, set_log_callback, set_log_level
from ._sinks import AudioPlayback, FileSink, VideoOutput
from .errors import (Again, Busy, Ended, Error, Interrupted, InvalidArg, InvalidState,
                     IOFailure, NoDevice, NoMemory, NullArg, Overconstrained, Panic, RangeError,
                     Timeout, Unsupported, WrongType, call as _call)

END_REASON_NONE = _abi.MST_END_REASON_NONE
END_REASON_STOPPED = _abi.MST_END_REASON_STOPPED
END_REASON_SOURCE_ENDED = _abi.MST_END_REASON_SOURCE_ENDED
END_REASON_WRITABLE_CLOSED = _abi.MST_END_REASON_WRITABLE_CLOSED
END_REASON_DEVICE_LOST = _abi.MST_END_REASON_DEVICE_LOST
END_REASON_ERROR = _abi.MST_END_REASON_ERROR


def version():
    """The loaded libmst's version string (mst_version())."""
    return lib.mst_version().decode()


def set_kernel_threads(threads):
    """How many threads libmst's pixel kernels may use: 1 or 2 (the default); results are
    identical either way. Other values raise mst.RangeError."""
    _call("mst_set_kernel_threads", threads)


def get_kernel_threads():
    out = _C.c_uint32()
    _call("mst_get_kernel_threads", _C.byref(out))
    return out.value


__all__ = [
    "AUDIO", "VIDEO", "PIXEL_FORMATS", "SAMPLE_FORMATS", "AudioData", "Frame", "Generator",
    "Processor", "Stats", "Track", "VideoFrame", "DeviceInfo", "enumerate_devices",
    "set_device_change_callback",
    "AudioPlayback", "FileSink", "VideoOutput", "LogLevel", "log_to_logging",
    "set_log_callback", "set_log_level", "set_kernel_threads", "get_kernel_threads",
    "Error", "Again", "Busy", "Ended", "Interrupted",
    "InvalidArg", "InvalidState", "IOFailure", "NoDevice", "NoMemory", "NullArg",
    "Overconstrained", "Panic", "RangeError", "Timeout", "Unsupported", "WrongType", "version",
    "END_REASON_NONE", "END_REASON_STOPPED", "END_REASON_SOURCE_ENDED",
    "END_REASON_WRITABLE_CLOSED", "END_REASON_DEVICE_LOST", "END_REASON_ERROR",
]
