/* Handles shared by many threads: 4 writers write 500 frames each to one generator while 4
 * processors (on its track and on clones) are each drained by their own reader thread until
 * MST_ERR_ENDED, and another thread reads stats and settings meanwhile. Every processor's
 * counters add up and each writer's frames arrive in the order written. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define WRITERS 4
#define PER_WRITER 500
#define READERS 4
#define TS_WRITER_STRIDE 1000000

struct writer {
    MstGenerator *g;
    int id;
    int failures;
    MstStatus first_error;
};

struct reader {
    MstProcessor *p;
    uint64_t frames;
    int64_t last_index[WRITERS];
    uint64_t last_sequence;
    int failures; /* anything but the sequence check */
    char failure[256];
    int sequence_failures;
    char sequence_failure[256];
    MstStatus end_status;
};

static atomic_int writers_done;

static void *writer_main(void *arg) {
    struct writer *w = arg;
    uint8_t buf[16 * 16 * 3 / 2];
    memset(buf, w->id * 40, sizeof buf);
    for (int i = 0; i < PER_WRITER; i++) {
        MstVideoFrameInit init =
            mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 16, 16, (int64_t)w->id * TS_WRITER_STRIDE + i);
        MstFrame *f = NULL;
        MstStatus s = mst_frame_create_video(&init, buf, sizeof buf, &f);
        if (s == MST_OK) {
            s = mst_generator_write(w->g, f);
            mst_frame_free(f);
        }
        if (s != MST_OK && w->failures++ == 0) w->first_error = s;
    }
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

static void reader_fail(struct reader *r, const char *msg, long long a, long long b) {
    if (r->failures++ == 0) snprintf(r->failure, sizeof r->failure, "%s (%lld, %lld)", msg, a, b);
}

static void *reader_main(void *arg) {
    struct reader *r = arg;
    for (int w = 0; w < WRITERS; w++) r->last_index[w] = -1;
    for (;;) {
        MstFrame *f = NULL;
        MstStatus s = mst_processor_read(r->p, -1, &f);
        if (s != MST_OK) {
            r->end_status = s;
            break;
        }
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        if (mst_frame_get_video_info(f, &info) != MST_OK) {
            reader_fail(r, "video_info failed", 0, 0);
        } else {
            int64_t w = info.timestamp / TS_WRITER_STRIDE, i = info.timestamp % TS_WRITER_STRIDE;
            if (w < 0 || w >= WRITERS || i >= PER_WRITER) {
                reader_fail(r, "unknown timestamp", info.timestamp, 0);
            } else {
                if (i <= r->last_index[w]) reader_fail(r, "a writer's frames out of order (previous, now)", r->last_index[w], i);
                r->last_index[w] = i;
            }
            /* A single reader takes frames in arrival order, and the sequence is the number of
             * arrival in this processor: it must increase too. */
            if (info.sequence <= r->last_sequence && r->sequence_failures++ == 0)
                snprintf(r->sequence_failure, sizeof r->sequence_failure,
                         "sequence %llu read after sequence %llu", (unsigned long long)info.sequence,
                         (unsigned long long)r->last_sequence);
            r->last_sequence = info.sequence;
        }
        /* Clone and close from this thread too. */
        MstFrame *c = NULL;
        if (mst_frame_clone(f, &c) != MST_OK || mst_frame_free(c) != MST_OK) reader_fail(r, "clone/close failed", 0, 0);
        if (mst_frame_free(f) != MST_OK) reader_fail(r, "close failed", 0, 0);
        r->frames++;
    }
    return NULL;
}

struct observer {
    MstProcessor **processors;
    MstTrack *track;
    int failures;
};

