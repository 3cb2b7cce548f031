/* The fake microphone: listed and opened as a microphone, each fault of its script driving the
 * real capture path (chunk timestamps, MstCaptureStats, the ALSA errno handling) to an exact
 * outcome: which chunks arrive (by the index in their first samples), the counters, the end
 * reason, the settings, the timestamps. Nothing here depends on timing. */
#define _POSIX_C_SOURCE 200809L
#include "fake_common.h"

/* 48 kHz: 10 ms chunks of 480 frames, chunk n at n * 10000 us. */
#define CHUNK_US 10000

static MstFakeDevice *add(const char *name, MstAudioSampleFormat format, const MstFault *faults,
                          size_t num_faults) {
    MstFakeDeviceInit init = MST_STRUCT_INIT(MstFakeDeviceInit);
    init.kind = MST_DEVICE_KIND_AUDIO_INPUT;
    init.name = name;
    init.sample_rate = 48000;
    init.channels = 2;
    init.sample_format = format;
    init.faults = faults;
    init.num_faults = num_faults;
    MstFakeDevice *dev = NULL;
    CHECK_OK(mst_fake_device_add(&init, &dev));
    return dev;
}

static MstTrack *open_microphone(const MstFakeDevice *dev) {
    const char *id = NULL;
    CHECK_OK(mst_fake_device_get_id(dev, &id));
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_microphone(id, NULL, &t));
    return t;
}

/* Reads the next chunk (a hang fails) and checks its index, timestamp and shape. */
static MstAudioDataInfo expect_chunk(MstProcessor *p, uint64_t index, int64_t timestamp, float rate,
                                     uint32_t channels) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, HANG_MS, &f));
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    CHECK_OK(mst_frame_get_audio_info(f, &info));
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(mst_frame_get_audio_plane(f, 0, &data, &len));
    uint64_t got = 0;
    if (info.format == MST_AUDIO_SAMPLE_FORMAT_F32) {
        float v;
        memcpy(&v, data, sizeof v);
        got = (uint64_t)v;
    } else {
        for (int i = 0; i < 8; i++) got |= (uint64_t)data[i] << (8 * i);
    }
    if (got != index || info.timestamp != timestamp)
        MST_TEST_FAIL_("chunk index %llu, timestamp %lld; expected %llu and %lld", (unsigned long long)got,
                       (long long)info.timestamp, (unsigned long long)index, (long long)timestamp);
    CHECK(info.sample_rate == rate);
    CHECK_EQ_INT(info.number_of_channels, channels);
    CHECK_EQ_INT(info.number_of_frames, (uint32_t)rate / 100);
    CHECK_OK(mst_frame_free(f));
    return info;
}

static MstCaptureStats capture_stats(const MstTrack *t) {
    MstCaptureStats s = MST_STRUCT_INIT(MstCaptureStats);
    CHECK_OK(mst_track_get_capture_stats(t, &s));
    return s;
}

static int listed(const char *id) { return listed_as(id, MST_DEVICE_KIND_AUDIO_INPUT, "Fake microphone mic"); }

/* A script run to its end: the processor, its track and the device. */
struct run {
    MstFakeDevice *dev;
    MstTrack *track;
    MstProcessor *p;
};

static struct run start(MstAudioSampleFormat format, const MstFault *faults, size_t num_faults) {
    struct run r;
    r.dev = add("mic", format, faults, num_faults);
    r.track = open_microphone(r.dev);
    CHECK_OK(mst_processor_create(r.track, MST_TEST_BUFFER(1), &r.p));
    return r;
}

static void finish(struct run *r) {
    CHECK_OK(mst_processor_free(r->p));
    CHECK_OK(mst_track_free(r->track));
    CHECK_OK(mst_fake_device_free(r->dev));
}

