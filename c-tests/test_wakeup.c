/* mst_processor_wakeup(): a reader blocked in mst_processor_read() on another thread returns
 * MST_ERR_INTERRUPTED; with no reader blocked, the next read that would block returns
 * MST_ERR_INTERRUPTED once and the one after it blocks normally. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

struct reader {
    MstProcessor *p;
    int32_t timeout_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int started;
    MstStatus result;
    MstFrame *frame;
};

static void *reader_main(void *arg) {
    struct reader *r = arg;
    pthread_mutex_lock(&r->lock);
    r->started = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    r->frame = NULL;
    r->result = mst_processor_read(r->p, r->timeout_ms, &r->frame);
    return NULL;
}

/* Starts a reader and returns once it is about to call mst_processor_read(). Whether it is
 * already blocked when the caller acts does not matter: a wakeup (or end) that comes first
 * makes the read return at once with the same status. */
static void start_reader(struct reader *r, pthread_t *th, MstProcessor *p, int32_t timeout_ms) {
    memset(r, 0, sizeof *r);
    r->p = p;
    r->timeout_ms = timeout_ms;
    r->result = MST_OK;
    CHECK_EQ_INT(pthread_mutex_init(&r->lock, NULL), 0);
    CHECK_EQ_INT(pthread_cond_init(&r->cond, NULL), 0);
    CHECK_EQ_INT(pthread_create(th, NULL, reader_main, r), 0);
    pthread_mutex_lock(&r->lock);
    while (!r->started) pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

static MstStatus join_reader(struct reader *r, pthread_t th) {
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    return r->result;
}

static void write_frame(MstGenerator *g, int64_t ts) {
    static uint8_t buf[16 * 16 * 3 / 2];
    MstVideoFrameInit init;
    memset(&init, 0, sizeof init);
    init.format = MST_VIDEO_PIXEL_FORMAT_I420;
    init.coded_width = 16;
    init.coded_height = 16;
    init.timestamp = ts;
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &f));
    CHECK_OK(mst_generator_write(g, f));
}

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, 4, &p));
    MstFrame *f = NULL;

    /* A reader blocked forever on another thread. */
    struct reader r;
    pthread_t th;
    start_reader(&r, &th, p, -1);
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(join_reader(&r, th), MST_ERR_INTERRUPTED);
    CHECK(r.frame == NULL);
    /* The wakeup was consumed by that reader. */
    CHECK_STATUS(mst_processor_read(p, 50, &f), MST_ERR_TIMEOUT);

    /* The same with a reader waiting with a (long) timeout. */
    start_reader(&r, &th, p, 60000);
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(join_reader(&r, th), MST_ERR_INTERRUPTED);
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
    write_frame(g, 7);
    CHECK_OK(mst_processor_read(p, 60000, &f));
    MstVideoFrameInfo info;
    CHECK_OK(mst_frame_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, 7);
    CHECK_OK(mst_frame_close(f));
    f = NULL;
    /* The wakeup is still pending for the next read that would block. */
    CHECK_STATUS(mst_processor_read(p, 60000, &f), MST_ERR_INTERRUPTED);
    CHECK_STATUS(mst_processor_read(p, 50, &f), MST_ERR_TIMEOUT);

    /* A reader blocked on another thread gets a frame written meanwhile. */
    start_reader(&r, &th, p, 60000);
    write_frame(g, 8);
    CHECK_OK(join_reader(&r, th));
    CHECK(r.frame != NULL);
    CHECK_OK(mst_frame_video_info(r.frame, &info));
    CHECK_EQ_INT(info.timestamp, 8);
    CHECK_OK(mst_frame_close(r.frame));

    /* A blocked reader sees the end: the processor closed from here. */
    start_reader(&r, &th, p, -1);
    CHECK_OK(mst_processor_close(p));
    CHECK_STATUS(join_reader(&r, th), MST_ERR_ENDED);
    /* After the end, a wakeup changes nothing: reads keep saying MST_ERR_ENDED. */
    CHECK_OK(mst_processor_wakeup(p));
    CHECK_STATUS(mst_processor_read(p, -1, &f), MST_ERR_ENDED);

    /* A blocked reader sees the end: the track stopped. */
    MstProcessor *p2 = NULL;
    CHECK_OK(mst_processor_create(t, 4, &p2));
    start_reader(&r, &th, p2, -1);
    CHECK_OK(mst_track_stop(t));
    CHECK_STATUS(join_reader(&r, th), MST_ERR_ENDED);

    CHECK_OK(mst_processor_free(p2));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_wakeup: ok\n");
    return 0;
}
