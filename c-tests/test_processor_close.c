/* processorClose when the track ends (spec 2.1.5): whatever ends the track (stop(), the
 * generator's closeWritable, the source finishing), its processors close: queued frames are
 * discarded, reads report the end, and a reader blocked waiting for a frame is released.
 * Freeing a processor while another thread is blocked reading it releases that reader too. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>

#include "common.h"

enum { W = 16, H = 16 };

/* After the track ended: nothing queued, the queued frames discarded, reads end at once. */
static void expect_closed(MstProcessor *p, uint64_t total, uint64_t discarded) {
    MstProcessorStats st = mst_test_stats(p);
    CHECK(st.ended);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.total, total);
    CHECK_EQ_INT(st.discarded, discarded);
    CHECK_EQ_INT(st.delivered, total - discarded);
    MstFrame *f = NULL;
    CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_ENDED);
    CHECK_STATUS(mst_processor_read(p, 10000, &f), MST_ERR_ENDED); /* 10 s: hang guard only */
    CHECK(f == NULL);
}

int main(void) {
    MstGenerator *g = NULL;
    MstTrack *own = NULL, *clone = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &own));
    CHECK_OK(mst_track_clone(own, &clone));

    /* mst_track_stop() on the processor's track: queued frames discarded, reads end. */
    MstProcessor *on_clone = NULL, *on_own = NULL;
    CHECK_OK(mst_processor_create(clone, MST_TEST_BUFFER(4), &on_clone));
    CHECK_OK(mst_processor_create(own, MST_TEST_BUFFER(4), &on_own));
    for (int i = 1; i <= 3; i++) mst_test_write(g, mst_test_video_frame(W, H, i * 1000));
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(on_clone, 0, &f)); /* one delivered, two left queued */
    CHECK_OK(mst_frame_free(f));
    f = NULL;
    CHECK_EQ_INT(mst_test_stats(on_clone).queued, 2);
    CHECK_OK(mst_track_stop(clone));
    expect_closed(on_clone, 3, 2);
    /* The other track's processor is untouched. */
    MstProcessorStats st = mst_test_stats(on_own);
    CHECK(!st.ended);
    CHECK_EQ_INT(st.queued, 3);

    /* mst_generator_close(): the same for the processors of every remaining track. */
    CHECK_OK(mst_generator_close(g));
    expect_closed(on_own, 3, 3);
    CHECK_OK(mst_processor_free(on_clone));
    CHECK_OK(mst_processor_free(on_own));
    CHECK_OK(mst_track_free(clone));
    CHECK_OK(mst_track_free(own));
    CHECK_OK(mst_generator_free(g));

    /* A reader blocked in mst_processor_read(-1) is released with ENDED by the stop. */
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &own));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(own, MST_TEST_BUFFER(4), &p));
    struct mst_test_reader r;
    mst_test_reader_start(&r, p, -1, 50);
    CHECK_OK(mst_track_stop(own));
    CHECK_STATUS(mst_test_reader_join(&r), MST_ERR_ENDED);
    CHECK(r.frame == NULL);
    CHECK(mst_test_stats(p).ended);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(own));
    CHECK_OK(mst_generator_free(g));

    /* The same when the writable closes. */
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &own));
    CHECK_OK(mst_processor_create(own, MST_TEST_BUFFER(4), &p));
    mst_test_reader_start(&r, p, -1, 50);
    CHECK_OK(mst_generator_close(g));
    CHECK_STATUS(mst_test_reader_join(&r), MST_ERR_ENDED);
    CHECK(r.frame == NULL);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(own));
    CHECK_OK(mst_generator_free(g));

    /* mst_processor_free() while another thread is blocked reading: the reader is released
     * with ENDED and nothing is used after free. If the reader had not yet entered the call
     * when the handle was freed, it gets MST_ERR_INVALID_STATE (a freed handle) instead: that
     * is the test losing the race, so it tries again with a longer settle time. A library that
     * answers a blocked reader with anything but ENDED fails every attempt. */
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &own));
    MstStatus last = MST_ERR_PANIC;
    for (long settle = 20; settle <= 2560; settle *= 2) {
        CHECK_OK(mst_processor_create(own, MST_TEST_BUFFER(4), &p));
        mst_test_reader_start(&r, p, -1, settle);
        CHECK_OK(mst_processor_free(p));
        last = mst_test_reader_join(&r);
        CHECK(r.frame == NULL);
        if (last != MST_ERR_INVALID_STATE) break;
    }
    CHECK_STATUS(last, MST_ERR_ENDED);
    /* The track itself goes on. */
    MstReadyState state = 0;
    CHECK_OK(mst_track_get_ready_state(own, &state));
    CHECK_EQ_INT(state, MST_READY_STATE_LIVE);
    CHECK_OK(mst_track_free(own));
    CHECK_OK(mst_generator_free(g));

    /* A source that finishes on its own (a test pattern of 5 frames, unpaced) ends the track
     * and so the processor: a reader sees frames, then ENDED, never a timeout. */
    MstTestPatternOptions opts = {.struct_size = sizeof(MstTestPatternOptions), .width = 64, .height = 36, .unpaced = true, .frame_count = 5};
    MstTrack *pattern = NULL;
    CHECK_OK(mst_track_create_test_pattern(&opts, &pattern));
    CHECK_OK(mst_processor_create(pattern, MST_TEST_BUFFER(8), &p));
    MstStatus s;
    int frames = 0;
    while ((s = mst_processor_read(p, 10000, &f)) == MST_OK) {
        CHECK_OK(mst_frame_free(f));
        f = NULL;
        CHECK(++frames <= 5);
    }
    CHECK_STATUS(s, MST_ERR_ENDED);
    st = mst_test_stats(p);
    CHECK(st.ended);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.delivered, frames);
    CHECK_EQ_INT(st.total, st.delivered + st.discarded);
    MstEndReason reason = MST_END_REASON_NONE;
    CHECK_OK(mst_track_get_end_reason(pattern, &reason));
    CHECK_EQ_INT(reason, MST_END_REASON_SOURCE_ENDED);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(pattern));
    return 0;
}
