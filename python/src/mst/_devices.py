"""Device enumeration (mst_devices_enumerate): MediaDevices.enumerateDevices() for the
machine's cameras, microphones, speakers and V4L2 outputs."""
import atexit
import ctypes as C
import dataclasses

from . import _abi
from ._core import _FORGET, _Handle, _callbacks, _out_handle
from ._lib import lib
from .errors import call

KINDS = {_abi.MST_DEVICE_KIND_AUDIO_INPUT: "audioinput",
         _abi.MST_DEVICE_KIND_AUDIO_OUTPUT: "audiooutput",
         _abi.MST_DEVICE_KIND_VIDEO_INPUT: "videoinput",
         _abi.MST_DEVICE_KIND_VIDEO_OUTPUT: "videooutput"}


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """One device (the spec's MediaDeviceInfo): `kind` is the spec's MediaDeviceKind
    ("audioinput", "audiooutput", "videoinput"), or libmst's "videooutput" for a V4L2 output
    node. Pass `device_id` to Track.camera ("videoinput"), Track.microphone ("audioinput"),
    AudioPlayback ("audiooutput") or VideoOutput ("videooutput"). Plain data: it holds no
    libmst handle."""
    device_id: str
    kind: str
    label: str
    group_id: str


class _DeviceList(_Handle):
    _free_fn = "mst_device_list_free"


def enumerate_devices(kind=None):
    """The devices present now, as DeviceInfo: audio inputs, audio outputs, video inputs,
    video outputs (ALSA's "default" PCM is listed even with no sound card). `kind` keeps only
    devices of that kind."""
    if kind is not None and kind not in KINDS.values():
        raise ValueError(f"unknown device kind {kind!r}; known: {', '.join(KINDS.values())}")
    with _DeviceList(_out_handle("mst_devices_enumerate")) as devices:
        count = C.c_size_t()
        call("mst_device_list_get_count", devices, C.byref(count))
        out = []
        for i in range(count.value):
            info = _abi.MstDeviceInfo()
            call("mst_device_list_get_device", devices, i, C.byref(info))
            # Copied out before the list (which owns the strings) is freed.
            out.append(DeviceInfo(info.device_id.decode(), KINDS.get(info.kind, info.kind),
                                  info.label.decode(), info.group_id.decode()))
    return [d for d in out if kind is None or d.kind == kind]


def _device_change(token):
    callback = _callbacks.get(token)
    if callback is not None:
        # An exception goes to sys.unraisablehook (ctypes) and libmst carries on.
        callback()


# For the life of the process: at exit the callback is removed first (below).
_DEVICE_CHANGE = C.CFUNCTYPE(None, C.c_void_p)(_device_change)


def set_device_change_callback(callback):
    """Calls `callback()` each time the set of devices enumerate_devices() lists changes (the
    spec's `devicechange` event): a camera or sound card arrives or leaves, a fake device is
    added, unplugged or freed. It says nothing about what changed: enumerate again. It runs on
    libmst's device-watcher thread, one call at a time; it may call mst, this function
    included. None removes it (the default); when this returns, the previous callback is not
    running on another thread and is never called again. The package keeps the callback
    alive until it is replaced."""
    if callback is None:
        call("mst_set_device_change_callback", None, None, None)
        return
    if not callable(callback):
        raise TypeError(f"the device-change callback must be callable or None, not {callback!r}")
    # libmst gives the token back through _FORGET when it lets the callback go (or the call
    # fails).
    call("mst_set_device_change_callback", _DEVICE_CHANGE, C.c_void_p(_callbacks.hold(callback)), _FORGET)


@atexit.register
def _no_device_changes_at_exit():
    """The watcher thread must not call into the interpreter while it finalises."""
    try:
        lib.mst_set_device_change_callback(None, None, None)
    except Exception:
        pass
