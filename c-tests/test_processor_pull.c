/* processorPull (spec 2.1.4): frames stay in the processor's queue until a read asks for one
 * (highWaterMark 0, no stream-side buffering); a pending read is satisfied by the next frame
 * that arrives; a read that cannot be satisfied reports why and leaves *out alone. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "common.h"

enum { W = 16, H = 16 };

static MstFrame *video_frame(int64_t timestamp) {
    uint8_t pixels[W * H * 3 / 2];
    memset(pixels, 0x80, sizeof pixels);
    MstVideoFrameInit init = {
        .format = MST_VIDEO_PIXEL_FORMAT_I420, .coded_width = W, .coded_height = H, .timestamp = timestamp};
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, pixels, sizeof pixels, &f));
    return f;
}

static MstProcessorStats stats(const MstProcessor *p) {
    MstProcessorStats st;
    CHECK_OK(mst_processor_get_stats(p, &st));
    return st;
}

static void sleep_ms(long ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

struct reader {
    MstProcessor *processor;
    atomic_int started;  /* set just before the blocking read */
    atomic_int returned; /* set when it has returned */
    MstStatus status;
    MstFrame *frame;
};

static void *reader_main(void *arg) {
    struct reader *r = arg;
    atomic_store(&r->started, 1);
    r->status = mst_processor_read(r->processor, -1, &r->frame);
    atomic_store(&r->returned, 1);
    return NULL;
}

int main(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    MstProcessor *p = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_track(g, &t));
    CHECK_OK(mst_processor_create(t, 4, &p));

    /* A written frame waits in the queue; only a read moves it to the reader. */
    CHECK_OK(mst_generator_write(g, video_frame(1000)));
    MstProcessorStats st = stats(p);
    CHECK_EQ_INT(st.total, 1);
    CHECK_EQ_INT(st.queued, 1);
    CHECK_EQ_INT(st.delivered, 0);
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    CHECK(f != NULL);
    MstVideoFrameInfo info;
    CHECK_OK(mst_frame_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, 1000);
    CHECK_EQ_INT(info.sequence, 1);
    CHECK_OK(mst_frame_close(f));
    st = stats(p);
    CHECK_EQ_INT(st.delivered, 1);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.discarded, 0);

    /* Empty queue: timeout 0 -> AGAIN, timeout > 0 -> TIMEOUT; *out untouched each time. */
    int sentinel_storage = 0;
    MstFrame *const sentinel = (MstFrame *)(void *)&sentinel_storage;
    MstFrame *out = sentinel;
    CHECK_STATUS(mst_processor_read(p, 0, &out), MST_ERR_AGAIN);
    CHECK(out == sentinel);
    CHECK_STATUS(mst_processor_read(p, 20, &out), MST_ERR_TIMEOUT);
    CHECK(out == sentinel);
    CHECK_STATUS(mst_processor_read(p, 0, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_processor_read(NULL, 0, &out), MST_ERR_NULL_ARG);
    CHECK(out == sentinel);
    st = stats(p);
    CHECK_EQ_INT(st.delivered, 1);
    CHECK_EQ_INT(st.total, 1);

    /* A pending read (numPendingReads 1, empty queue) is fulfilled by the next frame. */
    struct reader r = {.processor = p, .status = MST_ERR_PANIC, .frame = NULL};
    atomic_init(&r.started, 0);
    atomic_init(&r.returned, 0);
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, reader_main, &r), 0);
    while (!atomic_load(&r.started)) sleep_ms(1);
    sleep_ms(50); /* lets the reader reach its wait; the outcome is the same if it has not */
    CHECK(!atomic_load(&r.returned)); /* a read on an empty queue waits for a frame */
    CHECK_OK(mst_generator_write(g, video_frame(2000)));
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    CHECK_STATUS(r.status, MST_OK);
    CHECK(r.frame != NULL);
    CHECK_OK(mst_frame_video_info(r.frame, &info));
    CHECK_EQ_INT(info.timestamp, 2000);
    CHECK_EQ_INT(info.sequence, 2);
    CHECK_OK(mst_frame_close(r.frame));
    st = stats(p);
    CHECK_EQ_INT(st.delivered, 2);
    CHECK_EQ_INT(st.queued, 0);

    /* A read with a timeout is satisfied by a frame already queued, without waiting. */
    CHECK_OK(mst_generator_write(g, video_frame(3000)));
    f = NULL;
    CHECK_OK(mst_processor_read(p, 10000, &f));
    CHECK_OK(mst_frame_video_info(f, &info));
    CHECK_EQ_INT(info.timestamp, 3000);
    CHECK_OK(mst_frame_close(f));

    /* After the end, *out is untouched too. */
    CHECK_OK(mst_processor_close(p));
    out = sentinel;
    CHECK_STATUS(mst_processor_read(p, 0, &out), MST_ERR_ENDED);
    CHECK(out == sentinel);
    CHECK_STATUS(mst_processor_read(p, -1, &out), MST_ERR_ENDED);
    CHECK(out == sentinel);

    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    return 0;
}
