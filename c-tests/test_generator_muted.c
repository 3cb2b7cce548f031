/* mst_generator_set_muted(): every connected track reports muted and gets its mute callback
 * once per change (on the caller's thread, never for a repeated value); while muted, writes
 * succeed and close the frame but deliver nothing; after unmuting frames flow again. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

struct mute_log {
    int calls_true;
    int calls_false;
    int wrong_thread;
    int destroyed;
    pthread_t expected_thread;
};

static void on_mute(void *user_data, bool muted) {
    struct mute_log *log = user_data;
    if (muted)
        log->calls_true++;
    else
        log->calls_false++;
    if (!pthread_equal(pthread_self(), log->expected_thread)) log->wrong_thread++;
}

static void on_destroy(void *user_data) {
    struct mute_log *log = user_data;
    log->destroyed++;
}

static void expect_calls(const struct mute_log *log, int t, int f, const char *name, int line) {
    if (log->calls_true != t || log->calls_false != f || log->wrong_thread != 0) {
        fprintf(stderr, "%s:%d: %s mute callback: %d x true, %d x false (%d on another thread); expected %d x true, %d x false\n",
                __FILE__, line, name, log->calls_true, log->calls_false, log->wrong_thread, t, f);
        exit(1);
    }
}
#define EXPECT_CALLS(log, t, f) expect_calls(&(log), t, f, #log, __LINE__)

static void expect_muted(MstTrack *t, bool want, int line) {
    bool m = !want;
    CHECK_OK(mst_track_get_muted(t, &m));
    if (m != want) {
        fprintf(stderr, "%s:%d: track muted = %d, expected %d\n", __FILE__, line, m, want);
        exit(1);
    }
}
#define EXPECT_MUTED(t, want) expect_muted(t, want, __LINE__)

/* A frame of the generator's kind. */
static MstFrame *make(int32_t kind, int64_t ts) {
    if (kind == MST_KIND_VIDEO) return mst_test_video_frame(16, 16, ts);
    return mst_test_audio_data(MST_AUDIO_SAMPLE_FORMAT_F32, sizeof(float), 48000.0f, 8, 1, ts);
}

static void check_muted(int32_t kind) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(kind, &g));
    MstTrack *t = NULL, *c = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_clone(t, &c));
    MstProcessor *pt = NULL, *pc = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(8), &pt));
    CHECK_OK(mst_processor_create(c, MST_TEST_BUFFER(8), &pc));
    struct mute_log lt, lc;
    memset(&lt, 0, sizeof lt);
    memset(&lc, 0, sizeof lc);
    lt.expected_thread = lc.expected_thread = pthread_self();
    CHECK_OK(mst_track_set_mute_callback(t, on_mute, &lt, on_destroy));
    CHECK_OK(mst_track_set_mute_callback(c, on_mute, &lc, on_destroy));

    bool m = true;
    CHECK_OK(mst_generator_get_muted(g, &m));
    CHECK(!m);
    EXPECT_MUTED(t, false);
    EXPECT_MUTED(c, false);

    /* Mute. */
    CHECK_OK(mst_generator_set_muted(g, true));
    CHECK_OK(mst_generator_get_muted(g, &m));
    CHECK(m);
    EXPECT_MUTED(t, true);
    EXPECT_MUTED(c, true);
    EXPECT_CALLS(lt, 1, 0);
    EXPECT_CALLS(lc, 1, 0);
    CHECK_OK(mst_generator_set_muted(g, true)); /* the same value: no callback */
    EXPECT_CALLS(lt, 1, 0);
    EXPECT_CALLS(lc, 1, 0);

    /* A track cloned while muted is muted. */
    MstTrack *late = NULL;
    CHECK_OK(mst_track_clone(t, &late));
    EXPECT_MUTED(late, true);

    /* Writes while muted: MST_OK, the frame is closed, nothing is delivered. */
    for (int i = 0; i < 3; i++) {
        MstFrame *f = make(kind, i);
        CHECK_OK(mst_generator_write(g, f));
        MstKind k;
        CHECK_STATUS(mst_frame_get_kind(f, &k), MST_ERR_INVALID_STATE);
        CHECK_OK(mst_frame_free(f));
    }
    MstFrame *r = NULL;
    CHECK_STATUS(mst_processor_read(pt, 0, &r), MST_ERR_AGAIN);
    CHECK_STATUS(mst_processor_read(pc, 0, &r), MST_ERR_AGAIN);
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(pt, &st));
    CHECK_EQ_INT(st.total, 0);
    CHECK_EQ_INT(st.queued, 0);
    CHECK(!st.ended);
    MstWritableState state = MST_WRITABLE_STATE_CLOSED;
    CHECK_OK(mst_generator_get_state(g, &state));
    CHECK_EQ_INT(state, MST_WRITABLE_STATE_WRITABLE);

    /* Unmute. */
    CHECK_OK(mst_generator_set_muted(g, false));
    CHECK_OK(mst_generator_get_muted(g, &m));
    CHECK(!m);
    EXPECT_MUTED(t, false);
    EXPECT_MUTED(c, false);
    EXPECT_MUTED(late, false);
    EXPECT_CALLS(lt, 1, 1);
    EXPECT_CALLS(lc, 1, 1);
    CHECK_OK(mst_generator_set_muted(g, false));
    EXPECT_CALLS(lt, 1, 1);
    EXPECT_CALLS(lc, 1, 1);

    /* Frames flow again, numbered from 1: nothing was delivered while muted. */
    mst_test_write(g, make(kind, 100));
    MstProcessor *procs[2] = {pt, pc};
    for (int i = 0; i < 2; i++) {
        CHECK_OK(mst_processor_read(procs[i], 10000, &r));
        uint64_t seq = 0;
        int64_t ts = -1;
        if (kind == MST_KIND_VIDEO) {
            MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
            CHECK_OK(mst_frame_get_video_info(r, &info));
            seq = info.sequence;
            ts = info.timestamp;
        } else {
            MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
            CHECK_OK(mst_frame_get_audio_info(r, &info));
            seq = info.sequence;
            ts = info.timestamp;
        }
        CHECK_EQ_INT(ts, 100);
        CHECK_EQ_INT(seq, 1);
        CHECK_OK(mst_frame_free(r));
        CHECK_STATUS(mst_processor_read(procs[i], 0, &r), MST_ERR_AGAIN);
    }

    /* Removing a callback runs its destroy once; later changes call nobody there. */
    CHECK_EQ_INT(lc.destroyed, 0);
    CHECK_OK(mst_track_set_mute_callback(c, NULL, NULL, NULL));
    CHECK_EQ_INT(lc.destroyed, 1);
    CHECK_OK(mst_generator_set_muted(g, true));
    EXPECT_CALLS(lt, 2, 1);
    EXPECT_CALLS(lc, 1, 1);
    CHECK_OK(mst_generator_set_muted(g, false));
    EXPECT_CALLS(lt, 2, 2);

    CHECK_OK(mst_processor_free(pt));
    CHECK_OK(mst_processor_free(pc));
    CHECK_OK(mst_track_free(late));
    CHECK_OK(mst_track_free(c));
    CHECK_EQ_INT(lt.destroyed, 0);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    CHECK_EQ_INT(lt.destroyed, 1); /* the last handle is gone: the callback's user data too */
    CHECK_EQ_INT(lc.destroyed, 1);
}

int main(void) {
    check_muted(MST_KIND_VIDEO);
    check_muted(MST_KIND_AUDIO);
    printf("test_generator_muted: ok\n");
    return 0;
}
