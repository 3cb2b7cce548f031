"""Sinks: Y4M and WAV files parsed back, ALSA playback into a file PCM (conftest.py), and the
clean failures of devices the host does not have."""
import re
import wave

import numpy as np
import pytest

import mst
from conftest import PLAY_FILE, wait_until
from test_video import pattern


def read_y4m(path):
    """(header fields, [frame bytes]) of a Y4M file."""
    data = path.read_bytes()
    header, rest = data.split(b"\n", 1)
    assert header.startswith(b"YUV4MPEG2 ")
    fields = dict((f[:1].decode(), f[1:].decode()) for f in header.split()[1:])
    w, h = int(fields["W"]), int(fields["H"])
    size = w * h * 3 // 2
    frames = []
    while rest:
        assert rest.startswith(b"FRAME"), rest[:16]
        body = rest[rest.index(b"\n") + 1:]
        assert len(body) >= size, "a truncated frame"
        frames.append(body[:size])
        rest = body[size:]
    return fields, frames


def test_a_test_pattern_recorded_to_y4m_reads_back_frame_by_frame(tmp_path):
    w, h, count = 64, 48, 5
    path = tmp_path / "pattern.y4m"
    with mst.Track.test_pattern(width=w, height=h, frame_rate=25, unpaced=True,
                                frame_count=count) as track, \
            mst.FileSink(track, path) as sink:
        wait_until(lambda: track.ready_state == "ended", "the pattern to end")
        sink.stop()  # the track ended first: everything it delivered is in the file
        stats = sink.stats  # the handle outlives stop(): the final counts
        assert (stats.frames_written, stats.frames_dropped) == (count, 0)
        assert stats.bytes_written == path.stat().st_size
    assert sink.freed
    with pytest.raises(mst.InvalidState):
        sink.stats
    fields, frames = read_y4m(path)
    assert (fields["W"], fields["H"], fields["F"], fields["C"]) == ("64", "48", "25:1", "420jpeg")
    assert len(frames) == count
    for n, frame in enumerate(frames):
        y, u, v = pattern(n, w, h)
        got = np.frombuffer(frame, np.uint8)
        np.testing.assert_array_equal(got[:w * h].reshape(h, w), y)
        np.testing.assert_array_equal(got[w * h:w * h * 5 // 4].reshape(h // 2, w // 2), u)
        np.testing.assert_array_equal(got[w * h * 5 // 4:].reshape(h // 2, w // 2), v)


def test_a_tone_recorded_to_wav_reads_back(tmp_path):
    path = tmp_path / "tone.wav"
    with mst.Track.tone(sample_rate=16000, channels=2, frequency=500, amplitude=0.5,
                        format="S16", unpaced=True, chunk_count=10) as track:
        sink = mst.FileSink(track, str(path))
        wait_until(lambda: track.ready_state == "ended", "the tone to end")
        sink.stop()
        assert sink.stats.frames_written == 10
        sink.free()
        sink.free()  # twice does nothing
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 2, 2)
        assert wav.getnframes() == 10 * 160
        samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)
    t = np.arange(len(samples)) / 16000
    want = np.sin(2 * np.pi * 500 * t) * 0.5 * 32767
    assert np.abs(samples[:, 0] - want).max() <= 1.5
    np.testing.assert_array_equal(samples[:, 0], samples[:, 1])


def test_a_file_that_cannot_be_created_is_an_io_error_naming_it(tmp_path):
    path = tmp_path / "no-such-dir" / "x.wav"
    with mst.Track.tone() as track, pytest.raises(mst.IOFailure) as e:
        mst.FileSink(track, path)
    assert str(path) in e.value.message


def test_playback_writes_exactly_the_tracks_samples():
    rng = np.random.default_rng(3)
    chunks = [rng.integers(-32768, 32768, (480, 2), dtype=np.int16) for _ in range(20)]
    with mst.Generator("audio") as gen, mst.AudioPlayback(gen.track, "mst_py_play") as playback:
        for n, chunk in enumerate(chunks):
            gen.write(chunk, timestamp=n * 10_000, sample_rate=48000)
        gen.close()  # the track ends: stop() plays out what it delivered
        playback.stop()
        stats = playback.stats
        assert stats.frames_played >= 20 * 480 and stats.chunks_rejected == 0
    played = np.frombuffer(PLAY_FILE.read_bytes(), "<i2").reshape(-1, 2)
    np.testing.assert_array_equal(played[:20 * 480], np.concatenate(chunks))


def test_playback_and_video_output_fail_cleanly_without_the_device():
    with mst.Track.tone() as tone, mst.Track.test_pattern() as video:
        with pytest.raises(mst.NoDevice) as e:
            mst.AudioPlayback(tone, "mst_py_no_such_pcm")
        assert "mst_py_no_such_pcm" in e.value.message
        with pytest.raises(mst.WrongType):
            mst.AudioPlayback(video, "mst_py_play")
        with pytest.raises(mst.WrongType):
            mst.VideoOutput(tone)
        with pytest.raises(mst.NoDevice) as e:
            mst.VideoOutput(video, "v4l2:platform:no-such-output:1")
        assert "no-such-output" in e.value.message
        if not mst.enumerate_devices("videooutput"):
            with pytest.raises(mst.NoDevice, match=re.compile("output", re.I)):
                mst.VideoOutput(video)
