/* Callbacks run with no libmst lock held, so they may call back into libmst, even on the
 * object that called them. Each case here deadlocked or misbehaved in an earlier version:
 * - a wrapped frame's release callback, run when a newer write evicts it from a full queue,
 *   writes to the same generator;
 * - a mute callback changes the muted state it is reporting;
 * - an ended callback frees its own track handle;
 * - a processor callback removes itself and frees its processor;
 * - two threads replace a processor's callback at once: after mst_processor_free returns, no
 *   callback runs any more and every destroy-notify ran exactly once. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "mst.h"

enum { W = 16, H = 8, I420_BYTES = W * H * 3 / 2 };
static uint8_t pixels[4][I420_BYTES];

/* Release callback that writes one more (copied) frame to the generator. */
static MstGenerator *reentrant_generator;
static atomic_int releases, reentrant_writes;
static void release_and_write(void *user_data) {
    (void)user_data;
    atomic_fetch_add(&releases, 1);
    MstVideoFrameInit init =
        mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 1000 + atomic_load(&reentrant_writes));
    MstFrame *f = NULL;
    if (mst_frame_create_video(&init, pixels[0], sizeof pixels[0], &f) != MST_OK) abort();
    if (mst_generator_write(reentrant_generator, f) == MST_OK) atomic_fetch_add(&reentrant_writes, 1);
    mst_frame_free(f);
}

static void release_callback_writes_to_the_generator(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    MstProcessor *p = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1), &p));
    reentrant_generator = g;
    for (int i = 0; i < 2; i++) {
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, i);
        MstFrame *f = NULL;
        CHECK_OK(mst_frame_wrap_video(&init, pixels[i], sizeof pixels[i], release_and_write, NULL, &f));
        /* The second write evicts the first frame: its release runs inside this call. */
        CHECK_OK(mst_generator_write(g, f));
        CHECK_OK(mst_frame_free(f));
    }
    CHECK(atomic_load(&releases) >= 1);
    CHECK(atomic_load(&reentrant_writes) >= 1);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    CHECK_EQ_INT(atomic_load(&releases), 2);
}

static MstGenerator *mute_generator;
static atomic_int mute_calls;
static void unmute_when_muted(void *user_data, bool muted) {
    (void)user_data;
    atomic_fetch_add(&mute_calls, 1);
    if (muted) CHECK_OK(mst_generator_set_muted(mute_generator, false));
}

static void mute_callback_changes_the_state(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    mute_generator = g;
    CHECK_OK(mst_track_set_mute_callback(t, unmute_when_muted, NULL, NULL));
    CHECK_OK(mst_generator_set_muted(g, true));
    bool muted = true;
    CHECK_OK(mst_generator_get_muted(g, &muted));
    CHECK(!muted);
    CHECK_OK(mst_track_get_muted(t, &muted));
    CHECK(!muted);
    CHECK_EQ_INT(atomic_load(&mute_calls), 2);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

static MstTrack *self_freeing_track;
static atomic_int ended_calls, ended_destroys;
static void free_own_track(void *user_data, MstEndReason reason) {
    (void)user_data;
    CHECK_EQ_INT(reason, MST_END_REASON_STOPPED);
    atomic_fetch_add(&ended_calls, 1);
    CHECK_OK(mst_track_free(self_freeing_track));
}
static void count_ended_destroy(void *user_data) {
    (void)user_data;
    atomic_fetch_add(&ended_destroys, 1);
}

static void ended_callback_frees_its_track(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &self_freeing_track));
    CHECK_OK(mst_track_set_ended_callback(self_freeing_track, free_own_track, NULL, count_ended_destroy));
    CHECK_OK(mst_track_stop(self_freeing_track));
    CHECK_EQ_INT(atomic_load(&ended_calls), 1);
    CHECK_EQ_INT(atomic_load(&ended_destroys), 1);
    CHECK_STATUS(mst_track_stop(self_freeing_track), MST_ERR_INVALID_STATE);
    CHECK_OK(mst_generator_free(g));
}

static MstProcessor *self_freeing_processor;
static atomic_int cb_frames, cb_destroys;
static void remove_and_free_self(void *user_data, MstFrame *frame) {
    (void)user_data;
    if (!frame) return;
    atomic_fetch_add(&cb_frames, 1);
    CHECK_OK(mst_frame_free(frame));
    CHECK_OK(mst_processor_set_callback(self_freeing_processor, NULL, NULL, NULL));
    CHECK_OK(mst_processor_free(self_freeing_processor));
}
static void count_cb_destroy(void *user_data) {
    (void)user_data;
    atomic_fetch_add(&cb_destroys, 1);
}

static void processor_callback_frees_its_processor(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &self_freeing_processor));
    CHECK_OK(mst_processor_set_callback(self_freeing_processor, remove_and_free_self, NULL, count_cb_destroy));
    mst_test_write_video_frame(g, W, H, 0);
    /* The callback thread frees the processor; wait for its destroy-notify (hang guard 10 s). */
    for (int i = 0; i < 10000 && atomic_load(&cb_destroys) == 0; i++) mst_test_sleep_ms(1);
    CHECK_EQ_INT(atomic_load(&cb_frames), 1);
    CHECK_EQ_INT(atomic_load(&cb_destroys), 1);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

static MstProcessor *contested;
static atomic_int contested_calls, contested_destroys, after_free_calls;
static atomic_bool freed;
static void count_frame(void *user_data, MstFrame *frame) {
    (void)user_data;
    if (atomic_load(&freed)) atomic_fetch_add(&after_free_calls, 1);
    atomic_fetch_add(&contested_calls, 1);
    if (frame) mst_frame_free(frame);
}
static void count_contested_destroy(void *user_data) {
    (void)user_data;
    atomic_fetch_add(&contested_destroys, 1);
}
static void *install_callbacks(void *arg) {
    (void)arg;
    for (int i = 0; i < 50; i++)
        CHECK_OK(mst_processor_set_callback(contested, count_frame, NULL, count_contested_destroy));
    return NULL;
}

static void concurrent_callback_replacement_leaves_no_thread_behind(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &contested));
    pthread_t a, b;
    CHECK(pthread_create(&a, NULL, install_callbacks, NULL) == 0);
    CHECK(pthread_create(&b, NULL, install_callbacks, NULL) == 0);
    for (int i = 0; i < 200; i++) mst_test_write_video_frame(g, W, H, i);
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(b, NULL) == 0);
    CHECK_OK(mst_processor_free(contested));
    atomic_store(&freed, true);
    CHECK_EQ_INT(atomic_load(&contested_destroys), 100);
    for (int i = 0; i < 20; i++) mst_test_write_video_frame(g, W, H, 1000 + i);
    CHECK_EQ_INT(atomic_load(&after_free_calls), 0);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

int main(void) {
    release_callback_writes_to_the_generator();
    mute_callback_changes_the_state();
    ended_callback_frees_its_track();
    processor_callback_frees_its_processor();
    concurrent_callback_replacement_leaves_no_thread_behind();
    puts("test_reentrancy: ok");
    return 0;
}
