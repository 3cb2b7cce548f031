/* The soak program (issue 14, part 3): 8 processors on paced 30 fps sources for MINUTES
 * minutes, some constrained (scaled, decimated, latest-only, passed through unscaled), read
 * in the three ways (blocking, fd + poll, callback), while the main thread churns (every
 * second: a clone with its own scaled processor, a few frames read, all freed) and samples
 * this process's resident memory (/proc/self/status VmRSS) and open file descriptors
 * (/proc/self/fd) every SAMPLE seconds.
 *
 * After the warm-up it fits a least-squares line to the samples and fails when the RSS slope
 * is above --max-rss-slope KB/min or the descriptors grew at all (slope above 0, or the last
 * sample above the first). It also samples the bytes malloc has handed out (mallinfo2, every
 * arena) and reports their slope: RSS that steps up while those stay flat is the allocator
 * keeping pages, not a leak. It also checks every processor's counters at the end, as the
 * stress program does.
 *
 *   soak [--minutes 10] [--warmup-seconds 60] [--sample-seconds 5] [--max-rss-slope 64]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mst.h"

static atomic_bool stopping;
static int failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL: ");                                                                 \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        failures++;                                                                                \
    } while (0)

#define MUST(expr)                                                                                 \
    do {                                                                                           \
        MstStatus must_s_ = (expr);                                                                \
        if (must_s_ != MST_OK) {                                                                   \
            fprintf(stderr, "%s returned %s: %s\n", #expr, mst_status_str(must_s_),                \
                    mst_last_error_message());                                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

enum read_mode { MODE_READ, MODE_FD, MODE_CALLBACK };
static const char *const mode_names[] = {"blocking read", "fd + poll", "callback"};

struct reader {
    const char *what;
    MstProcessor *processor;
    enum read_mode mode;
    double read_every; /* seconds a reader waits between reads (a slow consumer); 0 = none */
    atomic_ullong got;
    atomic_bool end_seen;
    pthread_t thread;
};

static void on_frame(void *user_data, MstFrame *frame) {
    struct reader *r = user_data;
    if (!frame) {
        atomic_store(&r->end_seen, true);
        return;
    }
    atomic_fetch_add(&r->got, 1);
    mst_frame_free(frame);
}

static void *read_loop(void *arg) {
    struct reader *r = arg;
    int fd = -1;
    if (r->mode == MODE_FD) MUST(mst_processor_get_fd(r->processor, &fd));
    for (;;) {
        MstFrame *frame = NULL;
        MstStatus s;
        if (r->mode == MODE_FD) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            poll(&pfd, 1, 200);
            s = mst_processor_read(r->processor, 0, &frame);
        } else {
            s = mst_processor_read(r->processor, 200, &frame);
        }
        if (s == MST_OK) {
            atomic_fetch_add(&r->got, 1);
            mst_frame_free(frame);
            if (r->read_every > 0) sleep_s(r->read_every);
        } else if (s == MST_ERR_ENDED) {
            return NULL;
        } else if (s != MST_ERR_AGAIN && s != MST_ERR_TIMEOUT && s != MST_ERR_INTERRUPTED) {
            fprintf(stderr, "%s: mst_processor_read returned %s: %s\n", r->what, mst_status_str(s),
                    mst_last_error_message());
            exit(1);
        }
    }
}

