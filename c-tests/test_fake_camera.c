/* The fake camera: listed and opened as a camera, each fault of its script driving the real
 * capture path to an exact outcome (which frames arrive, by the index each carries; the camera
 * counters; the end reason; the settings; the timestamps). Nothing here depends on timing: the
 * default (lossless) pacing waits for the reader, timestamps are on the device's virtual clock,
 * and every wait is bounded only to catch a hang. */
#define _POSIX_C_SOURCE 200809L
#include "fake_common.h"

#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define YUYV FOURCC('Y', 'U', 'Y', 'V')
#define NV12 FOURCC('N', 'V', '1', '2')
#define XR24 FOURCC('X', 'R', '2', '4')
#define RGB3 FOURCC('R', 'G', 'B', '3')
/* 25 fps: a period of exactly 40000 us, so frame n's timestamp is n * 40000. */
#define PERIOD 40000

static MstFakeDevice *add(const char *name, uint32_t fourcc, MstFakePacing pacing, uint64_t frame_count,
                          const MstFault *faults, size_t num_faults) {
    MstFakeDeviceInit init = MST_STRUCT_INIT(MstFakeDeviceInit);
    init.kind = MST_DEVICE_KIND_VIDEO_INPUT;
    init.name = name;
    init.width = 64;
    init.height = 48;
    init.pixel_format = fourcc;
    init.frame_rate = 25;
    init.pacing = pacing;
    init.frame_count = frame_count;
    init.faults = faults;
    init.num_faults = num_faults;
    MstFakeDevice *dev = NULL;
    CHECK_OK(mst_fake_device_add(&init, &dev));
    CHECK(dev != NULL);
    return dev;
}

static MstTrack *open_camera(const MstFakeDevice *dev) {
    const char *id = NULL;
    CHECK_OK(mst_fake_device_get_id(dev, &id));
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_camera(id, NULL, NULL, &t));
    return t;
}

/* The index a fake camera wrote into a frame: the first 8 luma samples (YUV) or colour bytes
 * (RGB, skipping X), little-endian. */
static uint64_t frame_index(const MstFrame *f) {
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    const uint8_t *p = NULL;
    size_t stride = 0, len = 0;
    CHECK_OK(mst_frame_get_video_plane(f, 0, &p, &stride, &len));
    int rgb = info.format == MST_VIDEO_PIXEL_FORMAT_BGRX || info.format == MST_VIDEO_PIXEL_FORMAT_RGBX ||
              info.format == MST_VIDEO_PIXEL_FORMAT_BGRA || info.format == MST_VIDEO_PIXEL_FORMAT_RGBA;
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)p[rgb ? 4 * (i / 3) + i % 3 : i] << (8 * i);
    return n;
}

/* Reads the next frame (a hang fails) and checks its index, capture sequence and timestamp. */
static MstVideoFrameInfo expect_frame(MstProcessor *p, uint64_t index, int64_t timestamp) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, HANG_MS, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    uint64_t got = frame_index(f);
    if (got != index || info.capture_sequence != (int64_t)index || info.timestamp != timestamp)
        MST_TEST_FAIL_("frame index %llu, capture_sequence %lld, timestamp %lld; expected %llu and %lld",
                       (unsigned long long)got, (long long)info.capture_sequence, (long long)info.timestamp,
                       (unsigned long long)index, (long long)timestamp);
    CHECK_OK(mst_frame_free(f));
    return info;
}

static MstCameraStats camera_stats(const MstTrack *t) {
    MstCameraStats s = MST_STRUCT_INIT(MstCameraStats);
    CHECK_OK(mst_track_get_camera_stats(t, &s));
    return s;
}

/* Whether `id` is listed as a video input with `label` (NULL: any label). */
static int listed(const char *id, const char *label) { return listed_as(id, MST_DEVICE_KIND_VIDEO_INPUT, label); }

