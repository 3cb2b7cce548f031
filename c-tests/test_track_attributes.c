/* MediaStreamTrack attributes: id (a unique UUID per track), kind, label, enabled (a disabled
 * track delivers black frames or silence of the same shape, and its processors keep going),
 * muted, readyState and the end reason. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define NUM_IDS 100

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static void check_uuid(const char *id) {
    CHECK(id != NULL);
    if (strlen(id) != 36) MST_TEST_FAIL_("track id \"%s\" is not 36 characters", id);
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !is_hex(id[i])) MST_TEST_FAIL_("track id \"%s\" is not a UUID (character %d)", id, i);
    }
}

static void check_ids(void) {
    MstGenerator *gens[NUM_IDS / 2];
    MstTrack *tracks[NUM_IDS];
    char ids[NUM_IDS][37];
    for (int i = 0; i < NUM_IDS / 2; i++) {
        CHECK_OK(mst_generator_create(i % 2 ? MST_KIND_AUDIO : MST_KIND_VIDEO, &gens[i]));
        CHECK_OK(mst_generator_get_track(gens[i], &tracks[i]));
    }
    for (int i = NUM_IDS / 2; i < NUM_IDS; i++) CHECK_OK(mst_track_clone(tracks[0], &tracks[i]));
    for (int i = 0; i < NUM_IDS; i++) {
        const char *id = NULL;
        CHECK_OK(mst_track_get_id(tracks[i], &id));
        check_uuid(id);
        memcpy(ids[i], id, 37);
        for (int j = 0; j < i; j++)
            if (strcmp(ids[i], ids[j]) == 0) MST_TEST_FAIL_("tracks %d and %d have the same id %s", j, i, ids[i]);
        const char *again = NULL;
        CHECK_OK(mst_track_get_id(tracks[i], &again));
        CHECK(strcmp(again, id) == 0); /* stable */
    }
    /* Another handle to the generator's own track is the same track: the same id. */
    MstTrack *same = NULL;
    CHECK_OK(mst_generator_get_track(gens[0], &same));
    const char *id = NULL;
    CHECK_OK(mst_track_get_id(same, &id));
    CHECK(strcmp(id, ids[0]) == 0);
    CHECK_OK(mst_track_free(same));
    for (int i = 0; i < NUM_IDS; i++) CHECK_OK(mst_track_free(tracks[i]));
    for (int i = 0; i < NUM_IDS / 2; i++) CHECK_OK(mst_generator_free(gens[i]));
}

static void check_basic_attributes(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstKind kind = (MstKind)0;
    CHECK_OK(mst_track_get_kind(t, &kind));
    CHECK_EQ_INT(kind, MST_KIND_AUDIO);
    const char *label = NULL;
    CHECK_OK(mst_track_get_label(t, &label));
    CHECK(label != NULL && strcmp(label, "") == 0);
    bool b = false;
    CHECK_OK(mst_track_get_enabled(t, &b));
    CHECK(b);
    b = true;
    CHECK_OK(mst_track_get_muted(t, &b));
    CHECK(!b);
    MstReadyState rs = (MstReadyState)0;
    CHECK_OK(mst_track_get_ready_state(t, &rs));
    CHECK_EQ_INT(rs, MST_READY_STATE_LIVE);
    MstEndReason why = (MstEndReason)99;
    CHECK_OK(mst_track_get_end_reason(t, &why));
    CHECK_EQ_INT(why, MST_END_REASON_NONE);
    CHECK_OK(mst_track_set_enabled(t, false));
    CHECK_OK(mst_track_get_enabled(t, &b));
    CHECK(!b);
    CHECK_OK(mst_track_set_enabled(t, true));
    CHECK_OK(mst_track_get_enabled(t, &b));
    CHECK(b);
    /* A clone has the kind and its own enabled state, copied at clone time. */
    CHECK_OK(mst_track_set_enabled(t, false));
    MstTrack *c = NULL;
    CHECK_OK(mst_track_clone(t, &c));
    CHECK_OK(mst_track_get_kind(c, &kind));
    CHECK_EQ_INT(kind, MST_KIND_AUDIO);
    CHECK_OK(mst_track_get_enabled(c, &b));
    CHECK(!b);
    CHECK_OK(mst_track_set_enabled(c, true));
    CHECK_OK(mst_track_get_enabled(t, &b));
    CHECK(!b);
    /* Stopping one track ends it alone. */
    CHECK_OK(mst_track_stop(c));
    CHECK_OK(mst_track_get_ready_state(c, &rs));
    CHECK_EQ_INT(rs, MST_READY_STATE_ENDED);
    CHECK_OK(mst_track_get_end_reason(c, &why));
    CHECK_EQ_INT(why, MST_END_REASON_STOPPED);
    CHECK_OK(mst_track_get_ready_state(t, &rs));
    CHECK_EQ_INT(rs, MST_READY_STATE_LIVE);
    CHECK_OK(mst_track_get_end_reason(t, &why));
    CHECK_EQ_INT(why, MST_END_REASON_NONE);
    CHECK_OK(mst_track_free(c));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));

    /* A test pattern's kind and label. */
    MstTestPatternOptions o = MST_STRUCT_INIT(MstTestPatternOptions);
    o.width = 64;
    o.height = 32;
    o.unpaced = true;
    o.frame_count = 1;
    CHECK_OK(mst_track_create_test_pattern(&o, &t));
    CHECK_OK(mst_track_get_kind(t, &kind));
    CHECK_EQ_INT(kind, MST_KIND_VIDEO);
    CHECK_OK(mst_track_get_label(t, &label));
    if (strstr(label, "test pattern") == NULL) MST_TEST_FAIL_("test pattern label \"%s\"", label);
    const char *id = NULL;
    CHECK_OK(mst_track_get_id(t, &id));
    check_uuid(id);
    CHECK_OK(mst_track_free(t));
}

