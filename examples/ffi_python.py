#!/usr/bin/env python3
"""libmst from Python with ctypes: generator -> processor pass-through.

Writes video frames and audio chunks made in Python to a MediaStreamTrackGenerator, reads
them back through a MediaStreamTrackProcessor on the generator's track, and checks that the
bytes, timestamps, sequence numbers and counters come back unchanged; then closes the
generator and checks that the processor reports the end. Exits 1 on any mismatch or libmst
error.

    MST_LIB=target/debug/libmst.so python3 examples/ffi_python.py

Only the standard library is needed. The structures below mirror include/mst.h; ctypes lays
them out with the C compiler's natural alignment, as the header does, and when abi/layout.txt
is beside this directory (a source tree) every field is checked against it first.
"""
import ctypes as C
import os
import struct
import sys

# --- the part of mst.h this program uses ---------------------------------------------------

MST_OK = 0
MST_ERR_TIMEOUT = -2
MST_ERR_ENDED = -3
MST_ERR_TYPE = -12
MST_KIND_AUDIO = 1
MST_KIND_VIDEO = 2
MST_VIDEO_PIXEL_FORMAT_I420 = 1
MST_AUDIO_SAMPLE_FORMAT_F32 = 4
MST_END_REASON_WRITABLE_CLOSED = 3


class PlaneLayout(C.Structure):
    _fields_ = [("offset", C.c_size_t), ("stride", C.c_size_t)]


class Rect(C.Structure):
    _fields_ = [("x", C.c_uint32), ("y", C.c_uint32), ("width", C.c_uint32), ("height", C.c_uint32)]


class Sized(C.Structure):
    """A size-prefixed struct: struct_size is set to its size, as MST_STRUCT_INIT does."""

    def __init__(self, **fields):
        super().__init__(struct_size=C.sizeof(self), **fields)


class VideoFrameInit(Sized):
    _fields_ = [("struct_size", C.c_uint32), ("format", C.c_int32), ("coded_width", C.c_uint32),
                ("coded_height", C.c_uint32), ("timestamp", C.c_int64), ("duration", C.c_int64),
                ("num_planes", C.c_uint32), ("layout", PlaneLayout * 4), ("visible_rect", Rect),
                ("display_width", C.c_uint32), ("display_height", C.c_uint32)]


class VideoFrameInfo(Sized):
    _fields_ = [("struct_size", C.c_uint32), ("format", C.c_int32), ("coded_width", C.c_uint32),
                ("coded_height", C.c_uint32), ("visible_rect", Rect), ("display_width", C.c_uint32),
                ("display_height", C.c_uint32), ("timestamp", C.c_int64), ("duration", C.c_int64),
                ("num_planes", C.c_uint32), ("sequence", C.c_uint64), ("capture_sequence", C.c_int64),
                ("discarded_before", C.c_uint64)]


class PlaneLayouts(Sized):
    _fields_ = [("struct_size", C.c_uint32), ("count", C.c_uint32), ("planes", PlaneLayout * 4)]


class AudioDataInit(Sized):
    _fields_ = [("struct_size", C.c_uint32), ("format", C.c_int32), ("sample_rate", C.c_float),
                ("number_of_frames", C.c_uint32), ("number_of_channels", C.c_uint32),
                ("timestamp", C.c_int64)]


class AudioDataInfo(Sized):
    _fields_ = [("struct_size", C.c_uint32), ("format", C.c_int32), ("sample_rate", C.c_float),
                ("number_of_frames", C.c_uint32), ("number_of_channels", C.c_uint32),
                ("timestamp", C.c_int64), ("duration", C.c_int64), ("sequence", C.c_uint64),
                ("discarded_before", C.c_uint64)]


class ProcessorOptions(Sized):
    _fields_ = [("struct_size", C.c_uint32), ("max_buffer_size", C.c_uint32), ("flags", C.c_uint32)]


class ProcessorStats(Sized):
    _fields_ = [("struct_size", C.c_uint32), ("max_buffer_size", C.c_uint32), ("total", C.c_uint64),
                ("delivered", C.c_uint64), ("discarded", C.c_uint64), ("queued", C.c_uint64),
                ("ended", C.c_bool), ("pending_reads", C.c_uint32),
                ("discarded_queue_full", C.c_uint64), ("discarded_superseded", C.c_uint64),
                ("discarded_closed", C.c_uint64), ("discarded_muted", C.c_uint64),
                ("discarded_disabled", C.c_uint64), ("discarded_decimated", C.c_uint64),
                ("discarded_failed", C.c_uint64)]


STRUCTS = [PlaneLayout, Rect, VideoFrameInit, VideoFrameInfo, PlaneLayouts, AudioDataInit,
           AudioDataInfo, ProcessorOptions, ProcessorStats]


def check_layouts(path):
    """Every struct above has the size, and every field the offset and size, that the C
    compiler gave mst.h's struct of the same name (abi/layout.txt)."""
    want = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "struct":
                want[w[1]] = int(w[3])
            elif w and w[0] == "field":
                want[w[1]] = (int(w[3]), int(w[5]))
    for cls in STRUCTS:
        name = "Mst" + cls.__name__
        if want.get(name) != C.sizeof(cls):
            fail(f"{name}: {C.sizeof(cls)} bytes here, {want.get(name)} in mst.h")
        for field, _ in cls._fields_:
            got = (getattr(cls, field).offset, getattr(cls, field).size)
            if want.get(f"{name}.{field}") != got:
                fail(f"{name}.{field}: offset and size {got} here, {want.get(f'{name}.{field}')} in mst.h")


