/* writeFrame (spec 2.2.3): the media goes to every live track connected to the generator (its
 * own track and its clones, not stopped ones) and the written frame is closed. Pass-through
 * delivery shares the media: no copy. (A write the sink rejects, and what it does to the
 * writable: test_writable_errors.c.) */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

enum { W = 32, H = 16, FRAME_BYTES = W * H * 3 / 2 };

static atomic_int releases;

static void release(void *user_data) {
    (void)user_data;
    atomic_fetch_add(&releases, 1);
}

/* Reads one frame without waiting; checks its timestamp and returns its Y plane pointer. */
static const uint8_t *expect_frame(MstProcessor *p, int64_t timestamp) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, timestamp);
    CHECK_EQ_INT(info.coded_width, W);
    CHECK_EQ_INT(info.coded_height, H);
    const uint8_t *y = NULL;
    size_t stride = 0, len = 0;
    CHECK_OK(mst_frame_get_video_plane(f, 0, &y, &stride, &len));
    CHECK_OK(mst_frame_free(f));
    return y;
}

int main(void) {
    atomic_init(&releases, 0);

    MstGenerator *g = NULL;
    MstTrack *own = NULL, *c1 = NULL, *c2 = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &own));
    CHECK_OK(mst_track_clone(own, &c1));
    CHECK_OK(mst_track_clone(own, &c2));
    MstProcessor *p_own = NULL, *p1 = NULL, *p2 = NULL;
    CHECK_OK(mst_processor_create(own, MST_TEST_BUFFER(4), &p_own));
    CHECK_OK(mst_processor_create(c1, MST_TEST_BUFFER(4), &p1));
    CHECK_OK(mst_processor_create(c2, MST_TEST_BUFFER(4), &p2));

    /* Step 3: the media reaches every live connected track, without a copy. */
    static uint8_t memory[FRAME_BYTES];
    memset(memory, 0x42, sizeof memory);
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 10000);
    MstFrame *wrapped = NULL;
    CHECK_OK(mst_frame_wrap_video(&init, memory, sizeof memory, release, NULL, &wrapped));
    CHECK_OK(mst_generator_write(g, wrapped));
    /* Step 4: the written frame was closed, not released: the handle answers "closed" (and a
     * second close does nothing) until the writer frees it. */
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_STATUS(mst_frame_get_video_info(wrapped, &info), MST_ERR_INVALID_STATE);
    MstFrame *again = NULL;
    CHECK_STATUS(mst_frame_clone(wrapped, &again), MST_ERR_INVALID_STATE);
    CHECK_OK(mst_frame_close(wrapped));
    CHECK_OK(mst_frame_free(wrapped));
    CHECK_STATUS(mst_frame_free(wrapped), MST_ERR_INVALID_STATE);
    CHECK_EQ_INT(atomic_load(&releases), 0); /* the tracks' processors still hold the media */

    CHECK(expect_frame(p_own, 10000) == memory);
    CHECK(expect_frame(p1, 10000) == memory);
    CHECK_EQ_INT(atomic_load(&releases), 0);
    CHECK(expect_frame(p2, 10000) == memory);
    CHECK_EQ_INT(atomic_load(&releases), 1); /* closed by the last reader: released once */

    /* A stopped clone gets nothing more; the others do. */
    CHECK_OK(mst_track_stop(c2));
    mst_test_write(g, mst_test_video_frame(W, H, 20000));
    expect_frame(p_own, 20000);
    expect_frame(p1, 20000);
    MstFrame *f = NULL;
    CHECK_STATUS(mst_processor_read(p2, 0, &f), MST_ERR_ENDED);
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p2, &st));
    CHECK_EQ_INT(st.total, 1);
    CHECK_OK(mst_processor_get_stats(p1, &st));
    CHECK_EQ_INT(st.total, 2);

    /* A clone made now is connected too (and gets only frames written after it). */
    MstTrack *c3 = NULL;
    MstProcessor *p3 = NULL;
    CHECK_OK(mst_track_clone(c1, &c3));
    CHECK_OK(mst_processor_create(c3, MST_TEST_BUFFER(4), &p3));
    mst_test_write(g, mst_test_video_frame(W, H, 30000));
    expect_frame(p3, 30000);
    expect_frame(p1, 30000);
    expect_frame(p_own, 30000);
    CHECK_STATUS(mst_processor_read(p3, 0, &f), MST_ERR_AGAIN);

    CHECK_OK(mst_processor_free(p3));
    CHECK_OK(mst_processor_free(p_own));
    CHECK_OK(mst_processor_free(p1));
    CHECK_OK(mst_processor_free(p2));
    CHECK_OK(mst_track_free(c3));
    CHECK_OK(mst_track_free(c1));
    CHECK_OK(mst_track_free(c2));
    CHECK_OK(mst_track_free(own));
    CHECK_OK(mst_generator_free(g));
    CHECK_EQ_INT(atomic_load(&releases), 1);
    return 0;
}
