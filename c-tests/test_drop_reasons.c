/* A processor's stats split discarded frames by cause, and every frame read tells how many
 * frames this processor discarded since the previous frame it returned:
 * - queue full: the drop-oldest eviction when maxBufferSize frames are queued;
 * - closed: frames emptied from the queue by close (or the track's end);
 * - muted: frames written while the generator was muted, which its tracks never got;
 * - decimated: frames the track's frame-rate constraint skipped;
 * - disabled and failed: nothing, here (a disabled track delivers black frames instead).
 * `discarded` is the sum of the causes, and total = delivered + queued + the discards of
 * frames that reached the queue (queue full, superseded, closed). */
#include <stdio.h>

#include "common.h"

static void check_sums(const MstProcessorStats *s) {
    CHECK_EQ_INT(s->discarded, s->discarded_queue_full + s->discarded_superseded + s->discarded_closed +
                                   s->discarded_muted + s->discarded_disabled + s->discarded_decimated +
                                   s->discarded_failed);
    CHECK_EQ_INT(s->total, s->delivered + s->queued + s->discarded_queue_full + s->discarded_superseded +
                               s->discarded_closed);
}

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessorOptions o = MST_STRUCT_INIT(MstProcessorOptions);
    o.max_buffer_size = 2;
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, &o, &p));

    /* Queue full: 5 frames into a queue of 2 evict the 3 oldest. */
    for (int i = 0; i < 5; i++) mst_test_write_video_frame(g, 16, 16, i);
    MstProcessorStats s = mst_test_stats(p);
    CHECK_EQ_INT(s.discarded_queue_full, 3);
    CHECK_EQ_INT(s.discarded, 3);
    check_sums(&s);
    MstVideoFrameInfo info = mst_test_read_video_info(p);
    CHECK_EQ_INT(info.timestamp, 3);
    CHECK_EQ_INT(info.discarded_before, 3);
    info = mst_test_read_video_info(p);
    CHECK_EQ_INT(info.timestamp, 4);
    CHECK_EQ_INT(info.discarded_before, 0);

    /* Muted: written frames never reach the track. */
    CHECK_OK(mst_generator_set_muted(g, true));
    for (int i = 5; i < 9; i++) mst_test_write_video_frame(g, 16, 16, i);
    CHECK_OK(mst_generator_set_muted(g, false));
    mst_test_write_video_frame(g, 16, 16, 9);
    s = mst_test_stats(p);
    CHECK_EQ_INT(s.discarded_muted, 4);
    check_sums(&s);
    info = mst_test_read_video_info(p);
    CHECK_EQ_INT(info.timestamp, 9);
    CHECK_EQ_INT(info.discarded_before, 4);

    /* Disabled: a black frame is delivered in its place, nothing is discarded. */
    CHECK_OK(mst_track_set_enabled(t, false));
    mst_test_write_video_frame(g, 16, 16, 10);
    CHECK_OK(mst_track_set_enabled(t, true));
    info = mst_test_read_video_info(p);
    CHECK_EQ_INT(info.timestamp, 10);
    CHECK_EQ_INT(info.discarded_before, 0);
    s = mst_test_stats(p);
    CHECK_EQ_INT(s.discarded_disabled, 0);
    CHECK_EQ_INT(s.discarded_failed, 0);
    check_sums(&s);

    /* Decimated: at most 10 fps from frames 1/30 s apart keeps one in three. */
    MstVideoConstraints c = MST_STRUCT_INIT(MstVideoConstraints);
    c.frame_rate.present = MST_CONSTRAIN_MAX;
    c.frame_rate.max = 10;
    CHECK_OK(mst_track_apply_constraints(t, &c));
    uint64_t decimated_before = mst_test_stats(p).discarded_decimated;
    int read = 0;
    uint64_t reported = 0;
    for (int i = 0; i < 30; i++) {
        mst_test_write_video_frame(g, 16, 16, 1000000 + (int64_t)i * 33333);
        MstFrame *f = NULL;
        if (mst_processor_read(p, 0, &f) == MST_OK) {
            MstVideoFrameInfo fi = MST_STRUCT_INIT(MstVideoFrameInfo);
            CHECK_OK(mst_frame_get_video_info(f, &fi));
            reported += fi.discarded_before;
            CHECK_OK(mst_frame_free(f));
            read++;
        }
    }
    s = mst_test_stats(p);
    uint64_t decimated = s.discarded_decimated - decimated_before;
    if (read < 9 || read > 11 || decimated != (uint64_t)(30 - read)) {
        fprintf(stderr, "10 fps of 30 frames at 30 fps: %d read, %llu decimated\n", read,
                (unsigned long long)decimated);
        return 1;
    }
    /* Every decimated frame after the first frame read is reported by the next read. */
    CHECK(reported >= decimated - 2 && reported <= decimated);
    check_sums(&s);

    /* Closed: what is queued at close is discarded for that reason. */
    MstVideoConstraints none = MST_STRUCT_INIT(MstVideoConstraints);
    CHECK_OK(mst_track_apply_constraints(t, &none));
    mst_test_write_video_frame(g, 16, 16, 5000000);
    mst_test_write_video_frame(g, 16, 16, 5033333);
    CHECK_EQ_INT(mst_test_stats(p).queued, 2);
    CHECK_OK(mst_processor_close(p));
    s = mst_test_stats(p);
    CHECK_EQ_INT(s.discarded_closed, 2);
    CHECK_EQ_INT(s.queued, 0);
    check_sums(&s);

    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_drop_reasons: ok\n");
    return 0;
}
