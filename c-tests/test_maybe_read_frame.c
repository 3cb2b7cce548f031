/* maybeReadFrame (spec 2.1.4): each read dequeues exactly one frame, the oldest, so frames come
 * out in arrival order; every processor has its own queue, so two processors on one track
 * each see every frame and reading one does not touch the other. */
#include <stdint.h>

#include "common.h"

enum { W = 16, H = 16, N = 6 };

static void expect_audio(MstProcessor *p, int64_t timestamp, uint64_t sequence) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    CHECK_OK(mst_frame_get_audio_info(f, &info));
    CHECK_EQ_INT(info.timestamp, timestamp);
    CHECK_EQ_INT(info.sequence, sequence);
    CHECK_OK(mst_frame_free(f));
}

int main(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    MstProcessor *a = NULL, *b = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(8), &a));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(8), &b));

    for (int i = 1; i <= N; i++) mst_test_write(g, mst_test_video_frame(W, H, i * 1000));
    CHECK_EQ_INT(mst_test_stats(a).queued, N);
    CHECK_EQ_INT(mst_test_stats(b).queued, N);

    /* Each read on `a` dequeues exactly one frame, the oldest; `b` keeps all of its own. */
    for (int i = 1; i <= N; i++) {
        mst_test_expect_video(a, i * 1000, (uint64_t)i);
        MstProcessorStats st = mst_test_stats(a);
        CHECK_EQ_INT(st.delivered, i);
        CHECK_EQ_INT(st.queued, N - i);
        CHECK_EQ_INT(st.discarded, 0);
        CHECK_EQ_INT(mst_test_stats(b).queued, N);
    }
    mst_test_expect_empty(a);

    MstProcessorStats sb = mst_test_stats(b);
    CHECK_EQ_INT(sb.total, N);
    CHECK_EQ_INT(sb.delivered, 0);
    CHECK_EQ_INT(sb.queued, N);
    for (int i = 1; i <= N; i++) mst_test_expect_video(b, i * 1000, (uint64_t)i);
    mst_test_expect_empty(b);

    /* Interleaved writes and reads keep the order, and sequences keep counting. */
    mst_test_write(g, mst_test_video_frame(W, H, 7000));
    mst_test_write(g, mst_test_video_frame(W, H, 8000));
    mst_test_expect_video(b, 7000, 7);
    mst_test_write(g, mst_test_video_frame(W, H, 9000));
    mst_test_expect_video(b, 8000, 8);
    mst_test_expect_video(b, 9000, 9);
    mst_test_expect_empty(b);
    mst_test_expect_video(a, 7000, 7);
    mst_test_expect_video(a, 8000, 8);
    mst_test_expect_video(a, 9000, 9);
    mst_test_expect_empty(a);

    /* A processor created later sees only frames that arrive after it, numbered from 1. */
    MstProcessor *c = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(8), &c));
    mst_test_expect_empty(c);
    mst_test_write(g, mst_test_video_frame(W, H, 10000));
    mst_test_expect_video(c, 10000, 1);
    mst_test_expect_video(a, 10000, 10);
    mst_test_expect_video(b, 10000, 10);

    CHECK_OK(mst_processor_free(c));
    CHECK_OK(mst_processor_free(b));
    CHECK_OK(mst_processor_free(a));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));

    /* The same for AudioData. */
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(16), &a));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(16), &b));
    for (int i = 1; i <= N; i++)
        mst_test_write(g, mst_test_audio_data(MST_AUDIO_SAMPLE_FORMAT_S16, sizeof(int16_t), 48000.0f, 480, 2, i * 10000));
    for (int i = 1; i <= N; i++) {
        expect_audio(b, i * 10000, (uint64_t)i);
        CHECK_EQ_INT(mst_test_stats(a).queued, N);
    }
    mst_test_expect_empty(b);
    for (int i = 1; i <= N; i++) expect_audio(a, i * 10000, (uint64_t)i);
    mst_test_expect_empty(a);
    CHECK_OK(mst_processor_free(b));
    CHECK_OK(mst_processor_free(a));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    return 0;
}