static void test_listed_until_freed(void) {
    MstFakeDevice *dev = add("listed", YUYV, MST_FAKE_PACING_LOSSLESS, 0, NULL, 0);
    const char *id = NULL;
    CHECK_OK(mst_fake_device_get_id(dev, &id));
    CHECK(strcmp(id, "fake:listed") == 0);
    CHECK_EQ_INT(listed("fake:listed", "Fake camera listed"), 1);
    /* A name in use, a wrong kind, no name. */
    MstFakeDeviceInit init = MST_STRUCT_INIT(MstFakeDeviceInit);
    init.kind = MST_DEVICE_KIND_VIDEO_INPUT;
    init.name = "listed";
    MstFakeDevice *other = NULL;
    CHECK_STATUS(mst_fake_device_add(&init, &other), MST_ERR_INVALID_ARG);
    init.name = NULL;
    CHECK_STATUS(mst_fake_device_add(&init, &other), MST_ERR_NULL_ARG);
    init.name = "x";
    init.kind = MST_DEVICE_KIND_AUDIO_OUTPUT;
    CHECK_STATUS(mst_fake_device_add(&init, &other), MST_ERR_INVALID_ARG);
    CHECK(other == NULL);
    CHECK_OK(mst_fake_device_free(dev));
    CHECK_EQ_INT(listed("fake:listed", NULL), 0);
    MstTrack *t = NULL;
    CHECK_STATUS(mst_track_create_camera("fake:listed", NULL, NULL, &t), MST_ERR_NO_DEVICE);
    CHECK_STATUS(mst_fake_device_free(dev), MST_ERR_INVALID_STATE);
    CHECK_OK(mst_fake_device_free(NULL));
}

/* No fault: every frame, in order, n periods apart; the mode is the device's. */
static void test_clean_run(uint32_t fourcc, MstVideoPixelFormat delivered) {
    MstFakeDevice *dev = add("clean", fourcc, MST_FAKE_PACING_LOSSLESS, 0, NULL, 0);
    MstTrack *t = open_camera(dev);
    MstSettings s = MST_STRUCT_INIT(MstSettings);
    CHECK_OK(mst_track_get_settings(t, &s));
    CHECK_EQ_INT(s.width, 64);
    CHECK_EQ_INT(s.height, 48);
    CHECK(s.frame_rate == 25.0);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(2), &p));
    for (uint64_t n = 0; n < 30; n++) {
        MstVideoFrameInfo info = expect_frame(p, n, (int64_t)n * PERIOD);
        CHECK_EQ_INT(info.format, delivered);
        CHECK_EQ_INT(info.duration, PERIOD);
    }
    /* A second open while it streams: busy, as a device another track streams from. */
    MstTrack *t2 = NULL;
    CHECK_STATUS(mst_track_create_camera("fake:clean", NULL, NULL, &t2), MST_ERR_BUSY);
    CHECK(t2 == NULL);
    MstCameraStats st = camera_stats(t);
    CHECK(st.frames >= 30);
    CHECK_EQ_INT(st.dropped, 0);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* Rows padded as a driver's bytesperline pads them: the padding never shows in the frame. */
static void test_padded_rows(uint32_t fourcc, uint32_t bytes_per_line) {
    MstFakeDeviceInit init = MST_STRUCT_INIT(MstFakeDeviceInit);
    init.kind = MST_DEVICE_KIND_VIDEO_INPUT;
    init.name = "padded";
    init.width = 64;
    init.height = 48;
    init.pixel_format = fourcc;
    init.bytes_per_line = bytes_per_line;
    init.frame_rate = 25;
    MstFakeDevice *dev = NULL;
    CHECK_OK(mst_fake_device_add(&init, &dev));
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 3; n++) expect_frame(p, n, (int64_t)n * PERIOD);
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, HANG_MS, &f));
    for (uint32_t plane = 0; plane < 2; plane++) {
        const uint8_t *px = NULL;
        size_t stride = 0, len = 0;
        CHECK_OK(mst_frame_get_video_plane(f, plane, &px, &stride, &len));
        size_t w = plane == 0 ? 64 : (fourcc == NV12 ? 64 : 32), h = plane == 0 ? 48 : 24;
        for (size_t y = 0; y < h; y++)
            for (size_t x = plane == 0 && y == 0 ? 8 : 0; x < w; x++) CHECK_EQ_INT(px[y * stride + x], 128);
    }
    CHECK_OK(mst_frame_free(f));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
    init.name = "narrow";
    init.bytes_per_line = fourcc == YUYV ? 127 : 63; /* shorter than a row */
    CHECK_STATUS(mst_fake_device_add(&init, &dev), MST_ERR_INVALID_ARG);
}

