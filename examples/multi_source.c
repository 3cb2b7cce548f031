/* The spec's example 3.2, "Multi-source processing", in C:
 *
 *   tone ------------> audio processor --\                     /--> audio generator
 *                                         > worker thread (model)
 *   test pattern ----> video processor --/      poll() on both processors' fds
 *
 * The worker plays worker.js: an audio-visual "model" whose state follows the video (it keeps
 * the frames' mean luma) and which rewrites each AudioData (here: the same samples at half
 * amplitude, as f32) into the audio generator. JavaScript awaits both readers at once; the
 * native equivalent is one poll() over the processors' file descriptors, reading whichever
 * is ready with a zero timeout. The audio pipe closes the generator's writable when the audio
 * ends (pipeTo); the worker finishes when both inputs have ended (Promise.all), then closes the
 * model.
 *
 * The main thread checks the result: it reads the generator's track and, as a reference, a
 * second processor on the original tone, both with one poll() loop, and compares: every output
 * sample must be exactly 0.5 x the input sample of the same timestamp, and within float
 * rounding of the tone's known sine, and the counters of all four processors must add up.
 *
 * Both sources run in real time (50 chunks of 10 ms, 20 frames at 30 fps: 0.7 s). Unpaced,
 * they would be done within a millisecond, before the worker's first poll(), and a track's end
 * empties its processors' queues (the spec's processorClose), so the worker would see a random
 * share of the media, often none.
 *
 * Build (-lm: it calls libm itself), with libmst installed where pkg-config finds it:
 *   cc -std=c11 multi_source.c -o multi_source $(pkg-config --cflags --libs mst) -pthread -lm
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"

#define SAMPLE_RATE 48000
#define CHANNELS 2
#define TONE_HZ 440.0
#define TONE_AMPLITUDE 0.5
#define CHUNK_FRAMES 480 /* the tone's default: 10 ms */
#define CHUNK_COUNT 50
#define VIDEO_FRAMES 20
#define GAIN 0.5f
#define PI 3.14159265358979323846
#define AUDIO_BUFFER 100 /* room for every chunk: only the end of a track discards */
#define VIDEO_BUFFER 32
#define POLL_TIMEOUT_MS 20000 /* a stuck pipeline fails instead of hanging */

