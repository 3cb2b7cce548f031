"""ALSA without a sound card, for the whole session: alsa-lib's `file` plugin over its `null`
plugin (as tests/alsa_host.rs does). alsa-lib reads ALSA_CONFIG_PATH when it first loads its
configuration, so it is set here, before any test runs; the stock alsa.conf stays first in the
path (it defines "null").

  mst_py_capture  a capture PCM returning CAPTURE_FILE: S16 stereo at 48 kHz whose frame i
                  holds i >> 16 (left) and i & 0xffff (right), so a chunk says where it came
                  from. 60 s long: the null slave has no clock and reading past the end gives
                  garbage.
  mst_py_play     a playback PCM writing exactly what it gets to PLAY_FILE.
  mst_py_full     a playback PCM writing to /dev/full: every write fails, and alsa-lib says so
                  (a warning) on the thread that writes, libmst's playback thread.
"""
import os
import pathlib
import shutil
import tempfile
import time

import numpy as np

RATE = 48000
CAPTURE_FRAMES = 60 * RATE
ALSA_DIR = pathlib.Path(tempfile.mkdtemp(prefix="mst-python-alsa-"))
CAPTURE_FILE = ALSA_DIR / "capture.raw"
PLAY_FILE = ALSA_DIR / "play.raw"


def _setup_alsa():
    index = np.arange(CAPTURE_FRAMES, dtype=np.uint32)
    frames = np.stack([(index >> 16).astype(np.uint16), (index & 0xffff).astype(np.uint16)], 1)
    CAPTURE_FILE.write_bytes(frames.astype("<u2").tobytes())
    (ALSA_DIR / "asound.conf").write_text(
        f'pcm.mst_py_capture {{ type file slave.pcm "null" file "/dev/null" '
        f'infile "{CAPTURE_FILE}" format "raw" }}\n'
        f'pcm.mst_py_play {{ type file slave.pcm "null" file "{PLAY_FILE}" format "raw" }}\n'
        'pcm.mst_py_full { type file slave.pcm "null" file "/dev/full" format "raw" }\n')
    os.environ["ALSA_CONFIG_PATH"] = \
        f"/usr/share/alsa/alsa.conf:{ALSA_DIR / 'asound.conf'}"


_setup_alsa()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(ALSA_DIR, ignore_errors=True)


def wait_until(condition, what, seconds=60):
    """Waits for `condition()`; the limit only guards against a hang (a busy machine is slow,
    not wrong)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.005)
