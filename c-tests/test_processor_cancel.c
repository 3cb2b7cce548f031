/* processorCancel (spec 2.1.4), mst_processor_close(): runs processorClose, which disconnects
 * the processor from its track without stopping the track, closes the readable (reads end at
 * once) and empties the queue; a second close does nothing. */

#include "common.h"

enum { W = 16, H = 16 };

int main(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    MstProcessor *closed = NULL, *other = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    struct mst_test_ended_record ended = {0, MST_END_REASON_NONE, 0};
    CHECK_OK(mst_track_set_ended_callback(t, mst_test_on_ended, &ended, NULL));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &closed));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &other));

    for (int i = 1; i <= 3; i++) mst_test_write(g, mst_test_video_frame(W, H, i * 1000));
    CHECK_EQ_INT(mst_test_stats(closed).queued, 3);

    CHECK_OK(mst_processor_close(closed));

    /* The queue was emptied: its frames count as discarded, none as delivered. */
    MstProcessorStats st = mst_test_stats(closed);
    CHECK(st.ended);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.discarded, 3);
    CHECK_EQ_INT(st.delivered, 0);
    CHECK_EQ_INT(st.total, 3);

    /* Reads end at once, even a blocking one (10 s is only a hang guard). */
    MstFrame *f = NULL;
    CHECK_STATUS(mst_processor_read(closed, 0, &f), MST_ERR_ENDED);
    CHECK_STATUS(mst_processor_read(closed, 10000, &f), MST_ERR_ENDED);
    CHECK(f == NULL);

    /* The track goes on: it is live, the writable open, and another processor gets frames. */
    MstReadyState state = 0;
    CHECK_OK(mst_track_get_ready_state(t, &state));
    CHECK_EQ_INT(state, MST_READY_STATE_LIVE);
    MstEndReason reason = -1;
    CHECK_OK(mst_track_get_end_reason(t, &reason));
    CHECK_EQ_INT(reason, MST_END_REASON_NONE);
    CHECK_EQ_INT(ended.calls, 0);
    MstWritableState writable = MST_WRITABLE_STATE_CLOSED;
    CHECK_OK(mst_generator_get_state(g, &writable));
    CHECK_EQ_INT(writable, MST_WRITABLE_STATE_WRITABLE);
    CHECK_EQ_INT(mst_test_stats(other).queued, 3);
    mst_test_write(g, mst_test_video_frame(W, H, 4000));
    CHECK_EQ_INT(mst_test_stats(other).queued, 4);
    for (int i = 1; i <= 4; i++) {
        CHECK_OK(mst_processor_read(other, 0, &f));
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHECK_OK(mst_frame_get_video_info(f, &info));
        CHECK_EQ_INT(info.timestamp, i * 1000);
        CHECK_OK(mst_frame_free(f));
    }
    f = NULL;

    /* A processor created after the cancel on the same track works as usual. */
    MstProcessor *later = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &later));
    mst_test_write(g, mst_test_video_frame(W, H, 5000));
    CHECK_OK(mst_processor_read(later, 10000, &f));
    CHECK_OK(mst_frame_free(f));
    f = NULL;

    /* The closed processor is disconnected: it counted nothing of the later writes. */
    st = mst_test_stats(closed);
    CHECK_EQ_INT(st.total, 3);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_STATUS(mst_processor_read(closed, 0, &f), MST_ERR_ENDED);

    /* Step 1 of processorClose: closing again changes nothing. */
    CHECK_OK(mst_processor_close(closed));
    st = mst_test_stats(closed);
    CHECK(st.ended);
    CHECK_EQ_INT(st.total, 3);
    CHECK_EQ_INT(st.discarded, 3);
    CHECK_STATUS(mst_processor_read(closed, 0, &f), MST_ERR_ENDED);
    CHECK(f == NULL);
    CHECK_OK(mst_track_get_ready_state(t, &state));
    CHECK_EQ_INT(state, MST_READY_STATE_LIVE);

    CHECK_OK(mst_processor_free(closed));
    CHECK_OK(mst_processor_free(later));
    CHECK_OK(mst_processor_free(other));
    CHECK_EQ_INT(ended.calls, 0);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    return 0;
}