struct video_rig {
    MstGenerator *g;
    MstTrack *t;
    MstProcessor *p;
};

static struct video_rig rig_open(int32_t kind) {
    struct video_rig r;
    CHECK_OK(mst_generator_create(kind, &r.g));
    CHECK_OK(mst_generator_get_track(r.g, &r.t));
    CHECK_OK(mst_processor_create(r.t, MST_TEST_BUFFER(8), &r.p));
    return r;
}

static void rig_close(struct video_rig *r) {
    CHECK_OK(mst_processor_free(r->p));
    CHECK_OK(mst_track_free(r->t));
    CHECK_OK(mst_generator_free(r->g));
}

#define VW 32
#define VH 16

/* A 32x16 frame (visible 28x12 at (2,2), display 56x24) full of non-black content. */
static MstFrame *content_frame(int32_t format, int64_t ts) {
    static uint8_t buf[VW * VH * 4];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(60 + i % 101);
    MstVideoFrameInit init = mst_test_video_init(format, VW, VH, ts);
    init.duration = 33333;
    init.visible_rect = (MstRect){2, 2, 28, 12};
    init.display_width = 56;
    init.display_height = 24;
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &f));
    return f;
}

/* Reads the next frame: same geometry and timestamp as written, black or not, with the
 * expected processor sequence number. */
static void read_video(MstProcessor *p, int32_t format, int64_t ts, int want_black, uint64_t seq) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 10000, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.format, format);
    CHECK_EQ_INT(info.visible_rect.width, 28);
    CHECK_EQ_INT(info.visible_rect.height, 12);
    CHECK_EQ_INT(info.display_width, 56);
    CHECK_EQ_INT(info.display_height, 24);
    CHECK_EQ_INT(info.timestamp, ts);
    CHECK_EQ_INT(info.duration, 33333);
    CHECK_EQ_INT(info.sequence, seq);
    size_t size = 0;
    CHECK_OK(mst_frame_video_allocation_size(f, NULL, &size));
    uint8_t *px = malloc(size);
    CHECK(px != NULL);
    CHECK_OK(mst_frame_video_copy_to(f, px, size, NULL, NULL));
    size_t black_bytes = 0;
    if (format == MST_VIDEO_PIXEL_FORMAT_I420) {
        CHECK_EQ_INT(size, 28 * 12 + 2 * 14 * 6);
        for (size_t i = 0; i < size; i++) black_bytes += px[i] == (i < 28 * 12 ? 16 : 128);
    } else { /* RGBA */
        CHECK_EQ_INT(size, 28 * 12 * 4);
        for (size_t i = 0; i < size; i++) black_bytes += px[i] == (i % 4 == 3 ? 255 : 0);
    }
    if (want_black && black_bytes != size)
        MST_TEST_FAIL_("format %d ts %lld from a disabled track: %zu of %zu bytes are not black", (int)format,
                       (long long)ts, size - black_bytes, size);
    if (!want_black && black_bytes == size)
        MST_TEST_FAIL_("format %d ts %lld from an enabled track is all black", (int)format, (long long)ts);
    free(px);
    CHECK_OK(mst_frame_free(f));
}

static void check_disabled_video(int32_t format) {
    struct video_rig r = rig_open(MST_KIND_VIDEO);
    /* A clone keeps its own enabled state: it stays enabled throughout. */
    MstTrack *clone = NULL;
    CHECK_OK(mst_track_clone(r.t, &clone));
    MstProcessor *cp = NULL;
    CHECK_OK(mst_processor_create(clone, MST_TEST_BUFFER(8), &cp));

    mst_test_write(r.g, content_frame(format, 100));
    read_video(r.p, format, 100, 0, 1);
    CHECK_OK(mst_track_set_enabled(r.t, false));
    mst_test_write(r.g, content_frame(format, 200));
    mst_test_write(r.g, content_frame(format, 300));
    read_video(r.p, format, 200, 1, 2);
    read_video(r.p, format, 300, 1, 3);
    CHECK_OK(mst_track_set_enabled(r.t, true));
    mst_test_write(r.g, content_frame(format, 400));
    read_video(r.p, format, 400, 0, 4);
    for (int i = 0; i < 4; i++) read_video(cp, format, 100 * (i + 1), 0, (uint64_t)i + 1);

    /* The processor never ended and counted everything. */
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(r.p, &st));
    CHECK(!st.ended);
    CHECK_EQ_INT(st.total, 4);
    CHECK_EQ_INT(st.delivered, 4);
    CHECK_EQ_INT(st.discarded, 0);
    MstReadyState rs;
    CHECK_OK(mst_track_get_ready_state(r.t, &rs));
    CHECK_EQ_INT(rs, MST_READY_STATE_LIVE);
    MstEndReason why;
    CHECK_OK(mst_track_get_end_reason(r.t, &why));
    CHECK_EQ_INT(why, MST_END_REASON_NONE);

    CHECK_OK(mst_processor_free(cp));
    CHECK_OK(mst_track_free(clone));
    rig_close(&r);
}

