/* stop (spec 2.2.4.2): stop() ends that track only (readyState ended, reason STOPPED, its
 * ended callback once, its processors closed); the generator's writable stays open while any
 * connected track is live and closes when the last one ends. Stopping again does nothing. */
#include <stdint.h>

#include "common.h"

enum { W = 16, H = 16, TRACKS = 3 };

static MstEndReason end_reason(const MstTrack *t) {
    MstEndReason r = -1;
    CHECK_OK(mst_track_get_end_reason(t, &r));
    return r;
}

static bool writable_closed(const MstGenerator *g) {
    MstWritableState state = MST_WRITABLE_STATE_ERRORED;
    CHECK_OK(mst_generator_get_state(g, &state));
    CHECK(state == MST_WRITABLE_STATE_WRITABLE || state == MST_WRITABLE_STATE_CLOSED);
    return state == MST_WRITABLE_STATE_CLOSED;
}

int main(void) {
    MstGenerator *g = NULL;
    MstTrack *tracks[TRACKS] = {NULL};
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &tracks[0]));
    CHECK_OK(mst_track_clone(tracks[0], &tracks[1]));
    CHECK_OK(mst_track_clone(tracks[0], &tracks[2]));

    struct mst_test_ended_record records[TRACKS];
    MstProcessor *processors[TRACKS] = {NULL};
    for (int i = 0; i < TRACKS; i++) {
        records[i] = (struct mst_test_ended_record){0, MST_END_REASON_NONE, 0};
        CHECK_OK(mst_track_set_ended_callback(tracks[i], mst_test_on_ended, &records[i], mst_test_on_ended_destroy));
        CHECK_OK(mst_processor_create(tracks[i], MST_TEST_BUFFER(4), &processors[i]));
    }
    mst_test_write(g, mst_test_video_frame(W, H, 1000));

    /* Stop the clones first, then the generator's own track; the writable closes only with
     * the last one. */
    const int order[TRACKS] = {1, 0, 2};
    for (int step = 0; step < TRACKS; step++) {
        int i = order[step];
        CHECK_EQ_INT(mst_test_ready_state(tracks[i]), MST_READY_STATE_LIVE);
        CHECK_EQ_INT(end_reason(tracks[i]), MST_END_REASON_NONE);
        CHECK_OK(mst_track_stop(tracks[i]));

        CHECK_EQ_INT(mst_test_ready_state(tracks[i]), MST_READY_STATE_ENDED);
        CHECK_EQ_INT(end_reason(tracks[i]), MST_END_REASON_STOPPED);
        CHECK_EQ_INT(records[i].calls, 1);
        CHECK_EQ_INT(records[i].reason, MST_END_REASON_STOPPED);
        CHECK_EQ_INT(records[i].destroys, 1);
        MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
        CHECK_OK(mst_processor_get_stats(processors[i], &st));
        CHECK(st.ended);
        CHECK_EQ_INT(st.queued, 0);
        MstFrame *f = NULL;
        CHECK_STATUS(mst_processor_read(processors[i], 0, &f), MST_ERR_ENDED);

        /* The tracks not yet stopped are untouched and still fed. */
        for (int later = step + 1; later < TRACKS; later++) {
            int j = order[later];
            CHECK_EQ_INT(mst_test_ready_state(tracks[j]), MST_READY_STATE_LIVE);
            CHECK_EQ_INT(records[j].calls, 0);
            CHECK_OK(mst_processor_get_stats(processors[j], &st));
            CHECK(!st.ended);
        }

        if (step < TRACKS - 1) {
            CHECK(!writable_closed(g));
            int64_t ts = 2000 + step * 1000;
            mst_test_write(g, mst_test_video_frame(W, H, ts));
            for (int later = step + 1; later < TRACKS; later++) {
                int j = order[later];
                CHECK_OK(mst_processor_get_stats(processors[j], &st));
                CHECK_EQ_INT(st.total, 2 + step);
            }
            CHECK_OK(mst_processor_get_stats(processors[i], &st));
            CHECK_EQ_INT(st.total, 1 + step);
        }
    }

    /* The last connected track has ended: the writable is closed. */
    CHECK(writable_closed(g));
    MstFrame *late = mst_test_video_frame(W, H, 9000);
    CHECK_STATUS(mst_generator_write(g, late), MST_ERR_TYPE); /* the Streams TypeError */
    CHECK_OK(mst_frame_free(late));                           /* still the caller's */

    /* Idempotent: stopping again, or closing the writable, keeps reason and callback count. */
    for (int i = 0; i < TRACKS; i++) CHECK_OK(mst_track_stop(tracks[i]));
    CHECK_OK(mst_generator_close(g));
    for (int i = 0; i < TRACKS; i++) {
        CHECK_EQ_INT(mst_test_ready_state(tracks[i]), MST_READY_STATE_ENDED);
        CHECK_EQ_INT(end_reason(tracks[i]), MST_END_REASON_STOPPED);
        CHECK_EQ_INT(records[i].calls, 1);
        CHECK_EQ_INT(records[i].destroys, 1);
    }

    for (int i = 0; i < TRACKS; i++) {
        CHECK_OK(mst_processor_free(processors[i]));
        CHECK_OK(mst_track_free(tracks[i]));
    }
    CHECK_OK(mst_generator_free(g));
    for (int i = 0; i < TRACKS; i++) CHECK_EQ_INT(records[i].calls, 1);

    /* An ended callback registered after the end never fires; its destroy-notify runs once. */
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_stop(t));
    CHECK(writable_closed(g)); /* it was the only track */
    struct mst_test_ended_record late_record = {0, MST_END_REASON_NONE, 0};
    CHECK_OK(mst_track_set_ended_callback(t, mst_test_on_ended, &late_record, mst_test_on_ended_destroy));
    CHECK_OK(mst_track_stop(t));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    CHECK_EQ_INT(late_record.calls, 0);
    CHECK_EQ_INT(late_record.destroys, 1);
    return 0;
}
