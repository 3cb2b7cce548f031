/* mst_processor_wakeup(): a reader blocked in mst_processor_read() on another thread returns
 * MST_ERR_INTERRUPTED; with no reader blocked, the next read that would block returns
 * MST_ERR_INTERRUPTED once and the one after it blocks normally. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "common.h"

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &p));
    MstFrame *f = NULL;

    /* A reader blocked forever on another thread. The readers here get no settle time: whether
     * one is already blocked when this thread acts does not matter, as a wakeup (or end) that
     * comes first makes the read return at once with the same status. */
    struct mst_test_reader r;
    mst_test_reader_start(&r, p, -1, 0);
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(mst_test_reader_join(&r), MST_ERR_INTERRUPTED);
    CHECK(r.frame == NULL);
    /* The wakeup was consumed by that reader. */
    CHECK_STATUS(mst_processor_read(p, 50, &f), MST_ERR_TIMEOUT);

    /* The same with a reader waiting with a (long) timeout. */
    mst_test_reader_start(&r, p, 60000, 0);
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(mst_test_reader_join(&r), MST_ERR_INTERRUPTED);
    CHECK_STATUS(mst_processor_read(p, 50, &f), MST_ERR_TIMEOUT);

    /* No reader blocked: the next blocking read is interrupted once, the one after blocks. */
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(mst_processor_read(p, 60000, &f), MST_ERR_INTERRUPTED);
    CHECK_STATUS(mst_processor_read(p, 50, &f), MST_ERR_TIMEOUT);
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(mst_processor_read(p, -1, &f), MST_ERR_INTERRUPTED);
    CHECK_STATUS(mst_processor_read(p, 50, &f), MST_ERR_TIMEOUT);
    CHECK(f == NULL);

    /* Two wakeups before a read interrupt it once. */
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(mst_processor_read(p, 60000, &f), MST_ERR_INTERRUPTED);
    CHECK_STATUS(mst_processor_read(p, 50, &f), MST_ERR_TIMEOUT);

    /* A read that would not block is not interrupted: a non-blocking read, or a queued frame. */
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_AGAIN);
    mst_test_write_video_frame(g, 16, 16, 7);
    CHECK_OK(mst_processor_read(p, 60000, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, 7);
    CHECK_OK(mst_frame_free(f));
    f = NULL;
    /* The wakeup is still pending for the next read that would block. */
    CHECK_STATUS(mst_processor_read(p, 60000, &f), MST_ERR_INTERRUPTED);
    CHECK_STATUS(mst_processor_read(p, 50, &f), MST_ERR_TIMEOUT);

    /* A reader blocked on another thread gets a frame written meanwhile. */
    mst_test_reader_start(&r, p, 60000, 0);
    mst_test_write_video_frame(g, 16, 16, 8);
    CHECK_OK(mst_test_reader_join(&r));
    CHECK(r.frame != NULL);
    CHECK_OK(mst_frame_get_video_info(r.frame, &info));
    CHECK_EQ_INT(info.timestamp, 8);
    CHECK_OK(mst_frame_free(r.frame));

    /* A blocked reader sees the end: the processor closed from here. */
    mst_test_reader_start(&r, p, -1, 0);
    CHECK_OK(mst_processor_close(p));
    CHECK_STATUS(mst_test_reader_join(&r), MST_ERR_ENDED);
    /* After the end, a wakeup changes nothing: reads keep saying MST_ERR_ENDED. */
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(mst_processor_read(p, -1, &f), MST_ERR_ENDED);

    /* A blocked reader sees the end: the track stopped. */
    MstProcessor *p2 = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &p2));
    mst_test_reader_start(&r, p2, -1, 0);
    CHECK_OK(mst_track_stop(t));
    CHECK_STATUS(mst_test_reader_join(&r), MST_ERR_ENDED);

    CHECK_OK(mst_processor_free(p2));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_wakeup: ok\n");
    return 0;
}