static void write_audio(MstGenerator *g, int32_t format, size_t bytes_per_sample, int64_t ts) {
    enum { FRAMES = 16, CH = 2 };
    uint8_t buf[FRAMES * CH * 4];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(0x31 + i % 7); /* no silence anywhere */
    MstAudioDataInit init = {sizeof(MstAudioDataInit), format, 44100.0f, FRAMES, CH, ts};
    MstFrame *a = NULL;
    CHECK_OK(mst_frame_create_audio(&init, buf, FRAMES * CH * bytes_per_sample, &a));
    CHECK_OK(mst_generator_write(g, a));
    CHECK_OK(mst_frame_free(a));
}

static void read_audio(MstProcessor *p, int32_t format, size_t bytes_per_sample, int64_t ts, int want_silence) {
    MstFrame *a = NULL;
    CHECK_OK(mst_processor_read(p, 10000, &a));
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    CHECK_OK(mst_frame_get_audio_info(a, &info));
    CHECK_EQ_INT(info.format, format);
    CHECK(info.sample_rate == 44100.0f);
    CHECK_EQ_INT(info.number_of_frames, 16);
    CHECK_EQ_INT(info.number_of_channels, 2);
    CHECK_EQ_INT(info.timestamp, ts);
    uint8_t buf[16 * 2 * 4];
    size_t n = 16 * 2 * bytes_per_sample;
    int planar = format >= MST_AUDIO_SAMPLE_FORMAT_U8_PLANAR;
    for (uint32_t plane = 0; plane < (planar ? 2u : 1u); plane++) {
        MstAudioCopyOptions o = {sizeof(MstAudioCopyOptions), plane, 0, 0, 0};
        CHECK_OK(mst_frame_audio_copy_to(a, buf, sizeof buf, &o));
        size_t len = planar ? n / 2 : n;
        uint8_t silent = (format == MST_AUDIO_SAMPLE_FORMAT_U8 || format == MST_AUDIO_SAMPLE_FORMAT_U8_PLANAR) ? 128 : 0;
        size_t silent_bytes = 0;
        for (size_t i = 0; i < len; i++) silent_bytes += buf[i] == silent;
        if (want_silence && silent_bytes != len)
            MST_TEST_FAIL_("audio format %d from a disabled track: %zu of %zu bytes are not silence (%u)", (int)format,
                           len - silent_bytes, len, silent);
        if (!want_silence && silent_bytes != 0)
            MST_TEST_FAIL_("audio format %d from an enabled track has silent bytes", (int)format);
    }
    CHECK_OK(mst_frame_free(a));
}

static void check_disabled_audio(void) {
    const struct {
        int32_t format;
        size_t bytes;
    } cases[] = {
        {MST_AUDIO_SAMPLE_FORMAT_F32, 4},        {MST_AUDIO_SAMPLE_FORMAT_S16, 2},
        {MST_AUDIO_SAMPLE_FORMAT_U8, 1},         {MST_AUDIO_SAMPLE_FORMAT_U8_PLANAR, 1},
        {MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR, 4}, {MST_AUDIO_SAMPLE_FORMAT_S32, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct video_rig r = rig_open(MST_KIND_AUDIO);
        write_audio(r.g, cases[i].format, cases[i].bytes, 10);
        read_audio(r.p, cases[i].format, cases[i].bytes, 10, 0);
        CHECK_OK(mst_track_set_enabled(r.t, false));
        write_audio(r.g, cases[i].format, cases[i].bytes, 20);
        read_audio(r.p, cases[i].format, cases[i].bytes, 20, 1);
        CHECK_OK(mst_track_set_enabled(r.t, true));
        write_audio(r.g, cases[i].format, cases[i].bytes, 30);
        read_audio(r.p, cases[i].format, cases[i].bytes, 30, 0);
        MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
        CHECK_OK(mst_processor_get_stats(r.p, &st));
        CHECK(!st.ended);
        CHECK_EQ_INT(st.delivered, 3);
        rig_close(&r);
    }
}

int main(void) {
    check_ids();
    check_basic_attributes();
    check_disabled_video(MST_VIDEO_PIXEL_FORMAT_I420);
    check_disabled_video(MST_VIDEO_PIXEL_FORMAT_RGBA);
    check_disabled_audio();
    printf("test_track_attributes: ok\n");
    return 0;
}