#define MST_TRY(call)                                                                          \
    do {                                                                                       \
        MstStatus try_status_ = (call);                                                        \
        if (try_status_ != MST_OK) {                                                           \
            fprintf(stderr, "multi_source: %s failed: %s (%s)\n", #call,                        \
                    mst_status_str(try_status_), mst_last_error_message());                    \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "multi_source: CHECK FAILED (%s): ", #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* An AudioData's samples as interleaved f32 (converted if need be), in a new buffer. */
static float *audio_samples(const MstFrame *audio, MstAudioDataInfo *info) {
    MST_TRY(mst_frame_get_audio_info(audio, info));
    MstAudioCopyOptions opts = MST_STRUCT_INIT(MstAudioCopyOptions);
    opts.format = MST_AUDIO_SAMPLE_FORMAT_F32;
    size_t len = 0;
    MST_TRY(mst_frame_audio_allocation_size(audio, &opts, &len));
    CHECK(len == (size_t)info->number_of_frames * info->number_of_channels * sizeof(float),
          "an f32 copy of %u frames x %u channels takes %zu bytes", info->number_of_frames,
          info->number_of_channels, len);
    float *samples = malloc(len);
    CHECK(samples != NULL, "out of memory");
    MST_TRY(mst_frame_audio_copy_to(audio, (uint8_t *)samples, len, &opts));
    return samples;
}

/* ---- the model ------------------------------------------------------------------------------- */

struct model {
    uint64_t video_frames;
    double mean_luma; /* of the latest frame */
    double luma_sum;  /* over all frames */
    uint64_t audio_chunks;
};

/* updateVideo(videoFrame): reads the luma plane in place (no copy). */
static void model_update_video(struct model *m, const MstFrame *frame) {
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    MST_TRY(mst_frame_get_video_info(frame, &info));
    CHECK(info.format == MST_VIDEO_PIXEL_FORMAT_I420, "the model takes I420, got %d",
          (int)info.format);
    const uint8_t *luma = NULL;
    size_t stride = 0, len = 0;
    MST_TRY(mst_frame_get_video_plane(frame, 0, &luma, &stride, &len));
    const MstRect r = info.visible_rect;
    uint64_t sum = 0;
    for (uint32_t y = r.y; y < r.y + r.height; y++) {
        for (uint32_t x = r.x; x < r.x + r.width; x++) sum += luma[y * stride + x];
    }
    m->mean_luma = (double)sum / ((double)r.width * r.height);
    m->luma_sum += m->mean_luma;
    m->video_frames++;
}

/* getSpeechData(audioData): a new AudioData, f32, at GAIN times the input. */
static MstFrame *model_get_speech_data(struct model *m, const MstFrame *audio) {
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    float *samples = audio_samples(audio, &info);
    size_t n = (size_t)info.number_of_frames * info.number_of_channels;
    for (size_t i = 0; i < n; i++) samples[i] *= GAIN;
    MstAudioDataInit init = MST_STRUCT_INIT(MstAudioDataInit);
    init.format = MST_AUDIO_SAMPLE_FORMAT_F32;
    init.sample_rate = info.sample_rate;
    init.number_of_frames = info.number_of_frames;
    init.number_of_channels = info.number_of_channels;
    init.timestamp = info.timestamp;
    MstFrame *speech = NULL;
    MST_TRY(mst_frame_create_audio(&init, (const uint8_t *)samples, n * sizeof(float), &speech));
    free(samples);
    m->audio_chunks++;
    return speech;
}

/* ---- worker.js ------------------------------------------------------------------------------- */

struct worker {
    MstProcessor *audio; /* borrowed */
    MstProcessor *video; /* borrowed */
    MstGenerator *audio_generator; /* borrowed */
    struct model model;
    uint64_t audio_read, audio_written, video_read;
    bool audio_ended, video_ended;
};

static void *worker_main(void *arg) {
    struct worker *wk = arg;
    memset(&wk->model, 0, sizeof wk->model); /* new AudioVideoModel() */
    struct pollfd fds[2] = {{-1, POLLIN, 0}, {-1, POLLIN, 0}};
    MST_TRY(mst_processor_get_fd(wk->audio, &fds[0].fd));
    MST_TRY(mst_processor_get_fd(wk->video, &fds[1].fd));

    while (!wk->audio_ended || !wk->video_ended) {
        int n = poll(fds, 2, POLL_TIMEOUT_MS);
        if (n < 0 && errno == EINTR) continue;
        CHECK(n >= 0, "poll: %s", strerror(errno));
        CHECK(n > 0, "no audio or video came for %d ms", POLL_TIMEOUT_MS);

        /* The audio pipe: transform each chunk and write it; at the end, close the writable. */
        while (fds[0].revents & POLLIN) {
            MstFrame *audio = NULL;
            MstStatus st = mst_processor_read(wk->audio, 0, &audio);
            if (st == MST_ERR_AGAIN) break;
            if (st == MST_ERR_ENDED) {
                wk->audio_ended = true;
                fds[0].fd = -1; /* it stays readable now; poll() skips negative fds */
                MST_TRY(mst_generator_close(wk->audio_generator));
                break;
            }
            MST_TRY(st);
            wk->audio_read++;
            MstFrame *speech = model_get_speech_data(&wk->model, audio);
            MST_TRY(mst_frame_free(audio));
            st = mst_generator_write(wk->audio_generator, speech); /* closes it on success */
            mst_frame_free(speech);                                /* the handle is ours either way */
            MST_TRY(st);
            wk->audio_written++;
        }
        /* The video reader: feed the model. */
        while (fds[1].revents & POLLIN) {
            MstFrame *video = NULL;
            MstStatus st = mst_processor_read(wk->video, 0, &video);
            if (st == MST_ERR_AGAIN) break;
            if (st == MST_ERR_ENDED) {
                wk->video_ended = true;
                fds[1].fd = -1;
                break;
            }
            MST_TRY(st);
            wk->video_read++;
            model_update_video(&wk->model, video);
            MST_TRY(mst_frame_free(video));
        }
    }
    /* model.close(): nothing to release in this model. */
    return NULL;
}

/* ---- the check ------------------------------------------------------------------------------- */

/* Chunks by their index in the tone (timestamp / 10 ms). */
struct chunks {
    float *samples[CHUNK_COUNT];
    uint64_t count;
};

static void keep_chunk(struct chunks *c, const MstFrame *audio, const char *what) {
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    float *samples = audio_samples(audio, &info);
    CHECK(info.format == MST_AUDIO_SAMPLE_FORMAT_F32 && info.sample_rate == SAMPLE_RATE &&
              info.number_of_channels == CHANNELS && info.number_of_frames == CHUNK_FRAMES,
          "%s chunk: format %d, %.0f Hz, %u channels, %u frames", what, (int)info.format,
          (double)info.sample_rate, info.number_of_channels, info.number_of_frames);
    long long first = llround((double)info.timestamp * SAMPLE_RATE / 1e6);
    CHECK(first % CHUNK_FRAMES == 0 && first / CHUNK_FRAMES < CHUNK_COUNT,
          "%s chunk at %lld us is not one of the tone's %d chunks", what,
          (long long)info.timestamp, CHUNK_COUNT);
    size_t k = (size_t)(first / CHUNK_FRAMES);
    CHECK(c->samples[k] == NULL, "%s chunk %zu came twice", what, k);
    c->samples[k] = samples;
    c->count++;
}

/* Reads two processors until both end, keeping their chunks. */
static void collect(MstProcessor *a, struct chunks *ca, MstProcessor *b, struct chunks *cb) {
    MstProcessor *procs[2] = {a, b};
    struct chunks *into[2] = {ca, cb};
    const char *names[2] = {"reference", "output"};
    struct pollfd fds[2] = {{-1, POLLIN, 0}, {-1, POLLIN, 0}};
    MST_TRY(mst_processor_get_fd(a, &fds[0].fd));
    MST_TRY(mst_processor_get_fd(b, &fds[1].fd));
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        int n = poll(fds, 2, POLL_TIMEOUT_MS);
        if (n < 0 && errno == EINTR) continue;
        CHECK(n >= 0, "poll: %s", strerror(errno));
        CHECK(n > 0, "no audio came for %d ms", POLL_TIMEOUT_MS);
        for (int i = 0; i < 2; i++) {
            if (!(fds[i].revents & POLLIN)) continue;
            MstFrame *audio = NULL;
            MstStatus st = mst_processor_read(procs[i], 0, &audio);
            if (st == MST_ERR_AGAIN) continue;
            if (st == MST_ERR_ENDED) {
                fds[i].fd = -1;
                continue;
            }
            MST_TRY(st);
            keep_chunk(into[i], audio, names[i]);
            MST_TRY(mst_frame_free(audio));
        }
    }
}

int main(void) {
    MstToneOptions tone_opts = MST_STRUCT_INIT(MstToneOptions);
    tone_opts.sample_rate = SAMPLE_RATE;
    tone_opts.channels = CHANNELS;
    tone_opts.frequency = TONE_HZ;
    tone_opts.amplitude = TONE_AMPLITUDE;
    tone_opts.format = MST_AUDIO_SAMPLE_FORMAT_F32;
    tone_opts.chunk_frames = CHUNK_FRAMES;
    tone_opts.chunk_count = CHUNK_COUNT;
    MstTestPatternOptions video_opts = MST_STRUCT_INIT(MstTestPatternOptions);
    video_opts.width = 320;
    video_opts.height = 180;
    video_opts.frame_count = VIDEO_FRAMES;

    MstProcessorOptions audio_queue = MST_STRUCT_INIT(MstProcessorOptions);
    audio_queue.max_buffer_size = AUDIO_BUFFER;
    MstProcessorOptions video_queue = MST_STRUCT_INIT(MstProcessorOptions);
    video_queue.max_buffer_size = VIDEO_BUFFER;

    /* The audio generator and its reader come first: the sources start as they are made. */
    MstGenerator *audio_generator = NULL;
    MstTrack *generated = NULL;
    MstProcessor *output = NULL;
    MST_TRY(mst_generator_create(MST_KIND_AUDIO, &audio_generator));
    MST_TRY(mst_generator_get_track(audio_generator, &generated));
    MST_TRY(mst_processor_create(generated, &audio_queue, &output));

    MstTrack *audio_track = NULL, *video_track = NULL;
    MstProcessor *audio = NULL, *reference = NULL, *video = NULL;
    MST_TRY(mst_track_create_tone(&tone_opts, &audio_track));
    MST_TRY(mst_processor_create(audio_track, &audio_queue, &audio));
    MST_TRY(mst_processor_create(audio_track, &audio_queue, &reference));
    MST_TRY(mst_track_create_test_pattern(&video_opts, &video_track));
    MST_TRY(mst_processor_create(video_track, &video_queue, &video));

    struct worker wk = {0};
    wk.audio = audio;
    wk.video = video;
    wk.audio_generator = audio_generator;
    pthread_t worker_thread;
    int rc = pthread_create(&worker_thread, NULL, worker_main, &wk);
    CHECK(rc == 0, "pthread_create: %s", strerror(rc));

    struct chunks ref = {0}, out = {0};
    collect(reference, &ref, output, &out);
    rc = pthread_join(worker_thread, NULL);
    CHECK(rc == 0, "pthread_join: %s", strerror(rc));

    MstProcessorStats as = MST_STRUCT_INIT(MstProcessorStats);
    MstProcessorStats vs = MST_STRUCT_INIT(MstProcessorStats);
    MstProcessorStats rs = MST_STRUCT_INIT(MstProcessorStats);
    MstProcessorStats os = MST_STRUCT_INIT(MstProcessorStats);
    MST_TRY(mst_processor_get_stats(audio, &as));
    MST_TRY(mst_processor_get_stats(video, &vs));
    MST_TRY(mst_processor_get_stats(reference, &rs));
    MST_TRY(mst_processor_get_stats(output, &os));
    MstEndReason audio_reason, video_reason, generated_reason;
    MST_TRY(mst_track_get_end_reason(audio_track, &audio_reason));
    MST_TRY(mst_track_get_end_reason(video_track, &video_reason));
    MST_TRY(mst_track_get_end_reason(generated, &generated_reason));

    MST_TRY(mst_processor_free(video));
    MST_TRY(mst_processor_free(reference));
    MST_TRY(mst_processor_free(audio));
    MST_TRY(mst_processor_free(output));
    MST_TRY(mst_track_free(video_track));
    MST_TRY(mst_track_free(audio_track));
    MST_TRY(mst_track_free(generated));
    MST_TRY(mst_generator_free(audio_generator));

    /* Compare. */
    uint64_t exact = 0, sine_checked = 0;
    for (size_t k = 0; k < CHUNK_COUNT; k++) {
        if (!out.samples[k]) continue;
        for (size_t i = 0; i < (size_t)CHUNK_FRAMES * CHANNELS; i++) {
            double t = (double)(k * CHUNK_FRAMES + i / CHANNELS) / SAMPLE_RATE;
            double want = GAIN * TONE_AMPLITUDE * sin(2.0 * PI * TONE_HZ * t);
            CHECK(fabs(out.samples[k][i] - want) < 1e-6,
                  "chunk %zu sample %zu is %.9f, the tone at half amplitude is %.9f", k, i,
                  (double)out.samples[k][i], want);
            CHECK(!ref.samples[k] || out.samples[k][i] == GAIN * ref.samples[k][i],
                  "chunk %zu sample %zu is %.9g, not %g x the input's %.9g", k, i,
                  (double)out.samples[k][i], (double)GAIN, (double)ref.samples[k][i]);
        }
        sine_checked++;
        exact += ref.samples[k] != NULL;
    }
    for (size_t k = 0; k < CHUNK_COUNT; k++) {
        free(ref.samples[k]);
        free(out.samples[k]);
    }

    printf("multi_source: worker read %llu audio chunks (wrote %llu) and %llu video frames; "
           "mean luma %.1f\n",
           (unsigned long long)wk.audio_read, (unsigned long long)wk.audio_written,
           (unsigned long long)wk.video_read,
           wk.model.video_frames ? wk.model.luma_sum / (double)wk.model.video_frames : 0.0);
    printf("  processors (total/delivered/discarded): audio %llu/%llu/%llu, video %llu/%llu/%llu, "
           "reference %llu/%llu/%llu, output %llu/%llu/%llu\n",
           (unsigned long long)as.total, (unsigned long long)as.delivered,
           (unsigned long long)as.discarded, (unsigned long long)vs.total,
           (unsigned long long)vs.delivered, (unsigned long long)vs.discarded,
           (unsigned long long)rs.total, (unsigned long long)rs.delivered,
           (unsigned long long)rs.discarded, (unsigned long long)os.total,
           (unsigned long long)os.delivered, (unsigned long long)os.discarded);
    printf("  output chunks: %llu match the half-amplitude sine, %llu of them exactly 0.5 x the "
           "reference chunk\n",
           (unsigned long long)sine_checked, (unsigned long long)exact);

    CHECK(wk.audio_ended && wk.video_ended, "an input did not reach its end");
    CHECK(audio_reason == MST_END_REASON_SOURCE_ENDED &&
              video_reason == MST_END_REASON_SOURCE_ENDED &&
              generated_reason == MST_END_REASON_WRITABLE_CLOSED,
          "end reasons: audio %d, video %d, generator %d", (int)audio_reason, (int)video_reason,
          (int)generated_reason);
    const MstProcessorStats *all[4] = {&as, &vs, &rs, &os};
    for (int i = 0; i < 4; i++)
        CHECK(all[i]->ended && all[i]->queued == 0 &&
                  all[i]->total == all[i]->delivered + all[i]->discarded,
              "processor %d: counters do not add up or it has not ended", i);
    CHECK(as.total <= CHUNK_COUNT && rs.total <= CHUNK_COUNT && vs.total <= VIDEO_FRAMES,
          "a processor got more than its source made");
    CHECK(as.delivered == wk.audio_read && wk.audio_written == wk.audio_read &&
              os.total == wk.audio_written,
          "the audio path lost count: read %llu, wrote %llu, output processor got %llu",
          (unsigned long long)wk.audio_read, (unsigned long long)wk.audio_written,
          (unsigned long long)os.total);
    CHECK(vs.delivered == wk.video_read && wk.model.video_frames == wk.video_read,
          "the model saw %llu of %llu video frames", (unsigned long long)wk.model.video_frames,
          (unsigned long long)vs.delivered);
    CHECK(os.delivered == out.count && rs.delivered == ref.count && sine_checked == out.count,
          "the main thread kept %llu output and %llu reference chunks",
          (unsigned long long)out.count, (unsigned long long)ref.count);
    CHECK(out.count >= 1, "no rewritten audio came through");
    printf("multi_source: OK\n");
    return 0;
}
