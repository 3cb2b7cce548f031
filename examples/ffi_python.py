#!/usr/bin/env python3
"""libmst from Python with ctypes: generator -> processor pass-through.

Writes video frames and audio chunks made in Python to a MediaStreamTrackGenerator, reads
them back through a MediaStreamTrackProcessor on the generator's track, and checks that the
bytes, timestamps, sequence numbers and counters come back unchanged; then closes the
generator and checks that the processor reports the end. Exits 1 on any mismatch or libmst
error.

    MST_LIB=target/debug/libmst.so python3 examples/ffi_python.py

Only the standard library is needed. The structures below mirror include/mst.h; ctypes lays
them out with the C compiler's natural alignment, as the header does.
"""
import ctypes as C
import os
import struct
import sys

# --- the part of mst.h this program uses ---------------------------------------------------

MST_OK = 0
MST_ERR_TIMEOUT = -2
MST_ERR_ENDED = -3
MST_ERR_INVALID_STATE = -13
MST_KIND_AUDIO = 1
MST_KIND_VIDEO = 2
MST_VIDEO_PIXEL_FORMAT_I420 = 1
MST_AUDIO_SAMPLE_FORMAT_F32 = 4
MST_END_REASON_WRITABLE_CLOSED = 3


class PlaneLayout(C.Structure):
    _fields_ = [("offset", C.c_size_t), ("stride", C.c_size_t)]


class Rect(C.Structure):
    _fields_ = [("x", C.c_uint32), ("y", C.c_uint32), ("width", C.c_uint32), ("height", C.c_uint32)]


class VideoFrameInit(C.Structure):
    _fields_ = [("format", C.c_int32), ("coded_width", C.c_uint32), ("coded_height", C.c_uint32),
                ("timestamp", C.c_int64), ("duration", C.c_int64), ("num_planes", C.c_uint32),
                ("layout", PlaneLayout * 4), ("visible_rect", Rect),
                ("display_width", C.c_uint32), ("display_height", C.c_uint32)]


class VideoFrameInfo(C.Structure):
    _fields_ = [("format", C.c_int32), ("coded_width", C.c_uint32), ("coded_height", C.c_uint32),
                ("visible_rect", Rect), ("display_width", C.c_uint32),
                ("display_height", C.c_uint32), ("timestamp", C.c_int64),
                ("duration", C.c_int64), ("num_planes", C.c_uint32), ("sequence", C.c_uint64)]


class PlaneLayouts(C.Structure):
    _fields_ = [("count", C.c_uint32), ("planes", PlaneLayout * 4)]


class AudioDataInit(C.Structure):
    _fields_ = [("format", C.c_int32), ("sample_rate", C.c_float),
                ("number_of_frames", C.c_uint32), ("number_of_channels", C.c_uint32),
                ("timestamp", C.c_int64)]


class AudioDataInfo(C.Structure):
    _fields_ = [("format", C.c_int32), ("sample_rate", C.c_float),
                ("number_of_frames", C.c_uint32), ("number_of_channels", C.c_uint32),
                ("timestamp", C.c_int64), ("duration", C.c_int64), ("sequence", C.c_uint64)]


class ProcessorStats(C.Structure):
    _fields_ = [("total", C.c_uint64), ("delivered", C.c_uint64), ("discarded", C.c_uint64),
                ("queued", C.c_uint64), ("max_buffer_size", C.c_uint32), ("ended", C.c_bool)]


Handle = C.c_void_p  # every libmst object is an opaque pointer
Status = C.c_int32


