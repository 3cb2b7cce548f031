/* closeWritable (spec 2.2.3, 2.2.4.4), mst_generator_close(): every track connected to the
 * generator (its own and its clones) ends, its ended callback fires once with
 * MST_END_REASON_WRITABLE_CLOSED, its processors close; the writable accepts nothing more (a
 * write is the Streams TypeError, MST_ERR_TYPE, and leaves it closed, not errored) and a
 * rejected frame stays the caller's. */
#include <string.h>

#include "common.h"

enum { W = 16, H = 16, TRACKS = 3 };

static void check_records(const struct mst_test_ended_record *records) {
    for (int i = 0; i < TRACKS; i++) {
        if (records[i].calls != 1 || records[i].reason != MST_END_REASON_WRITABLE_CLOSED ||
            records[i].destroys != 1) {
            fprintf(stderr,
                    "%s: track %d: ended callback called %d times (reason %d), destroy-notify %d "
                    "times; expected once with MST_END_REASON_WRITABLE_CLOSED (%d), destroy once\n",
                    __FILE__, i, records[i].calls, (int)records[i].reason, records[i].destroys,
                    (int)MST_END_REASON_WRITABLE_CLOSED);
            exit(1);
        }
    }
}

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *tracks[TRACKS] = {NULL};
    CHECK_OK(mst_generator_get_track(g, &tracks[0]));
    CHECK_OK(mst_track_clone(tracks[0], &tracks[1]));
    CHECK_OK(mst_track_clone(tracks[1], &tracks[2])); /* a clone of a clone is connected too */

    struct mst_test_ended_record records[TRACKS];
    memset(records, 0, sizeof records);
    MstProcessor *processors[TRACKS] = {NULL};
    for (int i = 0; i < TRACKS; i++) {
        records[i].reason = MST_END_REASON_NONE;
        CHECK_OK(mst_track_set_ended_callback(tracks[i], mst_test_on_ended, &records[i], mst_test_on_ended_destroy));
        CHECK_OK(mst_processor_create(tracks[i], MST_TEST_BUFFER(4), &processors[i]));
    }
    mst_test_write(g, mst_test_video_frame(W, H, 1000));
    mst_test_write(g, mst_test_video_frame(W, H, 2000));
    for (int i = 0; i < TRACKS; i++) CHECK_EQ_INT(records[i].calls, 0);

    CHECK_OK(mst_generator_close(g));

    MstWritableState state = MST_WRITABLE_STATE_WRITABLE;
    CHECK_OK(mst_generator_get_state(g, &state));
    CHECK_EQ_INT(state, MST_WRITABLE_STATE_CLOSED);
    check_records(records);
    for (int i = 0; i < TRACKS; i++) {
        MstReadyState state = 0;
        CHECK_OK(mst_track_get_ready_state(tracks[i], &state));
        CHECK_EQ_INT(state, MST_READY_STATE_ENDED);
        MstEndReason reason = MST_END_REASON_NONE;
        CHECK_OK(mst_track_get_end_reason(tracks[i], &reason));
        CHECK_EQ_INT(reason, MST_END_REASON_WRITABLE_CLOSED);

        MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
        CHECK_OK(mst_processor_get_stats(processors[i], &st));
        CHECK(st.ended);
        CHECK_EQ_INT(st.queued, 0);
        CHECK_EQ_INT(st.discarded, 2);
        MstFrame *f = NULL;
        CHECK_STATUS(mst_processor_read(processors[i], 0, &f), MST_ERR_ENDED);
        CHECK_STATUS(mst_processor_read(processors[i], 10000, &f), MST_ERR_ENDED); /* hang guard */
        CHECK(f == NULL);
    }

    /* Later writes fail with the Streams TypeError; the caller keeps the frame and frees it. */
    MstFrame *late = mst_test_video_frame(W, H, 3000);
    CHECK_STATUS(mst_generator_write(g, late), MST_ERR_TYPE);
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(late, &info));
    CHECK_EQ_INT(info.timestamp, 3000);
    CHECK_OK(mst_frame_free(late));
    CHECK_OK(mst_generator_get_state(g, &state));
    CHECK_EQ_INT(state, MST_WRITABLE_STATE_CLOSED); /* a refused write does not error it */

    /* Idempotent: a second close, stops and frees do not call the callbacks again. */
    CHECK_OK(mst_generator_close(g));
    CHECK_OK(mst_generator_get_state(g, &state));
    CHECK_EQ_INT(state, MST_WRITABLE_STATE_CLOSED);
    for (int i = 0; i < TRACKS; i++) CHECK_OK(mst_track_stop(tracks[i]));
    check_records(records);

    /* A clone of a track of a closed writable is ended; a processor on it is ended. */
    MstTrack *late_clone = NULL;
    CHECK_OK(mst_track_clone(tracks[0], &late_clone));
    MstReadyState ready = 0;
    CHECK_OK(mst_track_get_ready_state(late_clone, &ready));
    CHECK_EQ_INT(ready, MST_READY_STATE_ENDED);
    CHECK_OK(mst_track_free(late_clone));

    for (int i = 0; i < TRACKS; i++) {
        CHECK_OK(mst_processor_free(processors[i]));
        CHECK_OK(mst_track_free(tracks[i]));
    }
    CHECK_OK(mst_generator_free(g));
    check_records(records);

    /* closeWritable on an audio generator: the same. */
    MstGenerator *ag = NULL;
    MstTrack *at = NULL;
    struct mst_test_ended_record ar = {0, MST_END_REASON_NONE, 0};
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &ag));
    CHECK_OK(mst_generator_get_track(ag, &at));
    CHECK_OK(mst_track_set_ended_callback(at, mst_test_on_ended, &ar, mst_test_on_ended_destroy));
    CHECK_OK(mst_generator_close(ag));
    CHECK_EQ_INT(ar.calls, 1);
    CHECK_EQ_INT(ar.reason, MST_END_REASON_WRITABLE_CLOSED);
    CHECK_EQ_INT(ar.destroys, 1);
    CHECK_OK(mst_track_free(at));
    CHECK_OK(mst_generator_free(ag));
    CHECK_EQ_INT(ar.calls, 1);
    CHECK_EQ_INT(ar.destroys, 1);
    return 0;
}
