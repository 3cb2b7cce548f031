/* The libmst demo: a video effect on a worker thread, recorded to files, with a tone beside it.
 *
 *   test pattern 1280x720 I420 30 fps --> processor --> worker thread: find the white square,
 *       dim, blur and desaturate everything else, draw a crosshair on the square --> generator
 *   generator's track ------------------------------------> demo.y4m      (1280x720)
 *   clone of it, constrained to 640x360 (crop-and-scale) ---> demo-360p.y4m
 *   tone 440 Hz, 48 kHz, s16 stereo ------------------------> demo.wav
 *
 * This is the spec's example 3.1 (video processing in a worker) with the effect's output made
 * visible in files instead of a <video> element. The sources end by themselves after
 * --seconds (3 by default); the end of the pattern flows through the pipeline: the worker's
 * read returns MST_ERR_ENDED, it closes the generator, whose tracks end the file sinks'
 * processors. Then the demo finishes the sinks, prints what it wrote and checks the files.
 *
 *   demo [--seconds N] [--unpaced]
 *     --seconds N   record N seconds of media (default 3; fractions allowed)
 *     --unpaced     produce the video as fast as possible instead of in real time; the
 *                   processor then discards the frames the worker cannot keep up with
 *                   (its counters show how many). The tone stays real time.
 *
 * Exit status: 0 when the files check out, 1 on a libmst error or a failed check, 2 on bad
 * arguments.
 *
 * Build (-lm: it calls libm itself), with libmst installed where pkg-config finds it:
 *   cc -std=c11 demo.c -o demo $(pkg-config --cflags --libs mst) -pthread -lm
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mst.h"

#define WIDTH 1280
#define HEIGHT 720
#define FRAME_RATE 30.0
#define SMALL_WIDTH 640
#define SMALL_HEIGHT 360
#define SAMPLE_RATE 48000
#define CHANNELS 2
#define TONE_HZ 440.0
#define TONE_AMPLITUDE 0.5
#define CHUNKS_PER_SECOND 100 /* the tone's default chunk: 10 ms */

#define VIDEO_FILE "demo.y4m"
#define SMALL_VIDEO_FILE "demo-360p.y4m"
#define AUDIO_FILE "demo.wav"

/* The effect: pixels at least this bright are the pattern's white square (the white bar is
 * darker), the background is blurred over (2 BLUR_RADIUS + 1) pixels, and a green crosshair
 * of CROSSHAIR_WIDTH pixels marks the square's centre. */
#define SQUARE_LUMA 230
#define BLUR_RADIUS 6
#define CROSSHAIR_WIDTH 4
#define GREEN_Y 173 /* BT.709 limited-range green */
#define GREEN_U 42
#define GREEN_V 26
#define GREY_CHROMA 128

