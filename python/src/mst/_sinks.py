"""Where a track's frames go besides a processor: a Y4M/WAV file, an ALSA output, a V4L2
output node. Each runs on a libmst thread fed by its own processor, so a slow disk or device
drops frames (counted in `stats`) and never stalls the track's source.

stop() ends the activity (finishing the file, playing out an ended track) and keeps the
handle, whose `stats` then give the final counts; free() (and `with`) releases it, stopping
first. stop() raises the error that stopped the sink early, if one did; free() does not.
"""
import ctypes as C
import os

from . import _abi
from ._core import Stats, _Handle, _out_handle
from .errors import call


def _device(device_id):
    return None if device_id is None else os.fsencode(device_id)


class _Sink(_Handle):
    _stop_fn = _stats_fn = _stats_struct = None

    def _before_exit(self):
        self.free()

    def stop(self):
        call(self._stop_fn, self)

    @property
    def stats(self):
        out = self._stats_struct()
        call(self._stats_fn, self, C.byref(out))
        return Stats.of(out)


class FileSink(_Sink):
    """Records `track` to `path`: a video track as Y4M (I420 at the first frame's size), an
    audio track as WAV (the first chunk's rate, channels and sample format). stop() writes
    what is queued and completes the file. stats: frames_written, frames_dropped,
    bytes_written."""

    _free_fn, _stop_fn, _stats_fn = "mst_file_sink_free", "mst_file_sink_stop", \
        "mst_file_sink_get_stats"
    _stats_struct = _abi.MstFileStats

    def __init__(self, track, path):
        super().__init__(_out_handle("mst_file_sink_open", track, os.fsencode(path)))


class AudioPlayback(_Sink):
    """Plays an audio `track` on the ALSA output `device_id` (None = "default"; any ALSA PCM
    name works; a "hw:" device plays only its native rates, "plughw:" resamples). stop() on an
    ended track plays out what it delivered first. stats: frames_played, underruns,
    chunks_dropped, chunks_rejected."""

    _free_fn, _stop_fn, _stats_fn = "mst_audio_playback_free", "mst_audio_playback_stop", \
        "mst_audio_playback_get_stats"
    _stats_struct = _abi.MstAudioPlaybackStats

    def __init__(self, track, device_id=None):
        super().__init__(_out_handle("mst_audio_playback_open", track, _device(device_id)))


class VideoOutput(_Sink):
    """Writes a video `track` to the V4L2 output node `device_id` (None = the first output
    node), a virtual camera for other programs. stats: status (0, or the MstStatus that
    stopped it early), frames_written, frames_dropped, width, height, fourcc (a str such as
    "YU12"; "" before the first frame)."""

    _free_fn, _stop_fn, _stats_fn = "mst_video_output_free", "mst_video_output_stop", \
        "mst_video_output_get_stats"
    _stats_struct = _abi.MstVideoOutputStats

    def __init__(self, track, device_id=None):
        super().__init__(_out_handle("mst_video_output_open", track, _device(device_id)))

    @property
    def stats(self):
        stats = super().stats
        stats.fourcc = stats.fourcc.to_bytes(4, "little").decode("latin-1").rstrip("\0")
        return stats
