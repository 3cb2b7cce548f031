/* The spec's example 3.1, "Video Processing" with a worker, in C:
 *
 *   test pattern --> processor --> worker thread (transform) --> generator
 *                                                                   |
 *   main thread <-- processor (maxBufferSize 32) <-- generator's track
 *
 * The worker plays worker.js: it reads each frame, makes a new one (the negative image),
 * closes the input and writes the result, and when its read reports the end it closes the
 * generator's writable (the spec's pipeTo closing the writable). The main thread plays the
 * <video id="video-after"> element: it reads the generator's track through a second
 * processor until that track ends.
 *
 * The main thread never sees the input, so the transform signs its output: luma row 0 of every
 * output frame carries a marker with the input's sequence number, its timestamp and a hash of
 * the input's pixels below row 0. The main thread inverts what it received and hashes it: an
 * equal hash proves the frame is exactly the negative of the input. At the end the counts
 * of both processors must add up with what the worker and the main thread saw.
 *
 * The source is unpaced (60 frames, as fast as it can draw them), so a processor may discard
 * frames the worker is too slow for: that is the spec's behaviour, and the counters show it.
 *
 * Build, with libmst installed where pkg-config finds it:
 *   cc -std=c11 video_worker.c -o video_worker $(pkg-config --cflags --libs mst) -pthread
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mst.h"

#define WIDTH 320
#define HEIGHT 180
#define FRAME_COUNT 60
#define OUTPUT_BUFFER 32
#define INPUT_BUFFER 32
#define READ_TIMEOUT_MS 20000 /* a stuck pipeline fails instead of hanging */

/* Luma row 0 of a transformed frame: magic, input sequence, input timestamp, hash. */
#define MARKER_MAGIC "MSTX"
#define MARKER_LEN 24

