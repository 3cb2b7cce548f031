"""Device enumeration (mst_devices_enumerate): MediaDevices.enumerateDevices() for the
machine's cameras, microphones, speakers and V4L2 outputs."""
import ctypes as C
import dataclasses

from . import _abi
from ._core import _Handle, _out_handle
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