Handle = C.c_void_p  # every libmst object is an opaque pointer
Status = C.c_int32


def load(path):
    lib = C.CDLL(path)
    sigs = {
        "mst_version": (C.c_char_p, []),
        "mst_status_str": (C.c_char_p, [C.c_int32]),
        "mst_last_error_message": (C.c_char_p, []),
        "mst_generator_create": (Status, [C.c_int32, C.POINTER(Handle)]),
        "mst_generator_get_track": (Status, [Handle, C.POINTER(Handle)]),
        "mst_generator_write": (Status, [Handle, Handle]),
        "mst_generator_close": (Status, [Handle]),
        "mst_generator_free": (Status, [Handle]),
        "mst_track_get_end_reason": (Status, [Handle, C.POINTER(C.c_int32)]),
        "mst_track_free": (Status, [Handle]),
        "mst_processor_create": (Status, [Handle, C.POINTER(ProcessorOptions), C.POINTER(Handle)]),
        "mst_processor_read": (Status, [Handle, C.c_int32, C.POINTER(Handle)]),
        "mst_processor_get_stats": (Status, [Handle, C.POINTER(ProcessorStats)]),
        "mst_processor_free": (Status, [Handle]),
        "mst_frame_create_video": (Status, [C.POINTER(VideoFrameInit), C.c_char_p, C.c_size_t,
                                            C.POINTER(Handle)]),
        "mst_frame_create_audio": (Status, [C.POINTER(AudioDataInit), C.c_char_p, C.c_size_t,
                                            C.POINTER(Handle)]),
        "mst_frame_free": (Status, [Handle]),
        "mst_frame_get_video_info": (Status, [Handle, C.POINTER(VideoFrameInfo)]),
        "mst_frame_get_audio_info": (Status, [Handle, C.POINTER(AudioDataInfo)]),
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
        ok(lib.mst_generator_get_track(gen, C.byref(track)), "mst_generator_get_track")
        options = ProcessorOptions(max_buffer_size=32)
        ok(lib.mst_processor_create(track, C.byref(options), C.byref(proc)), "mst_processor_create")
        for i in range(count):
            frame = make(i)
            status = lib.mst_generator_write(gen, frame)  # closes the frame on success
            ok(lib.mst_frame_free(frame), "mst_frame_free")  # the handle is ours either way
            ok(status, "mst_generator_write")
            got = Handle()
            ok(lib.mst_processor_read(proc, 5000, C.byref(got)), "mst_processor_read")
            try:
                check_frame(i, got)
            finally:
                ok(lib.mst_frame_free(got), "mst_frame_free")

        ok(lib.mst_generator_close(gen), "mst_generator_close")
        got = Handle()
        status = lib.mst_processor_read(proc, 1000, C.byref(got))
        if status != MST_ERR_ENDED:
            fail(f"a read after closeWritable returned {lib.mst_status_str(status).decode()}, "
                 "not MST_ERR_ENDED")
        late = make(count)
        status = lib.mst_generator_write(gen, late)
        ok(lib.mst_frame_free(late), "mst_frame_free")  # still ours after the failed write
        if status != MST_ERR_TYPE:  # the Streams standard's TypeError
            fail(f"a write after closeWritable returned {lib.mst_status_str(status).decode()}")
        reason = C.c_int32()
        ok(lib.mst_track_get_end_reason(track, C.byref(reason)), "mst_track_get_end_reason")
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
    layout = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "abi", "layout.txt")
    try:
        if os.path.exists(layout):
            check_layouts(layout)
    except AssertionError as e:
        print(f"ffi_python: FAILED: the structures here are not mst.h's: {e}", file=sys.stderr)
        return 1

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
        ok(lib.mst_frame_get_video_info(frame, C.byref(info)), "mst_frame_get_video_info")
        if (info.format, info.visible_rect.width, info.visible_rect.height, info.timestamp,
                info.duration, info.sequence, info.capture_sequence, info.discarded_before) != (
                MST_VIDEO_PIXEL_FORMAT_I420, W, H, i * 33_333, 33_333, i + 1, -1, 0):
            fail(f"video frame {i}: format {info.format}, {info.visible_rect.width}x"
                 f"{info.visible_rect.height}, timestamp {info.timestamp}, duration "
                 f"{info.duration}, sequence {info.sequence}, capture sequence "
                 f"{info.capture_sequence} (-1: not from a camera), discarded before "
                 f"{info.discarded_before}")
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
        ok(lib.mst_frame_get_audio_info(frame, C.byref(info)), "mst_frame_get_audio_info")
        if (info.format, info.sample_rate, info.number_of_frames, info.number_of_channels,
                info.timestamp, info.duration, info.sequence, info.discarded_before) != (
                MST_AUDIO_SAMPLE_FORMAT_F32, RATE, CHUNK, CHANNELS, i * 10_000, 10_000, i + 1, 0):
            fail(f"audio chunk {i}: format {info.format}, {info.sample_rate} Hz, "
                 f"{info.number_of_frames} x {info.number_of_channels}, timestamp "
                 f"{info.timestamp}, duration {info.duration}, sequence {info.sequence}, "
                 f"discarded before {info.discarded_before}")
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
