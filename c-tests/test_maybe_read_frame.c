/* maybeReadFrame (spec 2.1.4): each read dequeues exactly one frame, the oldest, so frames come
 * out in arrival order; every processor has its own queue, so two processors on one track
 * each see every frame and reading one does not touch the other. */
#include <stdint.h>
#include <string.h>

#include "common.h"

enum { W = 16, H = 16, N = 6 };

static MstFrame *video_frame(int64_t timestamp) {
    uint8_t pixels[W * H * 3 / 2];
    memset(pixels, 0x80, sizeof pixels);
    MstVideoFrameInit init = {
        .format = MST_VIDEO_PIXEL_FORMAT_I420, .coded_width = W, .coded_height = H, .timestamp = timestamp};
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, pixels, sizeof pixels, &f));
    return f;
}

static MstFrame *audio_data(int64_t timestamp) {
    int16_t samples[480 * 2] = {0};
    MstAudioDataInit init = {.format = MST_AUDIO_SAMPLE_FORMAT_S16,
                             .sample_rate = 48000.0f,
                             .number_of_frames = 480,
                             .number_of_channels = 2,
                             .timestamp = timestamp};
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_audio(&init, (const uint8_t *)samples, sizeof samples, &f));
    return f;
}

static MstProcessorStats stats(const MstProcessor *p) {
    MstProcessorStats st;
    CHECK_OK(mst_processor_get_stats(p, &st));
    return st;
}

/* Reads one video frame without waiting and checks it is the expected one. */
static void expect_video(MstProcessor *p, int64_t timestamp, uint64_t sequence) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    MstVideoFrameInfo info;
    CHECK_OK(mst_frame_video_info(f, &info));
    if (info.timestamp != timestamp || info.sequence != sequence) {
        fprintf(stderr, "%s: read frame timestamp %lld sequence %llu, expected %lld and %llu\n",
                __FILE__, (long long)info.timestamp, (unsigned long long)info.sequence,
                (long long)timestamp, (unsigned long long)sequence);
        exit(1);
    }
    CHECK_OK(mst_frame_close(f));
}

static void expect_audio(MstProcessor *p, int64_t timestamp, uint64_t sequence) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    MstAudioDataInfo info;
    CHECK_OK(mst_frame_audio_info(f, &info));
    CHECK_EQ_INT(info.timestamp, timestamp);
    CHECK_EQ_INT(info.sequence, sequence);
    CHECK_OK(mst_frame_close(f));
}

static void expect_empty(MstProcessor *p) {
    MstFrame *f = NULL;
    CHECK_STATUS(mst_processor_read(p, 0, &f), MST_ERR_AGAIN);
    CHECK(f == NULL);
}

int main(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    MstProcessor *a = NULL, *b = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_track(g, &t));
    CHECK_OK(mst_processor_create(t, 8, &a));
    CHECK_OK(mst_processor_create(t, 8, &b));

    for (int i = 1; i <= N; i++) CHECK_OK(mst_generator_write(g, video_frame(i * 1000)));
    CHECK_EQ_INT(stats(a).queued, N);
    CHECK_EQ_INT(stats(b).queued, N);

    /* Each read on `a` dequeues exactly one frame, the oldest; `b` keeps all of its own. */
    for (int i = 1; i <= N; i++) {
        expect_video(a, i * 1000, (uint64_t)i);
        MstProcessorStats st = stats(a);
        CHECK_EQ_INT(st.delivered, i);
        CHECK_EQ_INT(st.queued, N - i);
        CHECK_EQ_INT(st.discarded, 0);
        CHECK_EQ_INT(stats(b).queued, N);
    }
    expect_empty(a);

    MstProcessorStats sb = stats(b);
    CHECK_EQ_INT(sb.total, N);
    CHECK_EQ_INT(sb.delivered, 0);
    CHECK_EQ_INT(sb.queued, N);
    for (int i = 1; i <= N; i++) expect_video(b, i * 1000, (uint64_t)i);
    expect_empty(b);

    /* Interleaved writes and reads keep the order, and sequences keep counting. */
    CHECK_OK(mst_generator_write(g, video_frame(7000)));
    CHECK_OK(mst_generator_write(g, video_frame(8000)));
    expect_video(b, 7000, 7);
    CHECK_OK(mst_generator_write(g, video_frame(9000)));
    expect_video(b, 8000, 8);
    expect_video(b, 9000, 9);
    expect_empty(b);
    expect_video(a, 7000, 7);
    expect_video(a, 8000, 8);
    expect_video(a, 9000, 9);
    expect_empty(a);

    /* A processor created later sees only frames that arrive after it, numbered from 1. */
    MstProcessor *c = NULL;
    CHECK_OK(mst_processor_create(t, 8, &c));
    expect_empty(c);
    CHECK_OK(mst_generator_write(g, video_frame(10000)));
    expect_video(c, 10000, 1);
    expect_video(a, 10000, 10);
    expect_video(b, 10000, 10);

    CHECK_OK(mst_processor_free(c));
    CHECK_OK(mst_processor_free(b));
    CHECK_OK(mst_processor_free(a));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));

    /* The same for AudioData. */
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_track(g, &t));
    CHECK_OK(mst_processor_create(t, 16, &a));
    CHECK_OK(mst_processor_create(t, 16, &b));
    for (int i = 1; i <= N; i++) CHECK_OK(mst_generator_write(g, audio_data(i * 10000)));
    for (int i = 1; i <= N; i++) {
        expect_audio(b, i * 10000, (uint64_t)i);
        CHECK_EQ_INT(stats(a).queued, N);
    }
    expect_empty(b);
    for (int i = 1; i <= N; i++) expect_audio(a, i * 10000, (uint64_t)i);
    expect_empty(a);
    CHECK_OK(mst_processor_free(b));
    CHECK_OK(mst_processor_free(a));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    return 0;
}
