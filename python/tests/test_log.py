"""The log: silent by default; alsa-lib's messages reach the Python callback, from the
caller's thread and from libmst's own; the callback is kept alive by the package; an exception
in it goes to sys.unraisablehook and libmst carries on."""
import gc
import logging
import threading
import weakref

import pytest

import mst
from conftest import wait_until

PCM = "mst_py_log_no_such_pcm"


@pytest.fixture(autouse=True)
def quiet_afterwards():
    yield
    mst.set_log_callback(None)
    mst.set_log_level("warning")


def open_unknown_pcm():
    with pytest.raises(mst.NoDevice):
        mst.Track.microphone(PCM)


def thread_name(native_id):
    with open(f"/proc/self/task/{native_id}/comm") as f:
        return f.read().strip()


class Recorder:
    def __init__(self):
        self.messages = []

    def __call__(self, level, origin, message):
        native = threading.get_native_id()
        self.messages.append((level, origin, message, native, thread_name(native)))


def test_alsa_libs_message_reaches_the_callback_as_a_warning():
    got = Recorder()
    mst.set_log_callback(got)
    open_unknown_pcm()
    assert got.messages, "no message for an unknown PCM"
    level, origin, message, native, _ = got.messages[0]
    assert (level, origin) == (mst.LogLevel.WARNING, "alsa-lib")
    assert isinstance(level, mst.LogLevel)
    assert PCM in message and "\n" not in message
    assert native == threading.get_native_id()  # logged on the calling thread


def test_the_level_filters_and_none_silences():
    got = Recorder()
    mst.set_log_callback(got)
    mst.set_log_level("error")
    open_unknown_pcm()
    assert got.messages == []
    mst.set_log_level(mst.LogLevel.DEBUG)
    open_unknown_pcm()
    assert got.messages
    with pytest.raises(mst.InvalidArg):
        mst.set_log_level(0)
    with pytest.raises(ValueError, match="warning"):
        mst.set_log_level("loud")
    with pytest.raises(TypeError):
        mst.set_log_callback("print")
    mst.set_log_callback(None)
    before = len(got.messages)
    open_unknown_pcm()
    assert len(got.messages) == before


def test_a_message_from_a_libmst_thread_arrives():
    """Playback writes to /dev/full on libmst's playback thread, where alsa-lib reports the
    failed write."""
    got = Recorder()
    mst.set_log_callback(got)
    main = threading.get_native_id()

    def from_another_thread():
        return [m for m in list(got.messages) if m[3] != main]

    with mst.Track.tone() as tone, mst.AudioPlayback(tone, "mst_py_full") as playback:
        wait_until(from_another_thread, "a message from the playback thread")
        with pytest.raises(mst.IOFailure):
            playback.stop()
    level, origin, message, native, name = from_another_thread()[0]
    assert (level, origin) == (mst.LogLevel.WARNING, "alsa-lib")
    assert "/dev/full" in message
    assert name.startswith("mst-alsa-play"), name  # comm holds 15 characters


def test_an_exception_in_the_callback_is_reported_and_libmst_goes_on(monkeypatch):
    reported = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)

    def broken(level, origin, message):
        raise RuntimeError(f"broken callback: {message}")

    mst.set_log_callback(broken)
    open_unknown_pcm()  # on this thread: the call still returns its own error
    assert reported and isinstance(reported[0].exc_value, RuntimeError)
    assert PCM in str(reported[0].exc_value)
    reported.clear()
    with mst.Track.tone() as tone, mst.AudioPlayback(tone, "mst_py_full") as playback:
        wait_until(lambda: reported, "the playback thread's exception to be reported")
        with pytest.raises(mst.IOFailure):
            playback.stop()
    mst.set_log_callback(None)  # before monkeypatch gives pytest its hook back
    assert isinstance(reported[0].exc_value, RuntimeError)
    assert "/dev/full" in str(reported[0].exc_value)


def test_the_package_keeps_the_callback_until_it_is_replaced():
    messages = []
    mst.set_log_callback(lambda *m: messages.append(m))  # no other reference to it
    gc.collect()
    open_unknown_pcm()
    assert messages

    class Callback:
        def __call__(self, *m):
            pass

    callback = Callback()
    gone = weakref.ref(callback)
    mst.set_log_callback(callback)
    del callback
    gc.collect()
    assert gone() is not None
    mst.set_log_callback(Recorder())  # libmst's destroy-notify lets go of the old one
    gc.collect()
    assert gone() is None


def test_log_to_logging(caplog):
    mst.log_to_logging()
    with caplog.at_level(logging.WARNING, logger="mst"):
        open_unknown_pcm()
    records = [r for r in caplog.records if r.name == "mst"]
    assert records and records[0].levelno == logging.WARNING
    assert records[0].mst_origin == "alsa-lib" and PCM in records[0].getMessage()