static void test_unplug(void) {
    MstFault f = fault(MST_FAULT_UNPLUG, 5, 0);
    MstFakeDevice *dev = add("unplug", YUYV, MST_FAKE_PACING_LOSSLESS, 0, &f, 1);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 5; n++) expect_frame(p, n, (int64_t)n * PERIOD);
    expect_end(p, t, MST_END_REASON_DEVICE_LOST);
    CHECK_EQ_INT(camera_stats(t).frames, 5);
    CHECK_EQ_INT(camera_stats(t).dropped, 0);
    CHECK_EQ_INT(listed("fake:unplug", NULL), 0);
    MstTrack *again = NULL;
    CHECK_STATUS(mst_track_create_camera("fake:unplug", NULL, NULL, &again), MST_ERR_NO_DEVICE);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* Frames 3..6 lost: the sequence jumps, the camera counts 4 dropped. */
static void test_overrun(void) {
    MstFault f = fault(MST_FAULT_OVERRUN, 3, 4);
    MstFakeDevice *dev = add("overrun", YUYV, MST_FAKE_PACING_LOSSLESS, 0, &f, 1);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 3; n++) expect_frame(p, n, (int64_t)n * PERIOD);
    for (uint64_t n = 7; n < 10; n++) expect_frame(p, n, (int64_t)n * PERIOD);
    MstCameraStats s = camera_stats(t);
    CHECK(s.frames >= 6);
    CHECK_EQ_INT(s.dropped, 4);
    CHECK_EQ_INT(s.out_of_order, 0);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* From frame 3, 32x16 NV12: frames and settings follow; the track stays live. */
static void test_format_change(void) {
    MstFault f = fault(MST_FAULT_FORMAT_CHANGE, 3, 0);
    f.width = 32;
    f.height = 16;
    f.pixel_format = NV12;
    MstFakeDevice *dev = add("format", YUYV, MST_FAKE_PACING_LOSSLESS, 0, &f, 1);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 6; n++) {
        MstVideoFrameInfo info = expect_frame(p, n, (int64_t)n * PERIOD);
        CHECK_EQ_INT(info.format, n < 3 ? MST_VIDEO_PIXEL_FORMAT_I420 : MST_VIDEO_PIXEL_FORMAT_NV12);
        CHECK_EQ_INT(info.display_width, n < 3 ? 64 : 32);
        CHECK_EQ_INT(info.display_height, n < 3 ? 48 : 16);
    }
    MstSettings s = MST_STRUCT_INIT(MstSettings);
    CHECK_OK(mst_track_get_settings(t, &s));
    CHECK_EQ_INT(s.width, 32);
    CHECK_EQ_INT(s.height, 16);
    CHECK_EQ_INT(camera_stats(t).dropped, 0);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* 50 ms with no frame before frame 2: the timestamps from frame 2 on show the gap. */
static void test_stall(void) {
    MstFault f = fault(MST_FAULT_STALL, 2, 50000);
    MstFakeDevice *dev = add("stall", YUYV, MST_FAKE_PACING_LOSSLESS, 0, &f, 1);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 5; n++) expect_frame(p, n, (int64_t)n * PERIOD + (n >= 2 ? 50000 : 0));
    CHECK_EQ_INT(camera_stats(t).dropped, 0);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* A read failing with `err` at frame 3: frames 0..2 arrive, then the track ends with `reason`;
 * the device stays listed and opens again. */
static void test_read_error(int err, MstEndReason reason) {
    MstFault f = fault(MST_FAULT_READ_ERROR, 3, err);
    MstFakeDevice *dev = add("read-error", YUYV, MST_FAKE_PACING_LOSSLESS, 0, &f, 1);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 3; n++) expect_frame(p, n, (int64_t)n * PERIOD);
    expect_end(p, t, reason);
    CHECK_EQ_INT(camera_stats(t).frames, 3);
    CHECK_EQ_INT(listed("fake:read-error", NULL), 1);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    /* Each open runs the script again. */
    t = open_camera(dev);
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 3; n++) expect_frame(p, n, (int64_t)n * PERIOD);
    expect_end(p, t, reason);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* The clock jumps at frame 3: forward, the timestamps follow; backward, they stay strictly
 * increasing (previous + 1) until the clock passes the last one again. */
