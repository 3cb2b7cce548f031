/* Assertion macros and shared helpers for the C tests. Each failure prints file:line and the
 * failing expression to stderr and exits with status 1, so ctest (and valgrind or ASan around
 * it) reports it. A failure inside a helper names the helper's line in this file.
 *
 * The helpers are `static inline`, so a test that uses none of them compiles without warnings
 * (-Wall -Wextra -Wpedantic -Werror, C11). The POSIX ones (threads, sleeping) exist only where
 * the test asks for POSIX: it defines _POSIX_C_SOURCE (200112L or later; or _GNU_SOURCE) before
 * its first #include, as it must for <pthread.h> and nanosleep() anyway. */
#ifndef MST_C_TESTS_COMMON_H
#define MST_C_TESTS_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"

#define MST_TEST_FAIL_(...)                                                                    \
    do {                                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
        fprintf(stderr, __VA_ARGS__);                                                          \
        fputc('\n', stderr);                                                                   \
        exit(1);                                                                               \
    } while (0)

/* CHECK(cond): cond is true. */
#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) MST_TEST_FAIL_("CHECK(%s) failed", #cond);                                \
    } while (0)

/* CHECK_EQ_INT(a, b): two integers are equal; each is evaluated once. */
#define CHECK_EQ_INT(a, b)                                                                     \
    do {                                                                                       \
        long long mst_test_a_ = (long long)(a);                                                \
        long long mst_test_b_ = (long long)(b);                                                \
        if (mst_test_a_ != mst_test_b_)                                                        \
            MST_TEST_FAIL_("CHECK_EQ_INT(%s, %s) failed: %lld != %lld", #a, #b, mst_test_a_,   \
                           mst_test_b_);                                                       \
    } while (0)

/* CHECK_STATUS(expr, expected): the call returns the status `expected`. */
#define CHECK_STATUS(expr, expected)                                                           \
    do {                                                                                       \
        MstStatus mst_test_got_ = (expr);                                                      \
        MstStatus mst_test_want_ = (expected);                                                 \
        if (mst_test_got_ != mst_test_want_)                                                   \
            MST_TEST_FAIL_("%s returned %s (%d), expected %s (%d); last error: %s", #expr,     \
                           mst_status_str(mst_test_got_), (int)mst_test_got_,                  \
                           mst_status_str(mst_test_want_), (int)mst_test_want_,                \
                           mst_last_error_message());                                          \
    } while (0)

/* CHECK_OK(expr): the call returns MST_OK. */
#define CHECK_OK(expr) CHECK_STATUS(expr, MST_OK)

/* MST_TEST_BUFFER(n): processor options asking for maxBufferSize n, as the pointer
 * mst_processor_create() takes (a compound literal: valid in the enclosing block). */
#define MST_TEST_BUFFER(n)                                                                      \
    (&(MstProcessorOptions){.struct_size = sizeof(MstProcessorOptions), .max_buffer_size = (n)})

/* ---- Frames ---------------------------------------------------------------------------- */

/* A frame init with format, coded size and timestamp set and everything else 0: planes tightly
 * packed, the whole coded frame visible, display size = visible size, no duration. */
static inline MstVideoFrameInit mst_test_video_init(int32_t format, uint32_t coded_width,
                                                    uint32_t coded_height, int64_t timestamp) {
    MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
    init.format = format;
    init.coded_width = coded_width;
    init.coded_height = coded_height;
    init.timestamp = timestamp;
    return init;
}

/* A new I420 frame of width x height, every byte 0x80 (mid grey), created by copy. */
static inline MstFrame *mst_test_video_frame(uint32_t width, uint32_t height, int64_t timestamp) {
    size_t len = (size_t)width * height + 2 * (size_t)((width + 1) / 2) * ((height + 1) / 2);
    uint8_t *pixels = malloc(len);
    CHECK(pixels != NULL);
    memset(pixels, 0x80, len);
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, width, height, timestamp);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, pixels, len, &f));
    free(pixels);
    return f;
}

/* Writes f to g, which must succeed, and frees the handle (the write closed it). */
static inline void mst_test_write(MstGenerator *g, MstFrame *f) {
    CHECK_OK(mst_generator_write(g, f));
    CHECK_OK(mst_frame_free(f));
}

/* Writes mst_test_video_frame(width, height, timestamp) to g, as mst_test_write(). */
static inline void mst_test_write_video_frame(MstGenerator *g, uint32_t width, uint32_t height,
                                              int64_t timestamp) {
    mst_test_write(g, mst_test_video_frame(width, height, timestamp));
}

/* A new AudioData of `frames` frames of `channels` channels in `format`, whose samples are
 * `bytes_per_sample` bytes each, every byte 0 (silence but in the u8 formats), created by copy. */