/* Writes 30 frames a second of a 320x240 I420 picture into the generator, paced by the clock. */
static void *write_loop(void *arg) {
    MstGenerator *generator = arg;
    enum { W = 320, H = 240 };
    static uint8_t pixels[W * H * 3 / 2];
    double start = now_s();
    for (int64_t n = 0; !atomic_load(&stopping); n++) {
        double due = start + (double)n / 30.0;
        double wait = due - now_s();
        if (wait > 0) sleep_s(wait);
        memset(pixels, (int)(n & 0xff), sizeof pixels);
        MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
        init.format = MST_VIDEO_PIXEL_FORMAT_I420;
        init.coded_width = W;
        init.coded_height = H;
        init.timestamp = n * 1000000 / 30;
        MstFrame *frame = NULL;
        MUST(mst_frame_create_video(&init, pixels, sizeof pixels, &frame));
        MUST(mst_generator_write(generator, frame));
        MUST(mst_frame_free(frame));
    }
    return NULL;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

/* Bytes malloc has handed out and not had back, over every arena (glibc's mallinfo2): what
 * a leak grows, apart from RSS steps that are only the allocator keeping freed pages. */
static double heap_in_use_kb(void) {
    struct mallinfo2 mi = mallinfo2();
    return (double)(mi.uordblks + mi.hblkhd) / 1024.0;
}

static long open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* Least-squares slope of y over x. */
static double slope(const double *x, const double *y, int n) {
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (int i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= n, my /= n;
    for (int i = 0; i < n; i++) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
    return sxx > 0 ? sxy / sxx : 0;
}

static MstVideoConstraints scaled(uint32_t width, uint32_t height) {
    MstVideoConstraints c = MST_STRUCT_INIT(MstVideoConstraints);
    c.width.present = MST_CONSTRAIN_EXACT;
    c.width.exact = width;
    c.height.present = MST_CONSTRAIN_EXACT;
    c.height.exact = height;
    return c;
}

/* One churn step: a clone of `track` scaled to 160x90 with a processor of its own, a few
 * frames read, everything freed. */
static void churn(MstTrack *track, unsigned long long *frames) {
    MstTrack *clone = NULL;
    MstProcessor *p = NULL;
    MUST(mst_track_clone(track, &clone));
    MstVideoConstraints c = scaled(160, 90);
    MUST(mst_track_apply_constraints(clone, &c));
    MUST(mst_processor_create(clone, NULL, &p));
    for (int i = 0; i < 3; i++) {
        MstFrame *frame = NULL;
        if (mst_processor_read(p, 200, &frame) == MST_OK) {
            uint8_t *copy = NULL;
            MstVideoCopyOptions o = MST_STRUCT_INIT(MstVideoCopyOptions);
            size_t size = 0;
            MUST(mst_frame_video_allocation_size(frame, &o, &size));
            copy = malloc(size);
            if (!copy) abort();
            MUST(mst_frame_video_copy_to(frame, copy, size, &o, NULL));
            free(copy);
            MUST(mst_frame_free(frame));
            (*frames)++;
        }
    }
    MUST(mst_processor_free(p));
    MUST(mst_track_free(clone));
}

static void check_processor(struct reader *r) {
    MstProcessorStats st = {.struct_size = sizeof st};
    MUST(mst_processor_get_stats(r->processor, &st));
    uint64_t in_queue = st.discarded_queue_full + st.discarded_superseded + st.discarded_closed;
    uint64_t got = atomic_load(&r->got);
    printf("  %-44s %-13s total %7" PRIu64 " delivered %7" PRIu64 " queue-full %5" PRIu64
           " superseded %5" PRIu64 " decimated %5" PRIu64 " closed %3" PRIu64 "\n",
           r->what, mode_names[r->mode], st.total, st.delivered, st.discarded_queue_full,
           st.discarded_superseded, st.discarded_decimated, st.discarded_closed);
    if (st.total != st.delivered + in_queue + st.queued)
        FAIL("%s: total %" PRIu64 " != delivered %" PRIu64 " + discarded in the queue %" PRIu64 " + queued %" PRIu64,
             r->what, st.total, st.delivered, in_queue, st.queued);
    if (st.delivered != got) FAIL("%s: delivered %" PRIu64 " but its reader got %" PRIu64, r->what, st.delivered, got);
    if (got == 0) FAIL("%s: no frame arrived", r->what);
}

int main(int argc, char **argv) {
    double minutes = 10, warmup = 60, every = 5, max_rss_slope = 64;
    for (int i = 1; i + 1 < argc || i < argc; i += 2) {
        if (i + 1 >= argc) goto usage;
        double v = atof(argv[i + 1]);
        if (!strcmp(argv[i], "--minutes")) minutes = v;
        else if (!strcmp(argv[i], "--warmup-seconds")) warmup = v;
        else if (!strcmp(argv[i], "--sample-seconds")) every = v;
        else if (!strcmp(argv[i], "--max-rss-slope")) max_rss_slope = v;
        else goto usage;
    }
    if (minutes <= 0 || every <= 0 || warmup < 0) goto usage;
    if (warmup >= minutes * 60) {
        fprintf(stderr, "soak: the warm-up (%.0f s) must be shorter than the run (%.1f min): give a shorter"
                        " --warmup-seconds or more --minutes\n", warmup, minutes);
        return 2;
    }
    printf("soak: libmst %s, %.1f min, warm-up %.0f s, a sample every %.0f s, RSS slope limit %.0f KB/min,"
           " fd slope limit 0\n", mst_version(), minutes, warmup, every, max_rss_slope);

    /* Sources, all paced at 30 fps: two test patterns, a generator written at 30 fps, a tone
     * in 1600-frame chunks (48000 / 1600 = 30 a second). */
    MstTestPatternOptions po = MST_STRUCT_INIT(MstTestPatternOptions);
    po.width = 640, po.height = 360, po.frame_rate = 30;
    MstTrack *pattern = NULL, *pattern2 = NULL;
    MUST(mst_track_create_test_pattern(&po, &pattern));
    po.width = 320, po.height = 240;
    MUST(mst_track_create_test_pattern(&po, &pattern2));
    MstGenerator *generator = NULL;
    MstTrack *gen_track = NULL;
    MUST(mst_generator_create(MST_KIND_VIDEO, &generator));
    MUST(mst_generator_get_track(generator, &gen_track));
    MstToneOptions to = MST_STRUCT_INIT(MstToneOptions);
    to.chunk_frames = 1600;
    MstTrack *tone = NULL;
    MUST(mst_track_create_tone(&to, &tone));

    MstTrack *scaled_clone = NULL, *decimated_clone = NULL, *gen_scaled = NULL, *none_clone = NULL;
    MUST(mst_track_clone(pattern, &scaled_clone));
    MstVideoConstraints c = scaled(320, 180);
    MUST(mst_track_apply_constraints(scaled_clone, &c));
    MUST(mst_track_clone(pattern, &decimated_clone));
    c = (MstVideoConstraints)MST_STRUCT_INIT(MstVideoConstraints);
    c.frame_rate.present = MST_CONSTRAIN_MAX;
    c.frame_rate.max = 10;
    MUST(mst_track_apply_constraints(decimated_clone, &c));
    MUST(mst_track_clone(gen_track, &gen_scaled));
    c = scaled(160, 120);
    MUST(mst_track_apply_constraints(gen_scaled, &c));
    MUST(mst_track_clone(pattern2, &none_clone));
    c = (MstVideoConstraints)MST_STRUCT_INIT(MstVideoConstraints);
    c.resize_mode = MST_RESIZE_MODE_NONE;
    MUST(mst_track_apply_constraints(none_clone, &c));

    static struct reader readers[8] = {
        {.what = "pattern 640x360", .mode = MODE_READ},
        {.what = "pattern scaled to 320x180", .mode = MODE_FD},
        {.what = "pattern decimated to 10 fps", .mode = MODE_CALLBACK},
        {.what = "pattern latest-only, read every 100 ms", .mode = MODE_READ, .read_every = 0.1},
        {.what = "generator 320x240, buffer 4", .mode = MODE_READ},
        {.what = "generator scaled to 160x120", .mode = MODE_CALLBACK},
        {.what = "tone, 1600-frame chunks", .mode = MODE_READ},
        {.what = "pattern 320x240, resize none", .mode = MODE_FD},
    };
    MstTrack *reader_tracks[8] = {pattern, scaled_clone, decimated_clone, pattern,
                                  gen_track, gen_scaled, tone, none_clone};
    for (int i = 0; i < 8; i++) {
        MstProcessorOptions o = MST_STRUCT_INIT(MstProcessorOptions);
        if (i == 3) o.flags = MST_PROCESSOR_LATEST_ONLY;
        if (i == 4) o.max_buffer_size = 4;
        MUST(mst_processor_create(reader_tracks[i], &o, &readers[i].processor));
        if (readers[i].mode == MODE_CALLBACK)
            MUST(mst_processor_set_callback(readers[i].processor, on_frame, &readers[i], NULL));
        else if (pthread_create(&readers[i].thread, NULL, read_loop, &readers[i]) != 0)
            abort();
    }
    pthread_t writer;
    if (pthread_create(&writer, NULL, write_loop, generator) != 0) abort();

    int max_samples = (int)(minutes * 60 / every) + 2;
    double *t = calloc((size_t)max_samples, sizeof *t), *rss = calloc((size_t)max_samples, sizeof *rss),
           *fds = calloc((size_t)max_samples, sizeof *fds), *heap = calloc((size_t)max_samples, sizeof *heap);
    if (!t || !rss || !fds || !heap) abort();
    int n = 0;
    unsigned long long churned = 0, churn_frames = 0;
    double start = now_s(), end = start + minutes * 60, next_sample = start + every;
    printf("%8s %10s %12s %5s\n", "seconds", "RSS KB", "heap KB", "fds");
    while (now_s() < end) {
        churn(pattern2, &churn_frames);
        churned++;
        if (now_s() >= next_sample && n < max_samples) {
            t[n] = now_s() - start;
            rss[n] = (double)rss_kb();
            fds[n] = (double)open_fds();
            heap[n] = heap_in_use_kb();
            printf("%8.0f %10.0f %12.1f %5.0f\n", t[n], rss[n], heap[n], fds[n]);
            fflush(stdout);
            n++;
            next_sample += every;
        }
        sleep_s(1);
    }
    atomic_store(&stopping, true);
    pthread_join(writer, NULL);

    printf("processors (%llu churn cycles read %llu frames):\n", churned, churn_frames);
    for (int i = 0; i < 8; i++) MUST(mst_processor_close(readers[i].processor));
    for (int i = 0; i < 8; i++) {
        if (readers[i].mode == MODE_CALLBACK) {
            MUST(mst_processor_set_callback(readers[i].processor, NULL, NULL, NULL));
        } else {
            pthread_join(readers[i].thread, NULL);
        }
        check_processor(&readers[i]);
        MUST(mst_processor_free(readers[i].processor));
    }
    MstTrack *tracks[] = {pattern, pattern2, gen_track, tone, scaled_clone, decimated_clone, gen_scaled, none_clone};
    for (size_t i = 0; i < sizeof tracks / sizeof tracks[0]; i++) MUST(mst_track_free(tracks[i]));
    MUST(mst_generator_free(generator));

    int first = 0;
    while (first < n && t[first] < warmup) first++;
    int m = n - first;
    if (m < 3) {
        FAIL("only %d samples after the warm-up: nothing to fit", m);
    } else {
        double rss_slope = slope(t + first, rss + first, m) * 60;
        double fd_slope = slope(t + first, fds + first, m) * 60;
        double heap_slope = slope(t + first, heap + first, m) * 60;
        printf("after the warm-up (%d samples, %.0f s to %.0f s): RSS %.0f -> %.0f KB, slope %.1f KB/min; "
               "heap in use %.1f -> %.1f KB, slope %.2f KB/min; fds %.0f -> %.0f, slope %.3f fds/min\n",
               m, t[first], t[n - 1], rss[first], rss[n - 1], rss_slope, heap[first], heap[n - 1], heap_slope,
               fds[first], fds[n - 1], fd_slope);
        if (rss_slope > max_rss_slope) FAIL("RSS grows %.1f KB/min, above the limit %.0f", rss_slope, max_rss_slope);
        if (fd_slope > 0 || fds[n - 1] > fds[first]) FAIL("open descriptors grow (%.3f/min)", fd_slope);
    }
    free(t);
    free(rss);
    free(fds);
    free(heap);
    printf("soak: %s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
usage:
    fprintf(stderr, "usage: soak [--minutes 10] [--warmup-seconds 60] [--sample-seconds 5] [--max-rss-slope 64]\n");
    return 2;
}