static void test_timestamp_jump(void) {
    MstFault f = fault(MST_FAULT_TIMESTAMP_JUMP, 3, 1000000);
    MstFakeDevice *dev = add("jump", YUYV, MST_FAKE_PACING_LOSSLESS, 0, &f, 1);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 6; n++) expect_frame(p, n, (int64_t)n * PERIOD + (n >= 3 ? 1000000 : 0));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));

    f = fault(MST_FAULT_TIMESTAMP_JUMP, 3, -100000);
    dev = add("jump", YUYV, MST_FAKE_PACING_LOSSLESS, 0, &f, 1);
    t = open_camera(dev);
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    const int64_t want[] = {0, 40000, 80000, 80001, 80002, 100000, 140000};
    for (uint64_t n = 0; n < 7; n++) expect_frame(p, n, want[n]);
    CHECK_EQ_INT(camera_stats(t).out_of_order, 0);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* A reader that never reads, on a device that does not wait (FREE pacing) and sends 20 frames:
 * exactly maxBufferSize (3) stay queued, the newest; the other 17 are counted as discarded
 * because the queue was full. */
static void test_stalled_reader(void) {
    MstFakeDevice *dev = add("stalled-reader", YUYV, MST_FAKE_PACING_FREE, 20, NULL, 0);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(3), &p));
    for (int waited = 0; camera_stats(t).frames < 20; waited++) {
        CHECK(waited < HANG_MS);
        mst_test_sleep_ms(1);
    }
    MstProcessorStats s = mst_test_stats(p);
    CHECK_EQ_INT(s.total, 20);
    CHECK_EQ_INT(s.queued, 3);
    CHECK_EQ_INT(s.discarded, 17);
    CHECK_EQ_INT(s.discarded_queue_full, 17);
    CHECK_EQ_INT(s.delivered, 0);
    for (uint64_t n = 17; n < 20; n++) expect_frame(p, n, (int64_t)n * PERIOD);
    mst_test_expect_empty(p);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* A fault injected while the device runs hits the frame it names. */
