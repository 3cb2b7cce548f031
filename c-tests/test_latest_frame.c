/* MST_PROCESSOR_LATEST_ONLY: a read returns the newest frame and discards the older ones
 * (counted as superseded, and reported by the frame's discarded_before), never returns the
 * same frame twice, and blocks only until something new arrives. What a computer-vision loop
 * wants instead of a stale queue. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "common.h"

static MstProcessor *latest(const MstTrack *t, uint32_t size) {
    MstProcessorOptions o = MST_STRUCT_INIT(MstProcessorOptions);
    o.max_buffer_size = size;
    o.flags = MST_PROCESSOR_LATEST_ONLY;
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, &o, &p));
    return p;
}

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = latest(t, 8);

    for (int i = 0; i < 5; i++) mst_test_write_video_frame(g, 16, 16, i);
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, 4);
    CHECK_EQ_INT(info.discarded_before, 4);
    CHECK_OK(mst_frame_free(f));
    MstProcessorStats s = mst_test_stats(p);
    CHECK_EQ_INT(s.discarded_superseded, 4);
    CHECK_EQ_INT(s.delivered, 1);
    CHECK_EQ_INT(s.queued, 0);

    /* Never the same frame twice: nothing new, nothing read. */
    f = NULL;
    CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_AGAIN);
    CHECK_STATUS(mst_processor_read(p, 30, &f), MST_ERR_TIMEOUT);
    CHECK(f == NULL);

    /* A blocked read returns as soon as one new frame arrives. */
    struct mst_test_reader r;
    mst_test_reader_start(&r, p, 60000, 0);
    while (mst_test_stats(p).pending_reads != 1) mst_test_sleep_ms(1);
    mst_test_write_video_frame(g, 16, 16, 100);
    CHECK_OK(mst_test_reader_join(&r));
    CHECK_OK(mst_frame_get_video_info(r.frame, &info));
    CHECK_EQ_INT(info.timestamp, 100);
    CHECK_EQ_INT(info.discarded_before, 0);
    CHECK_OK(mst_frame_free(r.frame));

    /* With a queue of 1 too (the video default): the newest always wins. */
    MstProcessor *p1 = latest(t, 0);
    for (int i = 200; i < 203; i++) mst_test_write_video_frame(g, 16, 16, i);
    CHECK_OK(mst_processor_read(p1, 0, &f));
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, 202);
    CHECK_EQ_INT(info.discarded_before, 2);
    CHECK_OK(mst_frame_free(f));

    /* The end: reads then say MST_ERR_ENDED. */
    CHECK_OK(mst_generator_close(g));
    CHECK_STATUS(mst_processor_read(p, -1, &f), MST_ERR_ENDED);
    s = mst_test_stats(p);
    CHECK_EQ_INT(s.total, s.delivered + s.queued + s.discarded_queue_full + s.discarded_superseded + s.discarded_closed);
    CHECK_OK(mst_processor_free(p1));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_latest_frame: ok\n");
    return 0;
}
