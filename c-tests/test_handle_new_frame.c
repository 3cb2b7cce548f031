/* handleNewFrame (spec 2.1.5): when the queue holds maxBufferSize frames, the oldest is
 * dequeued before the new one is enqueued. So a reader that falls behind gets the newest N
 * frames, in order; with maxBufferSize 1 the queued frame is always the most recent one; and
 * the counters add up (total = delivered + discarded + queued). An evicted frame is closed:
 * caller memory wrapped into it is released as soon as it is pushed out. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

enum { W = 16, H = 16, FRAME_BYTES = W * H * 3 / 2, WRITES = 100, CAPACITY = 4 };

static uint8_t memory[WRITES + 1][FRAME_BYTES]; /* one buffer per frame, indexed by number */
static atomic_int release_calls[WRITES + 1];
static atomic_int released_total;

static void release(void *user_data) {
    int n = (int)(intptr_t)user_data;
    atomic_fetch_add(&release_calls[n], 1);
    atomic_fetch_add(&released_total, 1);
}

/* Frame number n (1-based), timestamp n * 1000, wrapping memory[n]. */
static MstFrame *wrapped_frame(int n) {
    memset(memory[n], n, FRAME_BYTES);
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, n * 1000);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_wrap_video(&init, memory[n], FRAME_BYTES, release, (void *)(intptr_t)n, &f));
    return f;
}

/* The counters, which always add up. */
static MstProcessorStats stats(const MstProcessor *p) {
    MstProcessorStats st = mst_test_stats(p);
    CHECK_EQ_INT(st.total, st.delivered + st.discarded + st.queued);
    return st;
}

int main(void) {
    for (int n = 0; n <= WRITES; n++) atomic_init(&release_calls[n], 0);
    atomic_init(&released_total, 0);

    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    MstProcessor *p = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(CAPACITY), &p));

    /* A slow reader on a fast source: 100 writes, no reads. */
    for (int n = 1; n <= WRITES; n++) {
        mst_test_write(g, wrapped_frame(n));
        int evicted = n > CAPACITY ? n - CAPACITY : 0;
        MstProcessorStats st = stats(p);
        CHECK_EQ_INT(st.total, n);
        CHECK_EQ_INT(st.queued, n - evicted);
        CHECK_EQ_INT(st.discarded, evicted);
        CHECK_EQ_INT(st.delivered, 0);
        /* Exactly the evicted frames (the oldest) have been released. */
        CHECK_EQ_INT(atomic_load(&released_total), evicted);
        if (evicted > 0) CHECK_EQ_INT(atomic_load(&release_calls[evicted]), 1);
    }
    for (int n = 1; n <= WRITES; n++)
        CHECK_EQ_INT(atomic_load(&release_calls[n]), n <= WRITES - CAPACITY ? 1 : 0);

    /* The drain gets the newest four, in order, numbered as they arrived. */
    for (int n = WRITES - CAPACITY + 1; n <= WRITES; n++) mst_test_expect_video(p, n * 1000, (uint64_t)n);
    mst_test_expect_empty(p);
    MstProcessorStats st = stats(p);
    CHECK_EQ_INT(st.total, WRITES);
    CHECK_EQ_INT(st.delivered, CAPACITY);
    CHECK_EQ_INT(st.discarded, WRITES - CAPACITY);
    CHECK_EQ_INT(st.queued, 0);
    /* Read and closed by the reader: every wrapped buffer is released now, each once. */
    CHECK_EQ_INT(atomic_load(&released_total), WRITES);
    for (int n = 1; n <= WRITES; n++) CHECK_EQ_INT(atomic_load(&release_calls[n]), 1);
    CHECK_OK(mst_processor_free(p));

    /* maxBufferSize 1, the video default: the queued frame is always the most recent one. */
    CHECK_OK(mst_processor_create(t, NULL, &p));
    CHECK_EQ_INT(stats(p).max_buffer_size, 1);
    int64_t ts = 0;
    uint64_t seq = 0;
    for (int burst = 1; burst <= 5; burst++) {
        for (int i = 0; i < burst; i++) {
            ts += 1000;
            seq++;
            mst_test_write(g, mst_test_video_frame(W, H, ts));
            CHECK_EQ_INT(stats(p).queued, 1);
        }
        mst_test_expect_video(p, ts, seq);
        mst_test_expect_empty(p);
    }
    st = stats(p);
    CHECK_EQ_INT(st.total, seq);
    CHECK_EQ_INT(st.delivered, 5);
    CHECK_EQ_INT(st.discarded, seq - 5);
    CHECK_OK(mst_processor_free(p));

    /* A queue that is full only matters to its own processor: a larger one on the same track
     * keeps what the small one evicts. */
    MstProcessor *small = NULL, *large = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &small));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(3), &large));
    for (int i = 1; i <= 3; i++) mst_test_write(g, mst_test_video_frame(W, H, 500000 + i));
    mst_test_expect_video(small, 500003, 3);
    mst_test_expect_empty(small);
    for (int i = 1; i <= 3; i++) mst_test_expect_video(large, 500000 + i, (uint64_t)i);
    mst_test_expect_empty(large);
    CHECK_OK(mst_processor_free(small));
    CHECK_OK(mst_processor_free(large));

    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    CHECK_EQ_INT(atomic_load(&released_total), WRITES);
    return 0;
}
