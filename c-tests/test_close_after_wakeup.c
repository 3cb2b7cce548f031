/* mst_processor_close() always empties the queue, and every later read returns MST_ERR_ENDED:
 * also after a reader that was blocked when frames came was woken by mst_processor_wakeup()
 * and the track then ended (the frames kept for pending reads must not outlive close). The
 * sequence blocked read -> wakeup -> write -> track stop -> join -> close -> read, 2000 times. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "common.h"

int main(void) {
    for (int trial = 0; trial < 2000; trial++) {
        MstGenerator *g = NULL;
        CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
        MstTrack *t = NULL;
        CHECK_OK(mst_generator_get_track(g, &t));
        MstProcessorOptions opts = MST_STRUCT_INIT(MstProcessorOptions);
        opts.max_buffer_size = 4;
        MstProcessor *p = NULL;
        CHECK_OK(mst_processor_create(t, &opts, &p));

        struct mst_test_reader r;
        mst_test_reader_start(&r, p, -1, 0);
        CHECK_OK(mst_processor_wakeup(p));
        mst_test_write_video_frame(g, 16, 16, trial);
        CHECK_OK(mst_track_stop(t));
        MstStatus st = mst_test_reader_join(&r);
        /* The reader was either interrupted or took the frame first: both are right. */
        CHECK(st == MST_ERR_INTERRUPTED || st == MST_OK || st == MST_ERR_ENDED);
        if (r.frame) CHECK_OK(mst_frame_free(r.frame));
        CHECK_OK(mst_processor_close(p));
        MstFrame *f = NULL;
        MstStatus got = mst_processor_read(p, 0, &f);
        if (got != MST_ERR_ENDED) {
            fprintf(stderr, "trial %d: read after close returned %s (reader got %s)\n", trial, mst_status_str(got),
                    mst_status_str(st));
            return 1;
        }
        CHECK(f == NULL);
        MstProcessorStats s = mst_test_stats(p);
        CHECK_EQ_INT(s.queued, 0);
        CHECK_EQ_INT(s.total, s.delivered + s.discarded);
        CHECK_OK(mst_processor_free(p));
        CHECK_OK(mst_track_free(t));
        CHECK_OK(mst_generator_free(g));
    }
    printf("test_close_after_wakeup: ok (2000 trials)\n");
    return 0;
}