def load(path):
    lib = C.CDLL(path)
    sigs = {
        "mst_version": (C.c_char_p, []),
        "mst_status_str": (C.c_char_p, [C.c_int32]),
        "mst_last_error_message": (C.c_char_p, []),
        "mst_generator_create": (Status, [C.c_int32, C.POINTER(Handle)]),
        "mst_generator_track": (Status, [Handle, C.POINTER(Handle)]),
        "mst_generator_write": (Status, [Handle, Handle]),
        "mst_generator_close": (Status, [Handle]),
        "mst_generator_free": (Status, [Handle]),
        "mst_track_end_reason": (Status, [Handle, C.POINTER(C.c_int32)]),
        "mst_track_free": (Status, [Handle]),
        "mst_processor_create": (Status, [Handle, C.c_uint32, C.POINTER(Handle)]),
        "mst_processor_read": (Status, [Handle, C.c_int32, C.POINTER(Handle)]),
        "mst_processor_get_stats": (Status, [Handle, C.POINTER(ProcessorStats)]),
        "mst_processor_free": (Status, [Handle]),
        "mst_frame_create_video": (Status, [C.POINTER(VideoFrameInit), C.c_char_p, C.c_size_t,
                                            C.POINTER(Handle)]),
        "mst_frame_create_audio": (Status, [C.POINTER(AudioDataInit), C.c_char_p, C.c_size_t,
                                            C.POINTER(Handle)]),
        "mst_frame_close": (Status, [Handle]),
        "mst_frame_video_info": (Status, [Handle, C.POINTER(VideoFrameInfo)]),
        "mst_frame_audio_info": (Status, [Handle, C.POINTER(AudioDataInfo)]),
        "mst_frame_video_allocation_size": (Status, [Handle, C.c_void_p, C.POINTER(C.c_size_t)]),
        "mst_frame_video_copy_to": (Status, [Handle, C.c_void_p, C.c_size_t, C.c_void_p,
                                             C.POINTER(PlaneLayouts)]),
        "mst_frame_audio_allocation_size": (Status, [Handle, C.c_void_p, C.POINTER(C.c_size_t)]),
        "mst_frame_audio_copy_to": (Status, [Handle, C.c_void_p, C.c_size_t, C.c_void_p]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


class MstError(Exception):
    pass


class Checker:
    def __init__(self, lib):
        self.lib = lib

    def __call__(self, status, what):
        """Raises on a failed libmst call, with the status and the library's detail."""
        if status != MST_OK:
            raise MstError(f"{what} failed: {self.lib.mst_status_str(status).decode()} "
                           f"({self.lib.mst_last_error_message().decode()})")


def fail(msg):
    raise AssertionError(msg)


# --- the pass-through ------------------------------------------------------------------------

W, H = 64, 48
VIDEO_FRAMES = 10
RATE, CHANNELS, CHUNK = 48000, 2, 480
AUDIO_CHUNKS = 10


def video_bytes(i):
    n = W * H * 3 // 2
    return bytes((i * 31 + j * 7) & 0xFF for j in range(n))


def audio_bytes(i):
    return struct.pack(f"={CHUNK * CHANNELS}f",
                       *(((i * CHUNK * CHANNELS + j) % 2001 - 1000) / 1000.0
                         for j in range(CHUNK * CHANNELS)))


def pass_through(lib, ok, kind, count, make, check_frame):
    """Writes `count` frames made by make(i) and reads each back, checking it."""
    gen, track, proc = Handle(), Handle(), Handle()
    ok(lib.mst_generator_create(kind, C.byref(gen)), "mst_generator_create")
    try:
        ok(lib.mst_generator_track(gen, C.byref(track)), "mst_generator_track")
        ok(lib.mst_processor_create(track, 32, C.byref(proc)), "mst_processor_create")
        for i in range(count):
            frame = make(i)
            status = lib.mst_generator_write(gen, frame)
            if status != MST_OK:
                lib.mst_frame_close(frame)  # a failed write leaves the frame ours
                ok(status, "mst_generator_write")
            got = Handle()
            ok(lib.mst_processor_read(proc, 5000, C.byref(got)), "mst_processor_read")
            try:
                check_frame(i, got)
            finally:
                ok(lib.mst_frame_close(got), "mst_frame_close")

        ok(lib.mst_generator_close(gen), "mst_generator_close")
        got = Handle()
        status = lib.mst_processor_read(proc, 1000, C.byref(got))
        if status != MST_ERR_ENDED:
            fail(f"a read after closeWritable returned {lib.mst_status_str(status).decode()}, "
                 "not MST_ERR_ENDED")
        late = make(count)
        status = lib.mst_generator_write(gen, late)
        ok(lib.mst_frame_close(late), "mst_frame_close")  # still ours after the failed write
        if status != MST_ERR_INVALID_STATE:
            fail(f"a write after closeWritable returned {lib.mst_status_str(status).decode()}")
        reason = C.c_int32()
        ok(lib.mst_track_end_reason(track, C.byref(reason)), "mst_track_end_reason")
        if reason.value != MST_END_REASON_WRITABLE_CLOSED:
            fail(f"the generator's track ended with reason {reason.value}")
        st = ProcessorStats()
        ok(lib.mst_processor_get_stats(proc, C.byref(st)), "mst_processor_get_stats")
        counts = (st.total, st.delivered, st.discarded, st.queued, st.ended)
        if counts != (count, count, 0, 0, True):
            fail(f"processor stats total {st.total}, delivered {st.delivered}, discarded "
                 f"{st.discarded}, queued {st.queued}, ended {st.ended}; expected {count} "
                 f"delivered of {count}, ended")
    finally:
        ok(lib.mst_processor_free(proc), "mst_processor_free")  # NULL is a no-op
        ok(lib.mst_track_free(track), "mst_track_free")
        ok(lib.mst_generator_free(gen), "mst_generator_free")


def main():
    path = os.environ.get("MST_LIB")
    if not path:
        print("ffi_python: set MST_LIB to libmst.so, e.g. MST_LIB=target/debug/libmst.so",
              file=sys.stderr)
        return 2
    lib = load(path)
    ok = Checker(lib)

    def make_video(i):
        data = video_bytes(i)
        init = VideoFrameInit(format=MST_VIDEO_PIXEL_FORMAT_I420, coded_width=W, coded_height=H,
                              timestamp=i * 33_333, duration=33_333)
        frame = Handle()
        ok(lib.mst_frame_create_video(C.byref(init), data, len(data), C.byref(frame)),
           "mst_frame_create_video")
        return frame

    def check_video(i, frame):
        info = VideoFrameInfo()
        ok(lib.mst_frame_video_info(frame, C.byref(info)), "mst_frame_video_info")
        if (info.format, info.visible_rect.width, info.visible_rect.height, info.timestamp,
                info.duration, info.sequence) != (MST_VIDEO_PIXEL_FORMAT_I420, W, H, i * 33_333,
                                                  33_333, i + 1):
            fail(f"video frame {i}: format {info.format}, {info.visible_rect.width}x"
                 f"{info.visible_rect.height}, timestamp {info.timestamp}, duration "
                 f"{info.duration}, sequence {info.sequence}")
        size = C.c_size_t()
        ok(lib.mst_frame_video_allocation_size(frame, None, C.byref(size)),
           "mst_frame_video_allocation_size")
        buf = C.create_string_buffer(size.value)
        layouts = PlaneLayouts()
        ok(lib.mst_frame_video_copy_to(frame, buf, size.value, None, C.byref(layouts)),
           "mst_frame_video_copy_to")
        if buf.raw != video_bytes(i):
            fail(f"video frame {i}: the pixels read back differ from those written")

    def make_audio(i):
        data = audio_bytes(i)
        init = AudioDataInit(format=MST_AUDIO_SAMPLE_FORMAT_F32, sample_rate=RATE,
                             number_of_frames=CHUNK, number_of_channels=CHANNELS,
                             timestamp=i * 10_000)
        frame = Handle()
        ok(lib.mst_frame_create_audio(C.byref(init), data, len(data), C.byref(frame)),
           "mst_frame_create_audio")
        return frame

    def check_audio(i, frame):
        info = AudioDataInfo()
        ok(lib.mst_frame_audio_info(frame, C.byref(info)), "mst_frame_audio_info")
        if (info.format, info.sample_rate, info.number_of_frames, info.number_of_channels,
                info.timestamp, info.duration, info.sequence) != (
                MST_AUDIO_SAMPLE_FORMAT_F32, RATE, CHUNK, CHANNELS, i * 10_000, 10_000, i + 1):
            fail(f"audio chunk {i}: format {info.format}, {info.sample_rate} Hz, "
                 f"{info.number_of_frames} x {info.number_of_channels}, timestamp "
                 f"{info.timestamp}, duration {info.duration}, sequence {info.sequence}")
        size = C.c_size_t()
        ok(lib.mst_frame_audio_allocation_size(frame, None, C.byref(size)),
           "mst_frame_audio_allocation_size")
        buf = C.create_string_buffer(size.value)
        ok(lib.mst_frame_audio_copy_to(frame, buf, size.value, None), "mst_frame_audio_copy_to")
        if buf.raw != audio_bytes(i):
            fail(f"audio chunk {i}: the samples read back differ from those written")

    try:
        pass_through(lib, ok, MST_KIND_VIDEO, VIDEO_FRAMES, make_video, check_video)
        pass_through(lib, ok, MST_KIND_AUDIO, AUDIO_CHUNKS, make_audio, check_audio)
    except (MstError, AssertionError) as e:
        print(f"ffi_python: FAILED: {e}", file=sys.stderr)
        return 1
    print(f"ffi_python: OK: libmst {lib.mst_version().decode()}, {VIDEO_FRAMES} video frames and "
          f"{AUDIO_CHUNKS} audio chunks passed through a generator and a processor unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
