/* Reads blocked at the same time on one processor are served in the order they were issued,
 * as a ReadableStream serves its read requests (a FIFO): three readers that block one after
 * the other get the next three frames in that order. A reader is known to be blocked when
 * MstProcessorStats.pending_reads (the spec's [[numPendingReads]]) counts it, so the order
 * the readers blocked in is certain however busy the machine is. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "common.h"

#define READERS 3
#define ROUNDS 50

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessorOptions opts = MST_STRUCT_INIT(MstProcessorOptions);
    opts.max_buffer_size = 8;
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, &opts, &p));

    int64_t ts = 0;
    for (int round = 0; round < ROUNDS; round++) {
        struct mst_test_reader r[READERS];
        for (int i = 0; i < READERS; i++) {
            mst_test_reader_start(&r[i], p, -1, 0);
            while (mst_test_stats(p).pending_reads != (uint32_t)(i + 1)) mst_test_sleep_ms(1);
        }
        int64_t first = ts;
        for (int i = 0; i < READERS; i++) mst_test_write_video_frame(g, 16, 16, ts++);
        for (int i = 0; i < READERS; i++) {
            CHECK_OK(mst_test_reader_join(&r[i]));
            MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
            CHECK_OK(mst_frame_get_video_info(r[i].frame, &info));
            if (info.timestamp != first + i) {
                fprintf(stderr, "round %d: reader %d (the %d%s to block) got frame %lld, expected %lld\n", round, i,
                        i + 1, i == 0 ? "st" : i == 1 ? "nd" : "rd", (long long)info.timestamp,
                        (long long)(first + i));
                return 1;
            }
            CHECK_OK(mst_frame_free(r[i].frame));
        }
    }
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_read_order: ok (%d rounds of %d blocked readers)\n", ROUNDS, READERS);
    return 0;
}
