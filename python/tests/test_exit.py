"""A program may exit with libmst's threads still running callbacks into Python: the package
removes them while the interpreter still runs (a thread that takes the GIL during finalisation
is ended by Python, and the process then aborts unwinding through libmst)."""
import subprocess
import sys

SCRIPT = r'''
import sys, time
import numpy as np
import mst

mst.set_log_callback(lambda *m: None)
pattern = mst.Track.test_pattern(width=64, height=48)
processor = mst.Processor(pattern)
processor.set_callback(lambda frame: time.sleep(0.001))
pattern.on_ended(lambda reason: None)
recording = mst.FileSink(pattern.clone(), sys.argv[1] + "/pattern.y4m")
gen = mst.Generator("video")
gen.track.on_mute(lambda muted: None)
wrapped = mst.FileSink(gen.track, sys.argv[1] + "/wrapped.y4m")
tone = mst.Track.tone()
playback = mst.AudioPlayback(tone, "null")
image = np.zeros((48, 64, 4), np.uint8)
for n in range(20):
    gen.write(image, timestamp=n * 33_333, format="RGBA", copy=False)
    time.sleep(0.005)
print("leaving everything running")
'''


def test_exiting_with_callbacks_and_sinks_running_is_clean(tmp_path):
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                             text=True, timeout=120)
        assert (out.returncode, out.stdout, out.stderr) == (0, "leaving everything running\n", "")