/* Stops the program on a libmst error, with the call, the status and the library's detail. */
#define MST_TRY(call)                                                                          \
    do {                                                                                       \
        MstStatus try_status_ = (call);                                                        \
        if (try_status_ != MST_OK) {                                                           \
            fprintf(stderr, "demo: %s failed: %s (%s)\n", #call, mst_status_str(try_status_),   \
                    mst_last_error_message());                                                 \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the effect ------------------------------------------------------------------------------ */

struct box {
    bool found;
    uint32_t x0, y0, x1, y1; /* inclusive */
};

/* The "face detector": the bounding box of the bright pixels. */
static struct box find_square(const uint8_t *y_plane, size_t stride, uint32_t w, uint32_t h) {
    struct box b = {false, w, h, 0, 0};
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *row = y_plane + y * stride;
        for (uint32_t x = 0; x < w; x++) {
            if (row[x] >= SQUARE_LUMA) {
                b.found = true;
                if (x < b.x0) b.x0 = x;
                if (x > b.x1) b.x1 = x;
                if (y < b.y0) b.y0 = y;
                if (y > b.y1) b.y1 = y;
            }
        }
    }
    return b;
}

static bool in_box(const struct box *b, uint32_t x, uint32_t y) {
    return b->found && x >= b->x0 && x <= b->x1 && y >= b->y0 && y <= b->y1;
}

/* Box blur of `n` samples `step` apart, from src to dst, with clamped edges. */
static void blur_line(const uint8_t *src, uint8_t *dst, size_t n, size_t step) {
    const long r = BLUR_RADIUS;
    long sum = 0;
    for (long i = -r; i <= r; i++) {
        long j = i < 0 ? 0 : (i >= (long)n ? (long)n - 1 : i);
        sum += src[(size_t)j * step];
    }
    for (long i = 0; i < (long)n; i++) {
        dst[(size_t)i * step] = (uint8_t)(sum / (2 * r + 1));
        long out = i - r < 0 ? 0 : i - r;
        long in = i + r + 1 >= (long)n ? (long)n - 1 : i + r + 1;
        sum += src[(size_t)in * step] - src[(size_t)out * step];
    }
}

/* The "background blur": the packed I420 image in `img` becomes a dim, blurred, grey copy of
 * itself except for the square, with a crosshair through the square's centre. `tmp` holds
 * two luma planes. */
static void apply_effect(uint8_t *img, const struct MstPlaneLayouts *planes, uint32_t w,
                         uint32_t h, uint8_t *tmp) {
    uint8_t *yp = img + planes->planes[0].offset;
    uint8_t *up = img + planes->planes[1].offset;
    uint8_t *vp = img + planes->planes[2].offset;
    size_t ys = planes->planes[0].stride, us = planes->planes[1].stride,
           vs = planes->planes[2].stride;
    uint8_t *across = tmp, *blurred = tmp + (size_t)w * h;
    struct box sq = find_square(yp, ys, w, h);

    for (uint32_t y = 0; y < h; y++) blur_line(yp + y * ys, across + (size_t)y * w, w, 1);
    for (uint32_t x = 0; x < w; x++) blur_line(across + x, blurred + x, h, w);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint8_t b = blurred[(size_t)y * w + x];
            if (!in_box(&sq, x, y)) yp[y * ys + x] = (uint8_t)(16 + (b - 16) / 2);
        }
    }
    for (uint32_t cy = 0; cy < (h + 1) / 2; cy++) {
        for (uint32_t cx = 0; cx < (w + 1) / 2; cx++) {
            if (!in_box(&sq, cx * 2, cy * 2)) {
                up[cy * us + cx] = GREY_CHROMA;
                vp[cy * vs + cx] = GREY_CHROMA;
            }
        }
    }
    if (!sq.found) return;
    /* The lines cover [centre - CROSSHAIR_WIDTH / 2, centre + CROSSHAIR_WIDTH / 2). */
    long left = (long)(((sq.x0 + sq.x1) / 2) & ~1u) - CROSSHAIR_WIDTH / 2;
    long top = (long)(((sq.y0 + sq.y1) / 2) & ~1u) - CROSSHAIR_WIDTH / 2;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            bool on_line = ((long)x >= left && (long)x < left + CROSSHAIR_WIDTH) ||
                           ((long)y >= top && (long)y < top + CROSSHAIR_WIDTH);
            if (!on_line || in_box(&sq, x, y)) continue;
            yp[y * ys + x] = GREEN_Y;
            if (x % 2 == 0 && y % 2 == 0) {
                up[(y / 2) * us + x / 2] = GREEN_U;
                vp[(y / 2) * vs + x / 2] = GREEN_V;
            }
        }
    }
}

/* ---- the worker ------------------------------------------------------------------------------ */

struct worker {
    MstProcessor *processor; /* borrowed */
    MstGenerator *generator; /* borrowed */
    uint64_t frames_in;
    uint64_t frames_out;
};

/* The spec's worker.js: read, transform, close the input, write; close the writable at the
 * end of the readable. */