static void test_inject(void) {
    MstFakeDevice *dev = add("inject", RGB3, MST_FAKE_PACING_LOSSLESS, 0, NULL, 0);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    for (uint64_t n = 0; n < 3; n++) expect_frame(p, n, (int64_t)n * PERIOD);
    MstFault f = fault(MST_FAULT_UNPLUG, 10, 0);
    CHECK_OK(mst_fake_device_inject(dev, &f));
    f = fault(MST_FAULT_FORMAT_CHANGE, 5, 0);
    f.width = 9; /* odd is fine for RGB; the rest unchanged */
    CHECK_OK(mst_fake_device_inject(dev, &f));
    f = fault(MST_FAULT_DAMAGED_MJPEG, 6, 1);
    f.damage = MST_MJPEG_DAMAGE_TRUNCATED;
    CHECK_STATUS(mst_fake_device_inject(dev, &f), MST_ERR_INVALID_ARG); /* not an MJPEG camera */
    f = fault(99, 6, 1);
    CHECK_STATUS(mst_fake_device_inject(dev, &f), MST_ERR_INVALID_ARG);
    for (uint64_t n = 3; n < 10; n++) {
        MstVideoFrameInfo info = expect_frame(p, n, (int64_t)n * PERIOD);
        CHECK_EQ_INT(info.display_width, n < 5 ? 64 : 9);
        CHECK_EQ_INT(info.format, MST_VIDEO_PIXEL_FORMAT_RGBX);
    }
    expect_end(p, t, MST_END_REASON_DEVICE_LOST);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

/* Freeing the device ends its tracks (device lost) before mst_fake_device_free() returns. */
static void test_free_ends_tracks(void) {
    MstFakeDevice *dev = add("freed", XR24, MST_FAKE_PACING_LOSSLESS, 0, NULL, 0);
    MstTrack *t = open_camera(dev);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    expect_frame(p, 0, 0);
    CHECK_OK(mst_fake_device_free(dev));
    CHECK_EQ_INT(mst_test_ready_state(t), MST_READY_STATE_ENDED);
    MstEndReason r = MST_END_REASON_NONE;
    CHECK_OK(mst_track_get_end_reason(t, &r));
    CHECK_EQ_INT(r, MST_END_REASON_DEVICE_LOST);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

struct free_on_end {
    MstFakeDevice *dev;
    MstStatus freed;
    MstEndReason reason;
    atomic_int done;
};

static void free_device(void *user_data, MstEndReason reason) {
    struct free_on_end *f = user_data;
    f->reason = reason;
    f->freed = mst_fake_device_free(f->dev);
    atomic_store(&f->done, 1);
}

/* The device's own thread ends the track (an unplug) and the ended callback, on that thread,
 * frees the device: no deadlock, the device is gone. */
static void test_free_from_the_ended_callback(void) {
    MstFault f = fault(MST_FAULT_UNPLUG, 2, 0);
    struct free_on_end rec = {add("free-in-callback", YUYV, MST_FAKE_PACING_LOSSLESS, 0, &f, 1), MST_ERR_PANIC,
                              MST_END_REASON_NONE, 0};
    MstTrack *t = open_camera(rec.dev);
    CHECK_OK(mst_track_set_ended_callback(t, free_device, &rec, NULL));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    expect_frame(p, 0, 0);
    expect_frame(p, 1, PERIOD);
    expect_end(p, t, MST_END_REASON_DEVICE_LOST);
    /* The processor ends before the ended callback runs. */
    for (int waited = 0; !atomic_load(&rec.done); waited++) {
        CHECK(waited < HANG_MS);
        mst_test_sleep_ms(1);
    }
    CHECK_EQ_INT(rec.freed, MST_OK);
    CHECK_EQ_INT(rec.reason, MST_END_REASON_DEVICE_LOST);
    CHECK_STATUS(mst_fake_device_free(rec.dev), MST_ERR_INVALID_STATE);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

/* Constraints and options go through the mode choice of a real camera. */
static void test_constraints(void) {
    MstFakeDevice *dev = add("constrained", YUYV, MST_FAKE_PACING_LOSSLESS, 0, NULL, 0);
    MstVideoConstraints c = MST_STRUCT_INIT(MstVideoConstraints);
    c.width.present = MST_CONSTRAIN_EXACT;
    c.width.exact = 1000;
    MstTrack *t = NULL;
    CHECK_STATUS(mst_track_create_camera("fake:constrained", &c, NULL, &t), MST_ERR_OVERCONSTRAINED);
    CHECK(strcmp(mst_last_error_constraint(), "width") == 0);
    MstCameraOptions o = MST_STRUCT_INIT(MstCameraOptions);
    o.pixel_format = NV12;
    CHECK_STATUS(mst_track_create_camera("fake:constrained", NULL, &o, &t), MST_ERR_UNSUPPORTED);
    CHECK(t == NULL);
    /* What the mode does not meet, the track's crop-and-scale serves. */
    c.width.exact = 32;
    c.height.present = MST_CONSTRAIN_EXACT;
    c.height.exact = 24;
    CHECK_OK(mst_track_create_camera("fake:constrained", &c, NULL, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, HANG_MS, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.display_width, 32);
    CHECK_EQ_INT(info.display_height, 24);
    CHECK_EQ_INT(info.capture_sequence, 0);
    /* A fake camera dequeues nothing: no dequeue time (V4L2 cameras' is in tests/vm_grey.rs). */
    CHECK_EQ_INT(info.received, -1);
    CHECK_OK(mst_frame_free(f));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_fake_device_free(dev));
}

int main(void) {
    test_listed_until_freed();
    test_clean_run(YUYV, MST_VIDEO_PIXEL_FORMAT_I420);
    test_clean_run(NV12, MST_VIDEO_PIXEL_FORMAT_NV12);
    test_clean_run(XR24, MST_VIDEO_PIXEL_FORMAT_BGRX);
    test_clean_run(RGB3, MST_VIDEO_PIXEL_FORMAT_RGBX);
    test_padded_rows(YUYV, 160);
    test_padded_rows(NV12, 80);
    test_unplug();
    test_overrun();
    test_format_change();
    test_stall();
    test_read_error(5 /* EIO: the node went away */, MST_END_REASON_DEVICE_LOST);
    test_read_error(13 /* EACCES: any other error */, MST_END_REASON_ERROR);
    test_timestamp_jump();
    test_stalled_reader();
    test_inject();
    test_free_ends_tracks();
    test_free_from_the_ended_callback();
    test_constraints();
    return 0;
}
