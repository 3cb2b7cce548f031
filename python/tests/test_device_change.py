"""The device-change callback (the spec's devicechange) from Python: one call when a fake
device is added and one when it is freed, each with the new list readable from the callback;
removed, it is not called again; the package keeps it alive; it may remove itself."""
import gc
import threading
import time

import pytest

import mst
from conftest import wait_until


class Recorder:
    def __init__(self):
        self.lists = []
        self.lock = threading.Lock()

    def __call__(self):
        ids = [d.device_id for d in mst.enumerate_devices()]  # what an app does on devicechange
        with self.lock:
            self.lists.append(ids)

    def count(self):
        with self.lock:
            return len(self.lists)


def test_adding_and_freeing_a_fake_device_call_once_each():
    got = Recorder()
    mst.set_device_change_callback(got)
    try:
        gc.collect()  # the package holds the callback, not only this frame
        with mst.FakeDevice.microphone("py-devchange") as mic:
            wait_until(lambda: got.count() >= 1, "a call for the arrival")
            assert mic.device_id in got.lists[0]
        wait_until(lambda: got.count() >= 2, "a call for the removal")
        assert "fake:py-devchange" not in got.lists[1]
        with mst.FakeDevice.microphone("py-devchange-2"):
            wait_until(lambda: got.count() >= 3, "a call for another arrival")
        # Each change was one call: the third change made the third call.
        assert "fake:py-devchange-2" in got.lists[2]
    finally:
        mst.set_device_change_callback(None)


def test_removed_it_is_not_called_again_and_it_may_remove_itself():
    calls = []

    def once():
        calls.append(1)
        mst.set_device_change_callback(None)  # from inside the call: does not wait for itself

    mst.set_device_change_callback(once)
    with mst.FakeDevice.microphone("py-devchange-once"):
        wait_until(lambda: calls, "the first call")
    time.sleep(0.5)  # the removal above would have been a change
    assert calls == [1]
    with pytest.raises(TypeError):
        mst.set_device_change_callback(42)