#define MST_TRY(call)                                                                          \
    do {                                                                                       \
        MstStatus try_status_ = (call);                                                        \
        if (try_status_ != MST_OK) {                                                           \
            fprintf(stderr, "video_worker: %s failed: %s (%s)\n", #call,                        \
                    mst_status_str(try_status_), mst_last_error_message());                    \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "video_worker: CHECK FAILED (%s): ", #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* FNV-1a over the pixels below luma row 0, optionally inverted first. */
static uint32_t hash_pixels(const uint8_t *img, size_t len, size_t row0_len, bool invert) {
    uint32_t h = 2166136261u;
    for (size_t i = row0_len; i < len; i++) {
        h ^= invert ? (uint8_t)(255 - img[i]) : img[i];
        h *= 16777619u;
    }
    return h;
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Copies a video frame into a packed buffer (grown as needed); returns its layout. */
static struct MstPlaneLayouts copy_frame(const MstFrame *frame, uint8_t **buf, size_t *cap,
                                         size_t *len) {
    MST_TRY(mst_frame_video_allocation_size(frame, NULL, len));
    if (*len > *cap) {
        free(*buf);
        *buf = malloc(*len);
        CHECK(*buf != NULL, "out of memory");
        *cap = *len;
    }
    struct MstPlaneLayouts planes = MST_STRUCT_INIT(MstPlaneLayouts);
    MST_TRY(mst_frame_video_copy_to(frame, *buf, *cap, NULL, &planes));
    return planes;
}

/* ---- worker.js ------------------------------------------------------------------------------- */

struct worker {
    MstProcessor *processor; /* borrowed: the pattern's processor */
    MstGenerator *generator; /* borrowed */
    uint64_t frames_read;
    uint64_t frames_written;
};

/* transform(videoFrame, controller): the negative image, signed in luma row 0. */
static MstFrame *transform(const MstFrame *in, uint8_t **buf, size_t *cap) {
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    MST_TRY(mst_frame_get_video_info(in, &info));
    CHECK(info.format == MST_VIDEO_PIXEL_FORMAT_I420 && info.visible_rect.width >= MARKER_LEN,
          "the transform takes I420 frames at least %d pixels wide", MARKER_LEN);
    size_t len = 0;
    struct MstPlaneLayouts planes = copy_frame(in, buf, cap, &len);
    uint8_t *img = *buf;
    size_t row0 = planes.planes[0].offset + planes.planes[0].stride;

    uint32_t input_hash = hash_pixels(img, len, row0, false);
    for (size_t i = 0; i < len; i++) img[i] = (uint8_t)(255 - img[i]);
    uint8_t *marker = img + planes.planes[0].offset;
    memcpy(marker, MARKER_MAGIC, 4);
    put_u64(marker + 4, info.sequence);
    put_u64(marker + 12, (uint64_t)info.timestamp);
    for (int i = 0; i < 4; i++) marker[20 + i] = (uint8_t)(input_hash >> (8 * i));

    MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
    init.format = MST_VIDEO_PIXEL_FORMAT_I420;
    init.coded_width = info.visible_rect.width;
    init.coded_height = info.visible_rect.height;
    init.timestamp = info.timestamp;
    init.duration = info.duration;
    init.num_planes = planes.count;
    for (uint32_t p = 0; p < planes.count; p++) init.layout[p] = planes.planes[p];
    MstFrame *out = NULL;
    MST_TRY(mst_frame_create_video(&init, img, len, &out));
    return out;
}

static void *worker_main(void *arg) {
    struct worker *wk = arg;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (;;) {
        MstFrame *in = NULL;
        MstStatus st = mst_processor_read(wk->processor, READ_TIMEOUT_MS, &in);
        if (st == MST_ERR_ENDED) break; /* the readable is done: close the writable */
        MST_TRY(st);
        wk->frames_read++;
        MstFrame *out = transform(in, &buf, &cap);
        MST_TRY(mst_frame_free(in));
        st = mst_generator_write(wk->generator, out); /* closes `out` on success */
        mst_frame_free(out);                          /* the handle is ours either way */
        MST_TRY(st);
        wk->frames_written++;
    }
    free(buf);
    MST_TRY(mst_generator_close(wk->generator));
    return NULL;
}

/* ---- main.js --------------------------------------------------------------------------------- */

int main(void) {
    double started = now_seconds();

    MstTestPatternOptions opts = MST_STRUCT_INIT(MstTestPatternOptions);
    opts.width = WIDTH;
    opts.height = HEIGHT;
    opts.unpaced = true;
    opts.frame_count = FRAME_COUNT;
    MstTrack *video_track = NULL;
    MST_TRY(mst_track_create_test_pattern(&opts, &video_track));
    MstProcessorOptions input_queue = MST_STRUCT_INIT(MstProcessorOptions);
    input_queue.max_buffer_size = INPUT_BUFFER;
    MstProcessor *processor = NULL;
    MST_TRY(mst_processor_create(video_track, &input_queue, &processor));

    MstGenerator *generator = NULL;
    MstTrack *generated = NULL;
    MstProcessor *after = NULL; /* "video-after" */
    MST_TRY(mst_generator_create(MST_KIND_VIDEO, &generator));
    MST_TRY(mst_generator_get_track(generator, &generated));
    MstProcessorOptions output_queue = MST_STRUCT_INIT(MstProcessorOptions);
    output_queue.max_buffer_size = OUTPUT_BUFFER;
    MST_TRY(mst_processor_create(generated, &output_queue, &after));

    struct worker wk = {processor, generator, 0, 0};
    pthread_t worker_thread;
    int rc = pthread_create(&worker_thread, NULL, worker_main, &wk);
    CHECK(rc == 0, "pthread_create: %s", strerror(rc));

    uint64_t verified = 0, last_input_seq = 0, last_output_seq = 0;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (;;) {
        MstFrame *frame = NULL;
        MstStatus st = mst_processor_read(after, READ_TIMEOUT_MS, &frame);
        if (st == MST_ERR_ENDED) break;
        MST_TRY(st);
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        MST_TRY(mst_frame_get_video_info(frame, &info));
        CHECK(info.format == MST_VIDEO_PIXEL_FORMAT_I420 && info.visible_rect.width == WIDTH &&
                  info.visible_rect.height == HEIGHT,
              "frame %llu: format %d, %ux%u", (unsigned long long)info.sequence,
              (int)info.format, info.visible_rect.width, info.visible_rect.height);
        size_t len = 0;
        struct MstPlaneLayouts planes = copy_frame(frame, &buf, &cap, &len);
        MST_TRY(mst_frame_free(frame));

        const uint8_t *marker = buf + planes.planes[0].offset;
        size_t row0 = planes.planes[0].offset + planes.planes[0].stride;
        CHECK(memcmp(marker, MARKER_MAGIC, 4) == 0,
              "output frame %llu lacks the transform's marker: it is not the worker's frame",
              (unsigned long long)info.sequence);
        uint64_t input_seq = get_u64(marker + 4);
        int64_t input_ts = (int64_t)get_u64(marker + 12);
        uint32_t input_hash = (uint32_t)marker[20] | (uint32_t)marker[21] << 8 |
                              (uint32_t)marker[22] << 16 | (uint32_t)marker[23] << 24;
        CHECK(input_ts == info.timestamp, "output frame %llu has timestamp %lld, its input %lld",
              (unsigned long long)info.sequence, (long long)info.timestamp, (long long)input_ts);
        CHECK(input_seq > last_input_seq && info.sequence > last_output_seq,
              "frames out of order: input %llu after %llu, output %llu after %llu",
              (unsigned long long)input_seq, (unsigned long long)last_input_seq,
              (unsigned long long)info.sequence, (unsigned long long)last_output_seq);
        uint32_t got = hash_pixels(buf, len, row0, true);
        CHECK(got == input_hash,
              "output frame %llu (input %llu) is not the negative of its input: hash %08x, "
              "expected %08x",
              (unsigned long long)info.sequence, (unsigned long long)input_seq, got, input_hash);
        last_input_seq = input_seq;
        last_output_seq = info.sequence;
        verified++;
    }
    free(buf);
    rc = pthread_join(worker_thread, NULL);
    CHECK(rc == 0, "pthread_join: %s", strerror(rc));

    MstProcessorStats in = MST_STRUCT_INIT(MstProcessorStats);
    MstProcessorStats out = MST_STRUCT_INIT(MstProcessorStats);
    MST_TRY(mst_processor_get_stats(processor, &in));
    MST_TRY(mst_processor_get_stats(after, &out));
    MstEndReason source_reason, generated_reason;
    MST_TRY(mst_track_get_end_reason(video_track, &source_reason));
    MST_TRY(mst_track_get_end_reason(generated, &generated_reason));
    double elapsed = now_seconds() - started;

    MST_TRY(mst_processor_free(after));
    MST_TRY(mst_processor_free(processor));
    MST_TRY(mst_track_free(generated));
    MST_TRY(mst_generator_free(generator));
    MST_TRY(mst_track_free(video_track));

    printf("video_worker: %.3f s\n", elapsed);
    printf("  pattern processor:   total %2llu, delivered %2llu, discarded %2llu, queued %llu\n",
           (unsigned long long)in.total, (unsigned long long)in.delivered,
           (unsigned long long)in.discarded, (unsigned long long)in.queued);
    printf("  worker:              read %2llu, wrote %2llu\n", (unsigned long long)wk.frames_read,
           (unsigned long long)wk.frames_written);
    printf("  generator processor: total %2llu, delivered %2llu, discarded %2llu, queued %llu\n",
           (unsigned long long)out.total, (unsigned long long)out.delivered,
           (unsigned long long)out.discarded, (unsigned long long)out.queued);
    printf("  main thread:         verified %llu negative frames\n", (unsigned long long)verified);

    CHECK(source_reason == MST_END_REASON_SOURCE_ENDED, "the pattern ended with reason %d",
          (int)source_reason);
    CHECK(generated_reason == MST_END_REASON_WRITABLE_CLOSED,
          "the generator's track ended with reason %d", (int)generated_reason);
    CHECK(in.ended && out.ended, "a processor has not ended");
    CHECK(in.total <= FRAME_COUNT, "the pattern processor got %llu frames of %d",
          (unsigned long long)in.total, FRAME_COUNT);
    CHECK(in.total == in.delivered + in.discarded + in.queued && in.queued == 0,
          "the pattern processor's counters do not add up");
    CHECK(in.delivered == wk.frames_read && wk.frames_read == wk.frames_written,
          "the worker read %llu and wrote %llu frames, its processor delivered %llu",
          (unsigned long long)wk.frames_read, (unsigned long long)wk.frames_written,
          (unsigned long long)in.delivered);
    CHECK(out.total == wk.frames_written,
          "the generator processor got %llu frames, the worker wrote %llu",
          (unsigned long long)out.total, (unsigned long long)wk.frames_written);
    CHECK(out.total == out.delivered + out.discarded + out.queued && out.queued == 0,
          "the generator processor's counters do not add up");
    CHECK(out.delivered == verified, "the generator processor delivered %llu, main verified %llu",
          (unsigned long long)out.delivered, (unsigned long long)verified);
    CHECK(verified >= 1, "no transformed frame came through");
    printf("video_worker: OK\n");
    return 0;
}