static void *worker_main(void *arg) {
    struct worker *wk = arg;
    uint8_t *img = NULL, *tmp = NULL;
    size_t img_len = 0;
    for (;;) {
        MstFrame *in = NULL;
        MstStatus st = mst_processor_read(wk->processor, -1, &in);
        if (st == MST_ERR_ENDED) break;
        MST_TRY(st);
        wk->frames_in++;

        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        MST_TRY(mst_frame_get_video_info(in, &info));
        if (info.format != MST_VIDEO_PIXEL_FORMAT_I420) {
            fprintf(stderr, "demo: the worker expects I420 frames\n");
            exit(1);
        }
        size_t need = 0;
        MST_TRY(mst_frame_video_allocation_size(in, NULL, &need));
        if (need > img_len) {
            free(img);
            free(tmp);
            img = malloc(need);
            tmp = malloc(2 * (size_t)info.visible_rect.width * info.visible_rect.height);
            if (!img || !tmp) {
                fprintf(stderr, "demo: out of memory\n");
                exit(1);
            }
            img_len = need;
        }
        struct MstPlaneLayouts planes = MST_STRUCT_INIT(MstPlaneLayouts);
        MST_TRY(mst_frame_video_copy_to(in, img, img_len, NULL, &planes));
        uint32_t w = info.visible_rect.width, h = info.visible_rect.height;
        apply_effect(img, &planes, w, h, tmp);

        MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
        init.format = MST_VIDEO_PIXEL_FORMAT_I420;
        init.coded_width = w;
        init.coded_height = h;
        init.timestamp = info.timestamp;
        init.duration = info.duration;
        init.num_planes = planes.count;
        for (uint32_t p = 0; p < planes.count; p++) init.layout[p] = planes.planes[p];
        MstFrame *out = NULL;
        MST_TRY(mst_frame_create_video(&init, img, need, &out));
        MST_TRY(mst_frame_free(in));

        st = mst_generator_write(wk->generator, out); /* closes `out` on success */
        mst_frame_free(out);                          /* the handle is ours either way */
        MST_TRY(st);
        wk->frames_out++;
    }
    free(img);
    free(tmp);
    MST_TRY(mst_generator_close(wk->generator));
    return NULL;
}

/* ---- waiting for the tone's end -------------------------------------------------------------- */

struct ended_flag {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ended;
};

/* The tone track's ended callback, on the tone's thread. */
static void on_tone_ended(void *user_data, MstEndReason reason) {
    struct ended_flag *f = user_data;
    (void)reason;
    pthread_mutex_lock(&f->lock);
    f->ended = true;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

/* Waits until the flag is set or `seconds` pass; true when it was set. */
static bool wait_ended(struct ended_flag *f, double seconds) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double end = (double)until.tv_sec + (double)until.tv_nsec / 1e9 + seconds;
    until.tv_sec = (time_t)end;
    until.tv_nsec = (long)((end - (double)until.tv_sec) * 1e9);
    pthread_mutex_lock(&f->lock);
    int rc = 0;
    while (!f->ended && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&f->cond, &f->lock, &until);
    bool ended = f->ended;
    pthread_mutex_unlock(&f->lock);
    return ended;
}

/* ---- checking the files ---------------------------------------------------------------------- */

static int failures;

static void fail(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "demo: CHECK FAILED: ");
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    failures++;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

struct y4m_info {
    bool ok;
    unsigned width, height, frames;
    char fps[32];
    double grey_share; /* share of chroma samples that are grey, over all frames */
};

/* Parses a Y4M file written by a libmst file sink: header, then "FRAME\n" + I420 per frame,
 * nothing else. Prints why it is not one. */
