"""Audio as (frames, channels) numpy arrays, through generators and processors."""
import numpy as np
import pytest

import mst


def test_audio_round_trip_through_a_generator_and_a_processor():
    rng = np.random.default_rng(3)
    chunks = [rng.uniform(-1, 1, (480, 2)).astype(np.float32) for _ in range(3)]
    with mst.Generator("audio") as gen, mst.Processor(gen.track, max_buffer_size=8) as processor:
        for i, samples in enumerate(chunks):
            with mst.AudioData.from_numpy(samples, 48000, i * 10_000) as chunk:
                gen.write(chunk)
        got = []
        for chunk in processor:
            got.append(chunk)
            if len(got) == 3:
                gen.close()  # ends the loop at MST_ERR_ENDED
        assert len(got) == 3
        for i, (chunk, samples) in enumerate(zip(got, chunks)):
            with chunk:
                info = chunk.info
                assert (chunk.format, info.sample_rate, info.number_of_frames,
                        info.number_of_channels, chunk.timestamp) == ("F32", 48000, 480, 2,
                                                                      i * 10_000)
                (view,) = chunk.planes()
                assert (view.shape, view.dtype, view.flags.writeable) == ((480, 2), np.float32,
                                                                          False)
                np.testing.assert_array_equal(view, samples)
                np.testing.assert_array_equal(chunk.to_numpy(), samples)
                s16 = chunk.to_numpy("S16")
                assert (s16.shape, s16.dtype) == ((480, 2), np.int16)
                assert np.abs(s16 / 32768.0 - samples).max() < 1e-3
                planar = chunk.to_numpy("F32_PLANAR")
                np.testing.assert_array_equal(planar, samples)


def test_planar_audio_gives_one_view_per_channel():
    samples = np.arange(200, dtype=np.int16).reshape(100, 2)
    with mst.AudioData.from_numpy(samples, 8000, 0, planar=True) as chunk:
        assert chunk.format == "S16_PLANAR"
        left, right = chunk.planes()
        np.testing.assert_array_equal(left, samples[:, 0])
        np.testing.assert_array_equal(right, samples[:, 1])
        np.testing.assert_array_equal(chunk.to_numpy(), samples)
        np.testing.assert_array_equal(chunk.to_numpy("S16"), samples)


def test_tone_samples_are_the_sine_asked_for():
    with mst.Track.tone(channels=2, frequency=1000, amplitude=0.25, unpaced=True,
                        chunk_count=3) as track, \
            mst.Processor(track, max_buffer_size=8) as processor:
        chunks = []
        for chunk in processor:
            with chunk:
                chunks.append(chunk.to_numpy())
    assert [c.shape for c in chunks] == [(480, 2)] * 3
    samples = np.concatenate(chunks)
    t = np.arange(len(samples)) / 48000
    want = (np.sin(2 * np.pi * 1000 * t) * 0.25).astype(np.float32)
    np.testing.assert_allclose(samples[:, 0], want, atol=1e-6)
    np.testing.assert_array_equal(samples[:, 0], samples[:, 1])


def test_bad_audio_arrays_are_refused():
    with pytest.raises(ValueError, match="float32"):
        mst.AudioData.from_numpy(np.zeros((4, 2), np.float64), 48000, 0)
    with pytest.raises(mst.InvalidArg) as e:
        mst.AudioData.from_numpy(np.zeros((4, 2), np.float32), -1, 0)
    assert e.value.status == -11 and "rate" in e.value.message
