/* processorPull (spec 2.1.4): frames stay in the processor's queue until a read asks for one
 * (highWaterMark 0, no stream-side buffering); a pending read is satisfied by the next frame
 * that arrives; a read that cannot be satisfied reports why and leaves *out alone. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>

#include "common.h"

enum { W = 16, H = 16 };

int main(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    MstProcessor *p = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &p));

    /* A written frame waits in the queue; only a read moves it to the reader. */
    mst_test_write(g, mst_test_video_frame(W, H, 1000));
    MstProcessorStats st = mst_test_stats(p);
    CHECK_EQ_INT(st.total, 1);
    CHECK_EQ_INT(st.queued, 1);
    CHECK_EQ_INT(st.delivered, 0);
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    CHECK(f != NULL);
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, 1000);
    CHECK_EQ_INT(info.sequence, 1);
    CHECK_OK(mst_frame_free(f));
    st = mst_test_stats(p);
    CHECK_EQ_INT(st.delivered, 1);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.discarded, 0);

    /* Empty queue: timeout 0 -> AGAIN, timeout > 0 -> TIMEOUT; *out untouched each time. */
    int sentinel_storage = 0;
    MstFrame *const sentinel = (MstFrame *)(void *)&sentinel_storage;
    MstFrame *out = sentinel;
    CHECK_STATUS(mst_processor_read(p, 0, &out), MST_ERR_AGAIN);
    CHECK(out == sentinel);
    CHECK_STATUS(mst_processor_read(p, 20, &out), MST_ERR_TIMEOUT);
    CHECK(out == sentinel);
    CHECK_STATUS(mst_processor_read(p, 0, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_processor_read(NULL, 0, &out), MST_ERR_NULL_ARG);
    CHECK(out == sentinel);
    st = mst_test_stats(p);
    CHECK_EQ_INT(st.delivered, 1);
    CHECK_EQ_INT(st.total, 1);

    /* A pending read (numPendingReads 1, empty queue) is fulfilled by the next frame. */
    struct mst_test_reader r;
    /* 50 ms for the reader to reach its wait; the outcome is the same if it has not. */
    mst_test_reader_start(&r, p, -1, 50);
    CHECK(!atomic_load(&r.returned)); /* a read on an empty queue waits for a frame */
    mst_test_write(g, mst_test_video_frame(W, H, 2000));
    CHECK_STATUS(mst_test_reader_join(&r), MST_OK);
    CHECK(r.frame != NULL);
    CHECK_OK(mst_frame_get_video_info(r.frame, &info));
    CHECK_EQ_INT(info.timestamp, 2000);
    CHECK_EQ_INT(info.sequence, 2);
    CHECK_OK(mst_frame_free(r.frame));
    st = mst_test_stats(p);
    CHECK_EQ_INT(st.delivered, 2);
    CHECK_EQ_INT(st.queued, 0);

    /* A read with a timeout is satisfied by a frame already queued, without waiting. */
    mst_test_write(g, mst_test_video_frame(W, H, 3000));
    f = NULL;
    CHECK_OK(mst_processor_read(p, 10000, &f));
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, 3000);
    CHECK_OK(mst_frame_free(f));

    /* After the end, *out is untouched too. */
    CHECK_OK(mst_processor_close(p));
    out = sentinel;
    CHECK_STATUS(mst_processor_read(p, 0, &out), MST_ERR_ENDED);
    CHECK(out == sentinel);
    CHECK_STATUS(mst_processor_read(p, -1, &out), MST_ERR_ENDED);
    CHECK(out == sentinel);

    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    return 0;
}