static void test_clean_run(MstAudioSampleFormat format) {
    struct run r = start(format, NULL, 0);
    CHECK_EQ_INT(listed("fake:mic"), 1);
    MstSettings s = MST_STRUCT_INIT(MstSettings);
    CHECK_OK(mst_track_get_settings(r.track, &s));
    CHECK(s.sample_rate == 48000);
    CHECK_EQ_INT(s.channel_count, 2);
    for (uint64_t n = 0; n < 20; n++) {
        MstAudioDataInfo info = expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
        CHECK_EQ_INT(info.format, format);
    }
    MstCaptureStats c = capture_stats(r.track);
    CHECK(c.chunks >= 20);
    CHECK_EQ_INT(c.frames, c.chunks * 480);
    CHECK_EQ_INT(c.overruns, 0);
    MstTrack *t2 = NULL;
    CHECK_STATUS(mst_track_create_microphone("fake:mic", NULL, &t2), MST_ERR_BUSY);
    finish(&r);
    CHECK_EQ_INT(listed("fake:mic"), 0);
}

static void test_unplug(void) {
    MstFault f = fault(MST_FAULT_UNPLUG, 4, 0);
    struct run r = start(MST_AUDIO_SAMPLE_FORMAT_S16, &f, 1);
    for (uint64_t n = 0; n < 4; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
    expect_end(r.p, r.track, MST_END_REASON_DEVICE_LOST);
    CHECK_EQ_INT(capture_stats(r.track).chunks, 4);
    CHECK_EQ_INT(listed("fake:mic"), 0);
    MstTrack *t = NULL;
    CHECK_STATUS(mst_track_create_microphone("fake:mic", NULL, &t), MST_ERR_NO_DEVICE);
    finish(&r);
}

/* Chunks 3 and 4 lost: one overrun, and the next chunk's time is read from the device clock. */
static void test_overrun(void) {
    MstFault f = fault(MST_FAULT_OVERRUN, 3, 2);
    struct run r = start(MST_AUDIO_SAMPLE_FORMAT_S16, &f, 1);
    for (uint64_t n = 0; n < 3; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
    for (uint64_t n = 5; n < 8; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
    CHECK_EQ_INT(capture_stats(r.track).overruns, 1);
    finish(&r);
}

/* From chunk 2, 16 kHz mono: chunks of 160 frames, settings follow. */
static void test_format_change(void) {
    MstFault f = fault(MST_FAULT_FORMAT_CHANGE, 2, 0);
    f.sample_rate = 16000;
    f.channels = 1;
    struct run r = start(MST_AUDIO_SAMPLE_FORMAT_S32, &f, 1);
    for (uint64_t n = 0; n < 2; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
    for (uint64_t n = 2; n < 5; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 16000, 1);
    MstSettings s = MST_STRUCT_INIT(MstSettings);
    CHECK_OK(mst_track_get_settings(r.track, &s));
    CHECK(s.sample_rate == 16000);
    CHECK_EQ_INT(s.channel_count, 1);
    CHECK_EQ_INT(capture_stats(r.track).overruns, 0);
    finish(&r);
}

/* 50 ms with no audio before chunk 2: nothing lost, and the timestamps, which count samples,
 * show no gap. */
static void test_stall(void) {
    MstFault f = fault(MST_FAULT_STALL, 2, 50000);
    struct run r = start(MST_AUDIO_SAMPLE_FORMAT_F32, &f, 1);
    for (uint64_t n = 0; n < 5; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
    CHECK_EQ_INT(capture_stats(r.track).overruns, 0);
    finish(&r);
}

/* The clock jumps before chunk 2: forward, the timestamps follow it; backward, they never go
 * before the end of the previous chunk. */
static void test_timestamp_jump(void) {
    MstFault f = fault(MST_FAULT_TIMESTAMP_JUMP, 2, 1000000);
    struct run r = start(MST_AUDIO_SAMPLE_FORMAT_S16, &f, 1);
    for (uint64_t n = 0; n < 5; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US + (n >= 2 ? 1000000 : 0), 48000, 2);
    finish(&r);
    f = fault(MST_FAULT_TIMESTAMP_JUMP, 2, -25000);
    r = start(MST_AUDIO_SAMPLE_FORMAT_S16, &f, 1);
    for (uint64_t n = 0; n < 5; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
    finish(&r);
}

/* A read failing with errno `err` at chunk 2, as ALSA's readi would. */
static void test_read_error(int err) {
    MstFault f = fault(MST_FAULT_READ_ERROR, 2, err);
    struct run r = start(MST_AUDIO_SAMPLE_FORMAT_S16, &f, 1);
    for (uint64_t n = 0; n < 2; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
    switch (err) {
    case 11: /* EAGAIN: retried, nothing lost */
    case 4:  /* EINTR */
        for (uint64_t n = 2; n < 5; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
        CHECK_EQ_INT(capture_stats(r.track).overruns, 0);
        break;
    case 32: /* EPIPE: an overrun, chunk 2 lost */
        for (uint64_t n = 3; n < 5; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
        CHECK_EQ_INT(capture_stats(r.track).overruns, 1);
        break;
    case 86: /* ESTRPIPE: suspended and resumed, chunk 2 lost, no overrun */
        for (uint64_t n = 3; n < 5; n++) expect_chunk(r.p, n, (int64_t)n * CHUNK_US, 48000, 2);
        CHECK_EQ_INT(capture_stats(r.track).overruns, 0);
        break;
    case 19: /* ENODEV: the device went away */
        expect_end(r.p, r.track, MST_END_REASON_DEVICE_LOST);
        CHECK_EQ_INT(listed("fake:mic"), 1);
        break;
    default: /* any other: an error */
        expect_end(r.p, r.track, MST_END_REASON_ERROR);
        break;
    }
    finish(&r);
}

static void test_constraints(void) {
    MstFakeDevice *dev = add("mic", MST_AUDIO_SAMPLE_FORMAT_S16, NULL, 0);
    MstAudioConstraints c = MST_STRUCT_INIT(MstAudioConstraints);
    c.sample_rate.present = MST_CONSTRAIN_EXACT;
    c.sample_rate.exact = 44100;
    MstTrack *t = NULL;
    CHECK_STATUS(mst_track_create_microphone("fake:mic", &c, &t), MST_ERR_OVERCONSTRAINED);
    CHECK(strcmp(mst_last_error_constraint(), "sampleRate") == 0);
    c = (MstAudioConstraints)MST_STRUCT_INIT(MstAudioConstraints);
    c.sample_size.present = MST_CONSTRAIN_MIN;
    c.sample_size.min = 32;
    CHECK_STATUS(mst_track_create_microphone("fake:mic", &c, &t), MST_ERR_OVERCONSTRAINED);
    CHECK(strcmp(mst_last_error_constraint(), "sampleSize") == 0);
    c = (MstAudioConstraints)MST_STRUCT_INIT(MstAudioConstraints);
    c.channel_count.present = MST_CONSTRAIN_IDEAL;
    c.channel_count.ideal = 1;
    CHECK_OK(mst_track_create_microphone("fake:mic", &c, &t));
    CHECK_OK(mst_track_free(t));
    /* A camera id of a microphone is no camera. */
    CHECK_STATUS(mst_track_create_camera("fake:mic", NULL, NULL, &t), MST_ERR_NO_DEVICE);
    CHECK_OK(mst_fake_device_free(dev));
}

int main(void) {
    test_clean_run(MST_AUDIO_SAMPLE_FORMAT_S16);
    test_clean_run(MST_AUDIO_SAMPLE_FORMAT_F32);
    test_clean_run(MST_AUDIO_SAMPLE_FORMAT_U8);
    test_unplug();
    test_overrun();
    test_format_change();
    test_stall();
    test_timestamp_jump();
    test_read_error(11);
    test_read_error(4);
    test_read_error(32);
    test_read_error(86);
    test_read_error(19);
    test_read_error(5);
    test_constraints();
    return 0;
}
