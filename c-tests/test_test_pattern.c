/* mst_track_create_test_pattern(): defaults, a frame-counted unpaced source that ends with
 * MST_END_REASON_SOURCE_ENDED, frames of the asked size and format, a moving picture,
 * timestamps n x 1e6 / frame_rate, and option validation.
 *
 * An unpaced source starts with its first consumer, waits while a consumer's queue is full and
 * lets the queues drain before it ends, so a reader that keeps up gets every frame. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define HANG_GUARD_MS 60000

static MstTestPatternOptions options(uint32_t w, uint32_t h, double rate, int32_t format, uint64_t count) {
    MstTestPatternOptions o = MST_STRUCT_INIT(MstTestPatternOptions);
    o.width = w;
    o.height = h;
    o.frame_rate = rate;
    o.format = format;
    o.unpaced = true;
    o.frame_count = count;
    return o;
}

/* Reads until MST_ERR_ENDED, closing the frames; returns how many were read. */
static int drain(MstProcessor *p) {
    int n = 0;
    for (;;) {
        MstFrame *f = NULL;
        MstStatus s = mst_processor_read(p, HANG_GUARD_MS, &f);
        if (s == MST_ERR_ENDED) return n;
        CHECK_STATUS(s, MST_OK);
        CHECK_OK(mst_frame_free(f));
        n++;
    }
}

static void check_defaults(void) {
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_test_pattern(NULL, &t));
    MstKind kind = (MstKind)0;
    CHECK_OK(mst_track_get_kind(t, &kind));
    CHECK_EQ_INT(kind, MST_KIND_VIDEO);
    const char *label = NULL;
    CHECK_OK(mst_track_get_label(t, &label));
    if (strstr(label, "test pattern") == NULL) MST_TEST_FAIL_("label \"%s\" does not say \"test pattern\"", label);
    MstCapabilities caps = MST_STRUCT_INIT(MstCapabilities);
    CHECK_OK(mst_track_get_capabilities(t, &caps));
    CHECK(caps.present & MST_SETTING_WIDTH);
    CHECK_EQ_INT(caps.width_max, 640);
    CHECK_EQ_INT(caps.height_max, 360);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(2), &p));
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, HANG_GUARD_MS, &f)); /* real time: the first frame comes soon */
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.format, MST_VIDEO_PIXEL_FORMAT_I420);
    CHECK_EQ_INT(info.coded_width, 640);
    CHECK_EQ_INT(info.coded_height, 360);
    CHECK_EQ_INT(info.visible_rect.width, 640);
    CHECK_EQ_INT(info.visible_rect.height, 360);
    CHECK_EQ_INT(info.display_width, 640);
    CHECK_EQ_INT(info.display_height, 360);
    CHECK(info.duration >= 33333 && info.duration <= 33334);
    CHECK_OK(mst_frame_free(f));
    CHECK_OK(mst_track_stop(t));
    CHECK_STATUS(mst_processor_read(p, HANG_GUARD_MS, &f), MST_ERR_ENDED);
    MstEndReason why;
    CHECK_OK(mst_track_get_end_reason(t, &why));
    CHECK_EQ_INT(why, MST_END_REASON_STOPPED);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

static void check_frame_count(void) {
    MstTestPatternOptions o = options(64, 36, 30, 0, 10);
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_test_pattern(&o, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(32), &p));
    int n = 0;
    int64_t last_k = -1;
    uint64_t last_seq = 0;
    for (;;) {
        MstFrame *f = NULL;
        MstStatus s = mst_processor_read(p, HANG_GUARD_MS, &f);
        if (s == MST_ERR_ENDED) break;
        CHECK_STATUS(s, MST_OK);
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHECK_OK(mst_frame_get_video_info(f, &info));
        /* Frame k of the source has timestamp k x 1e6 / 30, truncated. */
        int64_t k = (int64_t)llround((double)info.timestamp * 30.0 / 1e6);
        CHECK(k >= 0 && k < 10);
        CHECK_EQ_INT(info.timestamp, (int64_t)((double)k * 1e6 / 30.0));
        CHECK(k > last_k);
        CHECK(info.sequence > last_seq);
        if (last_seq) CHECK_EQ_INT(k - last_k, (int64_t)(info.sequence - last_seq)); /* a 32-frame queue loses none */
        last_k = k;
        last_seq = info.sequence;
        CHECK_OK(mst_frame_free(f));
        n++;
    }
    CHECK_EQ_INT(n, 10);
    MstEndReason why = MST_END_REASON_NONE;
    CHECK_OK(mst_track_get_end_reason(t, &why));
    CHECK_EQ_INT(why, MST_END_REASON_SOURCE_ENDED);
    MstReadyState rs;
    CHECK_OK(mst_track_get_ready_state(t, &rs));
    CHECK_EQ_INT(rs, MST_READY_STATE_ENDED);
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p, &st));
    CHECK(st.ended);
    CHECK_EQ_INT(st.total, 10);
    CHECK_EQ_INT(st.total, st.delivered + st.discarded + st.queued);
    CHECK_EQ_INT(st.delivered, n);
    CHECK_EQ_INT(st.max_buffer_size, 32);
    MstFrame *f = NULL;
    CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_ENDED);
    /* A processor made after the end is ended at once. */
    MstProcessor *late = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &late));
    CHECK_STATUS(mst_processor_read(late, HANG_GUARD_MS, &f), MST_ERR_ENDED);
    CHECK_OK(mst_processor_free(late));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

struct read_frame {
    MstVideoFrameInfo info;
    uint8_t *bytes;
    size_t size;
};

