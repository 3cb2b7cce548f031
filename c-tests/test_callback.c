/* mst_processor_set_callback(): every frame reaches the callback once, in order, on a library
 * thread; the callback owns the frames; reads are refused while it is set; the end is reported
 * with one NULL frame and the destroy-notify runs once; a NULL callback stops it and turns
 * reads back on. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"

#define HANG_GUARD_S 60

struct sink {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t writer;
    int frames;
    int nulls;
    int frames_after_null;
    int on_writer_thread;
    int bad_frames; /* info failed, close failed, or out of order */
    int64_t next_ts;
    uint64_t last_sequence;
    int destroyed;
};

static void sink_init(struct sink *s, int64_t first_ts) {
    memset(s, 0, sizeof *s);
    CHECK_EQ_INT(pthread_mutex_init(&s->lock, NULL), 0);
    CHECK_EQ_INT(pthread_cond_init(&s->cond, NULL), 0);
    s->writer = pthread_self();
    s->next_ts = first_ts;
}

static void sink_fini(struct sink *s) {
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
}

static void on_frame(void *user_data, MstFrame *frame) {
    struct sink *s = user_data;
    int bad = 0;
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    if (frame != NULL) {
        bad = mst_frame_get_video_info(frame, &info) != MST_OK;
        bad |= mst_frame_free(frame) != MST_OK; /* the callback owns the frame */
    }
    pthread_mutex_lock(&s->lock);
    if (pthread_equal(pthread_self(), s->writer)) s->on_writer_thread++;
    if (frame == NULL) {
        s->nulls++;
    } else {
        if (s->nulls) s->frames_after_null++;
        if (info.timestamp != s->next_ts || info.sequence <= s->last_sequence) bad = 1;
        s->next_ts = info.timestamp + 1;
        s->last_sequence = info.sequence;
        s->frames++;
        s->bad_frames += bad;
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void on_destroy(void *user_data) {
    struct sink *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->destroyed++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static int count_destroyed;
static void count_destroy(void *user_data) {
    (void)user_data;
    count_destroyed++;
}

/* Waits until `*field` reaches `want` (a hang guard, not a timing check). */
static void wait_for(struct sink *s, const int *field, int want, const char *what) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += HANG_GUARD_S;
    pthread_mutex_lock(&s->lock);
    while (*field < want)
        if (pthread_cond_timedwait(&s->cond, &s->lock, &deadline) != 0) break;
    int got = *field;
    pthread_mutex_unlock(&s->lock);
    if (got < want) MST_TEST_FAIL_("waited %d s for %s: %d of %d", HANG_GUARD_S, what, got, want);
}

#define ROUNDS 3
#define PER_ROUND 20 /* below the queue size: nothing may be dropped */

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(32), &p));
    MstFrame *f = NULL;

    /* Callback A gets every frame, in order, off the writer's thread. */
    struct sink a;
    sink_init(&a, 0);
    CHECK_OK(mst_processor_set_callback(p, on_frame, &a, on_destroy));
    CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_INVALID_STATE);
    CHECK_STATUS(mst_processor_read(p, 10, &f), MST_ERR_INVALID_STATE);
    int64_t ts = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < PER_ROUND; i++) mst_test_write_video_frame(g, 16, 16, ts++);
        wait_for(&a, &a.frames, (round + 1) * PER_ROUND, "callback A's frames");
        CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_INVALID_STATE);
    }
    CHECK(f == NULL);

    /* NULL stops it: A's destroy has run when the call returns; no NULL frame (not an end). */
    CHECK_OK(mst_processor_set_callback(p, NULL, NULL, NULL));
    pthread_mutex_lock(&a.lock);
    int a_frames = a.frames, a_nulls = a.nulls, a_destroyed = a.destroyed, a_bad = a.bad_frames,
        a_wrong_thread = a.on_writer_thread;
    uint64_t a_last_sequence = a.last_sequence;
    pthread_mutex_unlock(&a.lock);
    CHECK_EQ_INT(a_frames, ROUNDS * PER_ROUND);
    CHECK_EQ_INT(a_bad, 0);
    CHECK_EQ_INT(a_wrong_thread, 0);
    CHECK_EQ_INT(a_last_sequence, ROUNDS * PER_ROUND);
    CHECK_EQ_INT(a_nulls, 0);
    CHECK_EQ_INT(a_destroyed, 1);

    /* Reads work again and the sequence goes on. */
    mst_test_write_video_frame(g, 16, 16, ts++);
    CHECK_OK(mst_processor_read(p, 10000, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, ts - 1);
    CHECK_EQ_INT(info.sequence, ROUNDS * PER_ROUND + 1);
    CHECK_OK(mst_frame_free(f));
    f = NULL;
    CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_AGAIN);
    pthread_mutex_lock(&a.lock);
    CHECK_EQ_INT(a.frames, ROUNDS * PER_ROUND); /* A got nothing more */
    CHECK_EQ_INT(a.destroyed, 1);
    pthread_mutex_unlock(&a.lock);

    /* A NULL callback's own destroy runs at once. */
    count_destroyed = 0;
    CHECK_OK(mst_processor_set_callback(p, NULL, &count_destroyed, count_destroy));
    CHECK_EQ_INT(count_destroyed, 1);

    /* Callback B, replaced by callback C: B's destroy runs, C takes over. */
    struct sink b, c;
    sink_init(&b, ts);
    CHECK_OK(mst_processor_set_callback(p, on_frame, &b, on_destroy));
    for (int i = 0; i < PER_ROUND; i++) mst_test_write_video_frame(g, 16, 16, ts++);
    wait_for(&b, &b.frames, PER_ROUND, "callback B's frames");
    sink_init(&c, ts);
    CHECK_OK(mst_processor_set_callback(p, on_frame, &c, on_destroy));
    CHECK_EQ_INT(b.destroyed, 1);
    CHECK_EQ_INT(b.nulls, 0);
    CHECK_EQ_INT(b.bad_frames, 0);
    for (int i = 0; i < PER_ROUND; i++) mst_test_write_video_frame(g, 16, 16, ts++);
    wait_for(&c, &c.frames, PER_ROUND, "callback C's frames");

    /* The track ends: one NULL, then the destroy, on the callback thread. */
    CHECK_OK(mst_generator_close(g));
    wait_for(&c, &c.destroyed, 1, "callback C's destroy");
    pthread_mutex_lock(&c.lock);
    CHECK_EQ_INT(c.nulls, 1);
    CHECK_EQ_INT(c.frames, PER_ROUND);
    CHECK_EQ_INT(c.frames_after_null, 0);
    CHECK_EQ_INT(c.bad_frames, 0);
    CHECK_EQ_INT(c.on_writer_thread, 0);
    CHECK_EQ_INT(c.destroyed, 1);
    pthread_mutex_unlock(&c.lock);
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p, &st));
    CHECK(st.ended);
    CHECK_EQ_INT(st.total, ROUNDS * PER_ROUND + 1 + 2 * PER_ROUND);
    CHECK_EQ_INT(st.delivered, st.total);
    CHECK_EQ_INT(st.discarded, 0);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(b.frames, PER_ROUND); /* B never saw C's frames */

    /* A callback set on an ended processor gets the NULL at once (and then its destroy). */
    struct sink d;
    sink_init(&d, 0);
    CHECK_OK(mst_processor_set_callback(p, on_frame, &d, on_destroy));
    wait_for(&d, &d.destroyed, 1, "callback D's destroy");
    CHECK_EQ_INT(d.nulls, 1);
    CHECK_EQ_INT(d.frames, 0);

    CHECK_OK(mst_processor_free(p));
    CHECK_EQ_INT(a.destroyed, 1);
    CHECK_EQ_INT(b.destroyed, 1);
    CHECK_EQ_INT(c.destroyed, 1);
    CHECK_EQ_INT(d.destroyed, 1);

    /* Freeing a processor with a live callback stops it; its destroy has run on return. */
    MstGenerator *g2 = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g2));
    MstTrack *t2 = NULL;
    CHECK_OK(mst_generator_get_track(g2, &t2));
    MstProcessor *p2 = NULL;
    CHECK_OK(mst_processor_create(t2, MST_TEST_BUFFER(8), &p2));
    struct sink e;
    sink_init(&e, 0);
    CHECK_OK(mst_processor_set_callback(p2, on_frame, &e, on_destroy));
    mst_test_write_video_frame(g2, 16, 16, 0);
    wait_for(&e, &e.frames, 1, "callback E's frame");
    CHECK_OK(mst_processor_free(p2));
    CHECK_EQ_INT(e.destroyed, 1);
    CHECK(e.nulls <= 1);
    CHECK_EQ_INT(e.bad_frames, 0);

    CHECK_OK(mst_track_free(t2));
    CHECK_OK(mst_generator_free(g2));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    sink_fini(&a);
    sink_fini(&b);
    sink_fini(&c);
    sink_fini(&d);
    sink_fini(&e);
    printf("test_callback: ok\n");
    return 0;
}