static struct y4m_info check_y4m(const char *path) {
    struct y4m_info info = {0};
    size_t len = 0;
    unsigned char *data = read_file(path, &len);
    if (!data) {
        fail("%s: cannot read it (%s)", path, strerror(errno));
        return info;
    }
    unsigned char *nl = memchr(data, '\n', len < 256 ? len : 256);
    if (len < 10 || memcmp(data, "YUV4MPEG2 ", 10) != 0 || !nl) {
        fail("%s: no YUV4MPEG2 header line", path);
        free(data);
        return info;
    }
    char header[256];
    memcpy(header, data, (size_t)(nl - data));
    header[nl - data] = '\0';
    bool has_i420 = false, progressive = false;
    for (char *save = NULL, *tok = strtok_r(header + 10, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        if (tok[0] == 'W') info.width = (unsigned)strtoul(tok + 1, NULL, 10);
        if (tok[0] == 'H') info.height = (unsigned)strtoul(tok + 1, NULL, 10);
        if (tok[0] == 'F') snprintf(info.fps, sizeof info.fps, "%s", tok + 1);
        if (tok[0] == 'C') has_i420 = strncmp(tok + 1, "420", 3) == 0;
        if (tok[0] == 'I') progressive = strcmp(tok, "Ip") == 0;
    }
    if (info.width == 0 || info.height == 0 || info.fps[0] == '\0' || !has_i420 || !progressive) {
        fail("%s: header lacks W, H, F, Ip or C420: \"%s\"", path, (char *)data);
        free(data);
        return info;
    }
    size_t luma = (size_t)info.width * info.height;
    size_t chroma = (size_t)((info.width + 1) / 2) * ((info.height + 1) / 2);
    size_t frame_size = luma + 2 * chroma;
    size_t pos = (size_t)(nl - data) + 1, grey = 0;
    while (pos < len) {
        if (len - pos < 6 + frame_size || memcmp(data + pos, "FRAME\n", 6) != 0) {
            fail("%s: a frame is truncated or lacks its FRAME line", path);
            free(data);
            return info;
        }
        const unsigned char *u = data + pos + 6 + luma, *v = u + chroma;
        for (size_t i = 0; i < chroma; i++) grey += u[i] == GREY_CHROMA && v[i] == GREY_CHROMA;
        info.frames++;
        pos += 6 + frame_size;
    }
    info.grey_share = info.frames ? (double)grey / ((double)chroma * info.frames) : 0.0;
    info.ok = true;
    free(data);
    return info;
}

struct wav_info {
    bool ok;
    unsigned channels, rate, bits;
    size_t frames; /* sample frames */
    double peak, rms, frequency; /* of the left channel, full scale = 1 */
    bool channels_equal;
};

static unsigned le16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static unsigned long le32(const unsigned char *p) {
    return (unsigned long)le16(p) | (unsigned long)le16(p + 2) << 16;
}

/* Parses the canonical 44-byte-header PCM WAV a libmst file sink writes. */
static struct wav_info check_wav(const char *path) {
    struct wav_info info = {0};
    size_t len = 0;
    unsigned char *d = read_file(path, &len);
    if (!d) {
        fail("%s: cannot read it (%s)", path, strerror(errno));
        return info;
    }
    if (len < 44 || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WAVEfmt ", 8) != 0 ||
        memcmp(d + 36, "data", 4) != 0) {
        fail("%s: no RIFF/WAVE header with fmt and data chunks", path);
        free(d);
        return info;
    }
    unsigned tag = le16(d + 20);
    info.channels = le16(d + 22);
    info.rate = (unsigned)le32(d + 24);
    info.bits = le16(d + 34);
    unsigned long data_len = le32(d + 40);
    if (tag != 1 || info.bits != 16 || info.channels == 0 || data_len != len - 44 ||
        le32(d + 4) != len - 8) {
        fail("%s: not 16-bit PCM, or its chunk sizes do not match the file size", path);
        free(d);
        return info;
    }
    info.frames = data_len / (2 * info.channels);
    size_t crossings = 0;
    double sum2 = 0.0;
    info.channels_equal = true;
    int16_t prev = 0;
    for (size_t i = 0; i < info.frames; i++) {
        const unsigned char *s = d + 44 + i * 2 * info.channels;
        int16_t left = (int16_t)le16(s);
        for (unsigned c = 1; c < info.channels; c++)
            info.channels_equal &= (int16_t)le16(s + 2 * c) == left;
        double x = left / 32768.0;
        if (fabs(x) > info.peak) info.peak = fabs(x);
        sum2 += x * x;
        if (i > 0 && (prev < 0) != (left < 0)) crossings++;
        prev = left;
    }
    if (info.frames > 0) {
        info.rms = sqrt(sum2 / (double)info.frames);
        info.frequency = (double)crossings / 2.0 / ((double)info.frames / info.rate);
    }
    info.ok = true;
    free(d);
    return info;
}

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* ---- main ------------------------------------------------------------------------------------ */

static void usage(FILE *to) {
    fprintf(to, "usage: demo [--seconds N] [--unpaced]\n"
                "  writes " VIDEO_FILE ", " SMALL_VIDEO_FILE " and " AUDIO_FILE
                " in the current directory\n");
}

int main(int argc, char **argv) {
    double seconds = 3.0;
    bool unpaced = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end = NULL;
            seconds = strtod(argv[++i], &end);
            if (*end != '\0' || !(seconds > 0.0 && seconds <= 3600.0)) {
                fprintf(stderr, "demo: --seconds wants a number in (0, 3600], not %s\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--unpaced") == 0) {
            unpaced = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    uint64_t frame_count = (uint64_t)llround(seconds * FRAME_RATE);
    uint64_t chunk_count = (uint64_t)llround(seconds * CHUNKS_PER_SECOND);
    if (frame_count == 0) frame_count = 1;
    if (chunk_count == 0) chunk_count = 1;
    printf("demo: libmst %s, %.2f s (%llu frames, %s; %llu audio chunks, real time)\n",
           mst_version(), seconds, (unsigned long long)frame_count,
           unpaced ? "unpaced" : "real time", (unsigned long long)chunk_count);
    double started = now_seconds();

    /* Sources. */
    MstTestPatternOptions pattern_opts = MST_STRUCT_INIT(MstTestPatternOptions);
    pattern_opts.width = WIDTH;
    pattern_opts.height = HEIGHT;
    pattern_opts.frame_rate = FRAME_RATE;
    pattern_opts.format = MST_VIDEO_PIXEL_FORMAT_I420;
    pattern_opts.unpaced = unpaced;
    pattern_opts.frame_count = frame_count;
    MstToneOptions tone_opts = MST_STRUCT_INIT(MstToneOptions);
    tone_opts.sample_rate = SAMPLE_RATE;
    tone_opts.channels = CHANNELS;
    tone_opts.frequency = TONE_HZ;
    tone_opts.amplitude = TONE_AMPLITUDE;
    tone_opts.format = MST_AUDIO_SAMPLE_FORMAT_S16;
    tone_opts.chunk_count = chunk_count;

    /* Each source starts producing when it is created, so its consumer comes right after it. */
    MstTrack *pattern = NULL, *tone = NULL;
    MST_TRY(mst_track_create_test_pattern(&pattern_opts, &pattern));
    MstProcessor *processor = NULL;
    MST_TRY(mst_processor_create(pattern, NULL, &processor)); /* default queue: the latest frame */
    MST_TRY(mst_track_create_tone(&tone_opts, &tone));
    MstFileSink *audio_sink = NULL;
    MST_TRY(mst_file_sink_open(tone, AUDIO_FILE, &audio_sink));

    struct ended_flag tone_ended = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    MST_TRY(mst_track_set_ended_callback(tone, on_tone_ended, &tone_ended, NULL));
    MstReadyState tone_state;
    MST_TRY(mst_track_get_ready_state(tone, &tone_state));
    if (tone_state == MST_READY_STATE_ENDED) on_tone_ended(&tone_ended, MST_END_REASON_NONE);

    /* The generator, its track and a 360p clone of it. */
    MstGenerator *generator = NULL;
    MstTrack *processed = NULL, *small = NULL;
    MST_TRY(mst_generator_create(MST_KIND_VIDEO, &generator));
    MST_TRY(mst_generator_get_track(generator, &processed));
    MST_TRY(mst_track_clone(processed, &small));
    MstVideoConstraints c = MST_STRUCT_INIT(MstVideoConstraints);
    c.width.present = MST_CONSTRAIN_EXACT;
    c.width.exact = SMALL_WIDTH;
    c.height.present = MST_CONSTRAIN_EXACT;
    c.height.exact = SMALL_HEIGHT;
    c.resize_mode = MST_RESIZE_MODE_CROP_AND_SCALE;
    MST_TRY(mst_track_apply_constraints(small, &c));

    /* The processed video's sinks, then the worker. */
    MstFileSink *video_sink = NULL, *small_sink = NULL;
    MST_TRY(mst_file_sink_open(processed, VIDEO_FILE, &video_sink));
    MST_TRY(mst_file_sink_open(small, SMALL_VIDEO_FILE, &small_sink));

    struct worker wk = {processor, generator, 0, 0};
    pthread_t worker_thread;
    int rc = pthread_create(&worker_thread, NULL, worker_main, &wk);
    if (rc != 0) {
        fprintf(stderr, "demo: pthread_create: %s\n", strerror(rc));
        return 1;
    }

    /* The pattern's end reaches the worker, which closes the generator; the tone ends on its
     * own. Allow a generous margin for slow machines (valgrind). */
    pthread_join(worker_thread, NULL);
    if (!wait_ended(&tone_ended, seconds + 30.0)) {
        fprintf(stderr, "demo: the tone did not end within %.0f s of the video\n", seconds + 30.0);
        return 1;
    }
    MST_TRY(mst_track_stop(pattern)); /* both have ended by now; stop is idempotent */
    MST_TRY(mst_track_stop(tone));

    MST_TRY(mst_file_sink_stop(video_sink)); /* each writes out what is queued */
    MST_TRY(mst_file_sink_stop(small_sink));
    MST_TRY(mst_file_sink_stop(audio_sink));
    MstFileStats video_stats = MST_STRUCT_INIT(MstFileStats);
    MstFileStats small_stats = MST_STRUCT_INIT(MstFileStats);
    MstFileStats audio_stats = MST_STRUCT_INIT(MstFileStats);
    MST_TRY(mst_file_sink_get_stats(video_sink, &video_stats));
    MST_TRY(mst_file_sink_get_stats(small_sink, &small_stats));
    MST_TRY(mst_file_sink_get_stats(audio_sink, &audio_stats));
    MST_TRY(mst_file_sink_free(video_sink));
    MST_TRY(mst_file_sink_free(small_sink));
    MST_TRY(mst_file_sink_free(audio_sink));
    MstProcessorStats ps = MST_STRUCT_INIT(MstProcessorStats);
    MST_TRY(mst_processor_get_stats(processor, &ps));
    MstEndReason processed_reason;
    MST_TRY(mst_track_get_end_reason(processed, &processed_reason));
    double elapsed = now_seconds() - started;

    MST_TRY(mst_processor_free(processor));
    MST_TRY(mst_track_free(small));
    MST_TRY(mst_track_free(processed));
    MST_TRY(mst_generator_free(generator));
    MST_TRY(mst_track_free(pattern));
    MST_TRY(mst_track_free(tone));
    pthread_mutex_destroy(&tone_ended.lock);
    pthread_cond_destroy(&tone_ended.cond);

    /* Report. */
    struct y4m_info big = check_y4m(VIDEO_FILE), little = check_y4m(SMALL_VIDEO_FILE);
    struct wav_info wav = check_wav(AUDIO_FILE);
    printf("demo: ran %.2f s\n", elapsed);
    printf("  processor on the pattern: total %llu, delivered %llu, discarded %llu, queued %llu "
           "(max buffer %u)\n",
           (unsigned long long)ps.total, (unsigned long long)ps.delivered,
           (unsigned long long)ps.discarded, (unsigned long long)ps.queued, ps.max_buffer_size);
    printf("  worker: %llu frames in, %llu frames out\n", (unsigned long long)wk.frames_in,
           (unsigned long long)wk.frames_out);
    printf("  %-14s %4llu frames, %3llu dropped, %10llu bytes, %ux%u, F%s\n", VIDEO_FILE,
           (unsigned long long)video_stats.frames_written,
           (unsigned long long)video_stats.frames_dropped,
           (unsigned long long)video_stats.bytes_written, big.width, big.height, big.fps);
    printf("  %-14s %4llu frames, %3llu dropped, %10llu bytes, %ux%u, F%s\n", SMALL_VIDEO_FILE,
           (unsigned long long)small_stats.frames_written,
           (unsigned long long)small_stats.frames_dropped,
           (unsigned long long)small_stats.bytes_written, little.width, little.height,
           little.fps);
    printf("  %-14s %4llu chunks, %3llu dropped, %10llu bytes, %u Hz x %u, %u-bit, %.2f s, "
           "peak %.3f, rms %.3f, ~%.1f Hz\n",
           AUDIO_FILE, (unsigned long long)audio_stats.frames_written,
           (unsigned long long)audio_stats.frames_dropped,
           (unsigned long long)audio_stats.bytes_written, wav.rate, wav.channels, wav.bits,
           wav.rate ? (double)wav.frames / wav.rate : 0.0, wav.peak, wav.rms, wav.frequency);

    /* Check. */
    if (processed_reason != MST_END_REASON_WRITABLE_CLOSED)
        fail("the generator's track ended with reason %d, not WRITABLE_CLOSED",
             (int)processed_reason);
    if (ps.total != ps.delivered + ps.discarded + ps.queued || ps.delivered != wk.frames_in ||
        wk.frames_out != wk.frames_in || !ps.ended)
        fail("processor: total %llu != delivered %llu + discarded %llu + queued %llu, or the "
             "worker's %llu in / %llu out differ from delivered",
             (unsigned long long)ps.total, (unsigned long long)ps.delivered,
             (unsigned long long)ps.discarded, (unsigned long long)ps.queued,
             (unsigned long long)wk.frames_in, (unsigned long long)wk.frames_out);
    if (big.ok) {
        if (big.width != WIDTH || big.height != HEIGHT)
            fail("%s: %ux%u, not %dx%d", VIDEO_FILE, big.width, big.height, WIDTH, HEIGHT);
        if (big.frames < 1) fail("%s: has no frame", VIDEO_FILE);
        if (big.frames != video_stats.frames_written ||
            file_size(VIDEO_FILE) != video_stats.bytes_written)
            fail("%s: %u frames, %llu bytes, but the sink wrote %llu frames, %llu bytes",
                 VIDEO_FILE, big.frames, (unsigned long long)file_size(VIDEO_FILE),
                 (unsigned long long)video_stats.frames_written,
                 (unsigned long long)video_stats.bytes_written);
        if (big.frames && big.grey_share < 0.8)
            fail("%s: only %.0f%% of the chroma is grey: the effect is missing", VIDEO_FILE,
                 100.0 * big.grey_share);
        unsigned long num = 0, den = 0;
        if (sscanf(big.fps, "%lu:%lu", &num, &den) != 2 || den == 0 ||
            fabs((double)num / (double)den - FRAME_RATE) > 0.01 * FRAME_RATE)
            fail("%s: frame rate F%s is not %.0f fps", VIDEO_FILE, big.fps, FRAME_RATE);
    }
    if (little.ok) {
        if (little.width != SMALL_WIDTH || little.height != SMALL_HEIGHT)
            fail("%s: %ux%u, not %dx%d", SMALL_VIDEO_FILE, little.width, little.height,
                 SMALL_WIDTH, SMALL_HEIGHT);
        if (little.frames < 1) fail("%s: has no frame", SMALL_VIDEO_FILE);
        if (little.frames != small_stats.frames_written ||
            file_size(SMALL_VIDEO_FILE) != small_stats.bytes_written)
            fail("%s: %u frames, %llu bytes, but the sink wrote %llu frames, %llu bytes",
                 SMALL_VIDEO_FILE, little.frames, (unsigned long long)file_size(SMALL_VIDEO_FILE),
                 (unsigned long long)small_stats.frames_written,
                 (unsigned long long)small_stats.bytes_written);
        if (little.frames && little.grey_share < 0.8)
            fail("%s: only %.0f%% of the chroma is grey: the effect is missing",
                 SMALL_VIDEO_FILE, 100.0 * little.grey_share);
    }
    if (wav.ok) {
        if (wav.channels != CHANNELS || wav.rate != SAMPLE_RATE)
            fail("%s: %u Hz x %u channels, not %d Hz x %d", AUDIO_FILE, wav.rate, wav.channels,
                 SAMPLE_RATE, CHANNELS);
        if (wav.frames != audio_stats.frames_written * (SAMPLE_RATE / CHUNKS_PER_SECOND) ||
            file_size(AUDIO_FILE) != audio_stats.bytes_written)
            fail("%s: %zu sample frames, %llu bytes, but the sink wrote %llu chunks, %llu bytes",
                 AUDIO_FILE, wav.frames, (unsigned long long)file_size(AUDIO_FILE),
                 (unsigned long long)audio_stats.frames_written,
                 (unsigned long long)audio_stats.bytes_written);
        if (wav.frames == 0 || wav.peak < 0.9 * TONE_AMPLITUDE ||
            wav.peak > 1.01 * TONE_AMPLITUDE ||
            fabs(wav.rms - TONE_AMPLITUDE / sqrt(2.0)) > 0.05 * TONE_AMPLITUDE)
            fail("%s: peak %.3f, rms %.3f: silent, or not a sine of amplitude %.1f", AUDIO_FILE,
                 wav.peak, wav.rms, TONE_AMPLITUDE);
        if (wav.frames >= SAMPLE_RATE / 10 && fabs(wav.frequency - TONE_HZ) > 0.05 * TONE_HZ)
            fail("%s: its pitch is %.1f Hz, not %.0f Hz", AUDIO_FILE, wav.frequency, TONE_HZ);
        if (!wav.channels_equal) fail("%s: its two channels differ", AUDIO_FILE);
    }
    if (failures) {
        fprintf(stderr, "demo: %d check(s) failed\n", failures);
        return 1;
    }
    printf("demo: OK, wrote " VIDEO_FILE ", " SMALL_VIDEO_FILE " and " AUDIO_FILE "\n");
    return 0;
}