static inline MstFrame *mst_test_audio_data(int32_t format, size_t bytes_per_sample, float sample_rate,
                                            uint32_t frames, uint32_t channels, int64_t timestamp) {
    size_t len = (size_t)frames * channels * bytes_per_sample;
    uint8_t *samples = calloc(1, len);
    CHECK(samples != NULL);
    MstAudioDataInit init = {.struct_size = sizeof(MstAudioDataInit),
                             .format = format,
                             .sample_rate = sample_rate,
                             .number_of_frames = frames,
                             .number_of_channels = channels,
                             .timestamp = timestamp};
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_audio(&init, samples, len, &f));
    free(samples);
    return f;
}

/* ---- Processors and tracks --------------------------------------------------------------- */

static inline MstProcessorStats mst_test_stats(const MstProcessor *p) {
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p, &st));
    return st;
}

/* Reads one video frame without waiting (one must be ready), closes it and returns its info. */
static inline MstVideoFrameInfo mst_test_read_video_info(MstProcessor *p) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_OK(mst_frame_free(f));
    return info;
}

/* Reads one video frame without waiting and checks its timestamp and sequence number. */
static inline void mst_test_expect_video(MstProcessor *p, int64_t timestamp, uint64_t sequence) {
    MstVideoFrameInfo info = mst_test_read_video_info(p);
    if (info.timestamp != timestamp || info.sequence != sequence)
        MST_TEST_FAIL_("read frame timestamp %lld sequence %llu, expected %lld and %llu",
                       (long long)info.timestamp, (unsigned long long)info.sequence,
                       (long long)timestamp, (unsigned long long)sequence);
}

/* A read without waiting finds nothing: MST_ERR_AGAIN, and no frame. */
static inline void mst_test_expect_empty(MstProcessor *p) {
    MstFrame *f = NULL;
    CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_AGAIN);
    CHECK(f == NULL);
}

static inline MstReadyState mst_test_ready_state(const MstTrack *t) {
    MstReadyState s = 0;
    CHECK_OK(mst_track_get_ready_state(t, &s));
    return s;
}

/* What a track's ended callback saw: pass mst_test_on_ended and mst_test_on_ended_destroy to
 * mst_track_set_ended_callback() with a record as user data. */
struct mst_test_ended_record {
    int calls;
    MstEndReason reason; /* of the last call */
    int destroys;
};

static inline void mst_test_on_ended(void *user_data, MstEndReason reason) {
    struct mst_test_ended_record *r = user_data;
    r->calls++;
    r->reason = reason;
}

static inline void mst_test_on_ended_destroy(void *user_data) {
    struct mst_test_ended_record *r = user_data;
    r->destroys++;
}

/* ---- POSIX: sleeping and reader threads ------------------------------------------------- */

/* <stdio.h> above has made glibc's <features.h> turn _GNU_SOURCE into _POSIX_C_SOURCE. */
#if defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200112L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static inline void mst_test_sleep_ms(long ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* A thread making one mst_processor_read() call. */
struct mst_test_reader {
    MstProcessor *processor;
    int32_t timeout_ms;
    pthread_t thread;
    atomic_int started;  /* set just before the read */
    atomic_int returned; /* set when the read has returned */
    MstStatus status;    /* what the read returned (MST_ERR_PANIC before) */
    MstFrame *frame;     /* the frame it read, or NULL */
};

static inline void *mst_test_reader_main(void *arg) {
    struct mst_test_reader *r = arg;
    atomic_store(&r->started, 1);
    r->status = mst_processor_read(r->processor, r->timeout_ms, &r->frame);
    atomic_store(&r->returned, 1);
    return NULL;
}

/* Starts r reading p with timeout_ms on a thread of its own; returns settle_ms after the thread
 * is about to call mst_processor_read(), which gives it time to reach its wait inside. */
static inline void mst_test_reader_start(struct mst_test_reader *r, MstProcessor *p, int32_t timeout_ms,
                                         long settle_ms) {
    r->processor = p;
    r->timeout_ms = timeout_ms;
    r->status = MST_ERR_PANIC;
    r->frame = NULL;
    atomic_init(&r->started, 0);
    atomic_init(&r->returned, 0);
    CHECK_EQ_INT(pthread_create(&r->thread, NULL, mst_test_reader_main, r), 0);
    while (!atomic_load(&r->started)) mst_test_sleep_ms(1);
    mst_test_sleep_ms(settle_ms);
}

/* Waits for the reader's thread to end; returns what its read returned. */
static inline MstStatus mst_test_reader_join(struct mst_test_reader *r) {
    CHECK_EQ_INT(pthread_join(r->thread, NULL), 0);
    return r->status;
}
#endif /* _POSIX_C_SOURCE >= 200112L */

#endif /* MST_C_TESTS_COMMON_H */