static struct read_frame read_frame(MstProcessor *p) {
    struct read_frame r = {.info = MST_STRUCT_INIT(MstVideoFrameInfo)};
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, HANG_GUARD_MS, &f));
    CHECK_OK(mst_frame_get_video_info(f, &r.info));
    CHECK_OK(mst_frame_video_allocation_size(f, NULL, &r.size));
    r.bytes = malloc(r.size);
    CHECK(r.bytes != NULL);
    CHECK_OK(mst_frame_video_copy_to(f, r.bytes, r.size, NULL, NULL));
    CHECK_OK(mst_frame_free(f));
    return r;
}

static void check_format(int32_t format, size_t packed_size, double rate) {
    const uint32_t w = 160, h = 90;
    MstTestPatternOptions o = options(w, h, rate, format, 0);
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_test_pattern(&o, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(32), &p));
    struct read_frame a = read_frame(p), b = read_frame(p);
    CHECK_OK(mst_track_stop(t));
    (void)drain(p);

    const struct read_frame *frames[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        const MstVideoFrameInfo *info = &frames[i]->info;
        CHECK_EQ_INT(info->format, format);
        CHECK_EQ_INT(info->coded_width, w);
        CHECK_EQ_INT(info->coded_height, h);
        CHECK_EQ_INT(info->visible_rect.width, w);
        CHECK_EQ_INT(info->visible_rect.height, h);
        CHECK_EQ_INT(frames[i]->size, packed_size);
        CHECK(llabs(info->duration - (int64_t)(1e6 / rate)) <= 1);
    }
    /* Timestamps: n x 1e6 / rate, so the step is (sequence step) x 1e6 / rate, within rounding. */
    CHECK(b.info.sequence > a.info.sequence);
    CHECK(b.info.timestamp > a.info.timestamp);
    double want_step = (double)(b.info.sequence - a.info.sequence) * 1e6 / rate;
    if (fabs((double)(b.info.timestamp - a.info.timestamp) - want_step) > 1.0)
        MST_TEST_FAIL_("format %d at %g fps: timestamps %lld then %lld (sequences %llu, %llu)", (int)format, rate,
                       (long long)a.info.timestamp, (long long)b.info.timestamp, (unsigned long long)a.info.sequence,
                       (unsigned long long)b.info.sequence);
    /* The pattern moves. */
    if (memcmp(a.bytes, b.bytes, packed_size) == 0)
        MST_TEST_FAIL_("format %d: frames %lld and %lld are identical", (int)format, (long long)a.info.timestamp,
                       (long long)b.info.timestamp);
    /* Plausible content: opaque RGB, studio-range luma. */
    for (size_t i = 0; i < packed_size; i++) {
        if ((format == MST_VIDEO_PIXEL_FORMAT_RGBA || format == MST_VIDEO_PIXEL_FORMAT_BGRA) && i % 4 == 3)
            CHECK_EQ_INT(a.bytes[i], 255);
        if ((format == MST_VIDEO_PIXEL_FORMAT_I420 || format == MST_VIDEO_PIXEL_FORMAT_NV12) && i < (size_t)w * h)
            CHECK(a.bytes[i] >= 16 && a.bytes[i] <= 235);
    }
    free(a.bytes);
    free(b.bytes);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

static void check_invalid(void) {
    struct {
        MstTestPatternOptions o;
        const char *what;
    } cases[] = {
        {options(1, 90, 30, 0, 1), "width 1"},
        {options(160, 1, 30, 0, 1), "height 1"},
        {options(16385, 90, 30, 0, 1), "width 16385"},
        {options(160, 16385, 30, 0, 1), "height 16385"},
        {options(160, 90, 2000, 0, 1), "frame_rate 2000"},
        {options(160, 90, 1000.5, 0, 1), "frame_rate 1000.5"},
        {options(160, 90, -30, 0, 1), "frame_rate -30"},
        {options(160, 90, NAN, 0, 1), "frame_rate NaN"},
        {options(160, 90, INFINITY, 0, 1), "frame_rate infinity"},
        {options(160, 90, 30, 42, 1), "format 42"},
        {options(160, 90, 30, 10, 1), "format 10"},
        {options(160, 90, 30, -1, 1), "format -1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        MstTrack *t = (MstTrack *)(uintptr_t)0x5e5e;
        MstStatus s = mst_track_create_test_pattern(&cases[i].o, &t);
        if (s != MST_ERR_INVALID_ARG)
            MST_TEST_FAIL_("test pattern with %s: %s, expected MST_ERR_INVALID_ARG", cases[i].what, mst_status_str(s));
        CHECK(t == (MstTrack *)(uintptr_t)0x5e5e);
    }
    /* Zero fields take the defaults (frame_rate 0 is 30 fps); the limits themselves are valid. */
    MstTestPatternOptions ok[] = {options(160, 90, 0, 0, 1), options(2, 2, 1000, 0, 1), options(33, 17, 0.5, 0, 1)};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        MstTrack *t = NULL;
        CHECK_OK(mst_track_create_test_pattern(&ok[i], &t));
        CHECK_OK(mst_track_free(t));
    }
}

int main(void) {
    check_defaults();
    check_frame_count();
    check_format(MST_VIDEO_PIXEL_FORMAT_I420, 160 * 90 * 3 / 2, 30);
    check_format(MST_VIDEO_PIXEL_FORMAT_NV12, 160 * 90 * 3 / 2, 30);
    check_format(MST_VIDEO_PIXEL_FORMAT_RGBA, 160 * 90 * 4, 30);
    check_format(MST_VIDEO_PIXEL_FORMAT_BGRA, 160 * 90 * 4, 30);
    check_format(MST_VIDEO_PIXEL_FORMAT_I444, 160 * 90 * 3, 50);
    check_format(MST_VIDEO_PIXEL_FORMAT_I420, 160 * 90 * 3 / 2, 1000);
    check_invalid();
    printf("test_test_pattern: ok\n");
    return 0;
}