static void *observer_main(void *arg) {
    struct observer *o = arg;
    /* Mid-flight, each counter is a consistent snapshot on its own (not all four together):
     * each may only grow. */
    uint64_t last_total[READERS] = {0}, last_delivered[READERS] = {0};
    while (atomic_load(&writers_done) < WRITERS) {
        for (int i = 0; i < READERS; i++) {
            MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
            if (mst_processor_get_stats(o->processors[i], &st) != MST_OK) {
                o->failures++;
                continue;
            }
            if (st.total < last_total[i] || st.delivered < last_delivered[i]) o->failures++;
            last_total[i] = st.total;
            last_delivered[i] = st.delivered;
        }
        MstSettings settings = MST_STRUCT_INIT(MstSettings);
        if (mst_track_get_settings(o->track, &settings) != MST_OK) o->failures++;
        bool enabled;
        if (mst_track_get_enabled(o->track, &enabled) != MST_OK || !enabled) o->failures++;
    }
    return NULL;
}

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL, *c1 = NULL, *c2 = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_clone(t, &c1));
    CHECK_OK(mst_track_clone(c1, &c2));
    MstTrack *tracks[READERS] = {t, t, c1, c2};
    const uint32_t sizes[READERS] = {0, 4, 32, 8};
    MstProcessor *processors[READERS];
    for (int i = 0; i < READERS; i++) CHECK_OK(mst_processor_create(tracks[i], MST_TEST_BUFFER(sizes[i]), &processors[i]));

    struct reader readers[READERS];
    pthread_t reader_threads[READERS];
    memset(readers, 0, sizeof readers);
    for (int i = 0; i < READERS; i++) {
        readers[i].p = processors[i];
        CHECK_EQ_INT(pthread_create(&reader_threads[i], NULL, reader_main, &readers[i]), 0);
    }
    struct observer obs = {processors, c1, 0};
    pthread_t observer_thread;
    CHECK_EQ_INT(pthread_create(&observer_thread, NULL, observer_main, &obs), 0);

    struct writer writers[WRITERS];
    pthread_t writer_threads[WRITERS];
    memset(writers, 0, sizeof writers);
    for (int i = 0; i < WRITERS; i++) {
        writers[i].g = g;
        writers[i].id = i;
        CHECK_EQ_INT(pthread_create(&writer_threads[i], NULL, writer_main, &writers[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) CHECK_EQ_INT(pthread_join(writer_threads[i], NULL), 0);
    CHECK_EQ_INT(pthread_join(observer_thread, NULL), 0);
    CHECK_OK(mst_generator_close(g));
    for (int i = 0; i < READERS; i++) CHECK_EQ_INT(pthread_join(reader_threads[i], NULL), 0);

    for (int i = 0; i < WRITERS; i++)
        if (writers[i].failures)
            MST_TEST_FAIL_("writer %d: %d writes failed, the first with %s", i, writers[i].failures,
                           mst_status_str(writers[i].first_error));
    CHECK_EQ_INT(obs.failures, 0);
    for (int i = 0; i < READERS; i++) {
        struct reader *r = &readers[i];
        if (r->failures) MST_TEST_FAIL_("reader %d: %d failures, the first: %s", i, r->failures, r->failure);
        CHECK_STATUS(r->end_status, MST_ERR_ENDED);
        MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
        CHECK_OK(mst_processor_get_stats(processors[i], &st));
        if (st.total != st.delivered + st.discarded + st.queued)
            MST_TEST_FAIL_("processor %d: total %llu != delivered %llu + discarded %llu + queued %llu", i,
                           (unsigned long long)st.total, (unsigned long long)st.delivered,
                           (unsigned long long)st.discarded, (unsigned long long)st.queued);
        CHECK_EQ_INT(st.total, WRITERS * PER_WRITER); /* every write reached every live track */
        CHECK_EQ_INT(st.delivered, r->frames);
        CHECK_EQ_INT(st.queued, 0);
        CHECK(st.ended);
        CHECK(r->frames >= 1);
        CHECK(r->last_sequence <= st.total);
        if (sizes[i] != 0) CHECK_EQ_INT(st.max_buffer_size, sizes[i]);
    }

    /* Last, so the checks above run even when it fails. */
    for (int i = 0; i < READERS; i++)
        if (readers[i].sequence_failures)
            MST_TEST_FAIL_("reader %d: %d reads returned a frame whose processor sequence number was not above the "
                           "previous read's, the first: %s",
                           i, readers[i].sequence_failures, readers[i].sequence_failure);

    for (int i = 0; i < READERS; i++) CHECK_OK(mst_processor_free(processors[i]));
    CHECK_OK(mst_track_free(c2));
    CHECK_OK(mst_track_free(c1));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_threads: ok\n");
    return 0;
}
