/* A virtual background: reads a camera, replaces everything outside an ellipse around the
 * centre (where the person sits) with a background, and writes the result to a V4L2 output
 * node, a virtual camera that video-call programs then open (v4l2loopback on a desktop, vivid's
 * output in the tests).
 *
 *   camera --> processor --> transform (this thread) --> generator --> V4L2 output sink
 *
 *   virtual_background [camera_id] [output_id] [seconds]
 *     camera_id   a videoinput id from list_devices (default, or "": the first camera)
 *     output_id   a videooutput id from list_devices (default, or "": the first output)
 *     seconds     how long to run (default 3; fractions allowed)
 *
 * The transform works on the camera's own format when it is I420 or NV12 (copy out, replace
 * the samples outside the ellipse, make a new frame: no colour conversion) and on BGRX for
 * everything else (mst_frame_video_copy_to converts). Its buffer is allocated once. A real
 * application would take the mask from a segmentation model; the frame plumbing is the same.
 *
 * Prints one line a second (frames in, out, dropped) and a summary. Exit status: 0 frames went
 * through; 77 there is no camera or no video output (the message says which), as on a machine
 * without them; 1 any other failure, or no frame reached the output; 2 bad arguments.
 *
 * Build, with libmst installed where pkg-config finds it:
 *   cc -std=c11 virtual_background.c -o virtual_background $(pkg-config --cflags --libs mst)
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mst.h"

#define EXIT_NO_DEVICE 77

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_error(const char *what, MstStatus status) {
    fprintf(stderr, "virtual_background: %s failed: %s (%s)\n", what, mst_status_str(status),
            mst_last_error_message());
}

static int is_device_absence(MstStatus st) {
    return st == MST_ERR_NO_DEVICE || st == MST_ERR_BUSY || st == MST_ERR_UNSUPPORTED ||
           st == MST_ERR_IO;
}

/* Whether (x, y) of a w x h image lies outside the ellipse inscribed in its middle 60% x 90%. */
static int background(uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
    double dx = ((double)x + 0.5 - w / 2.0) / (0.30 * w);
    double dy = ((double)y + 0.5 - h / 2.0) / (0.45 * h);
    return dx * dx + dy * dy > 1.0;
}

/* Replaces the background of a packed I420, NV12 or BGRX image in `buf` (the layout
 * mst_frame_video_copy_to() wrote) with a blue-green vertical gradient. */
static void replace_background(uint8_t *buf, const MstPlaneLayouts *l, int32_t format, uint32_t w,
                               uint32_t h) {
    for (uint32_t y = 0; y < h; y++) {
        uint8_t shade = (uint8_t)(60 + 120 * y / (h > 1 ? h - 1 : 1));
        for (uint32_t x = 0; x < w; x++) {
            if (!background(x, y, w, h)) continue;
            if (format == MST_VIDEO_PIXEL_FORMAT_BGRX) {
                uint8_t *px = buf + l->planes[0].offset + (size_t)y * l->planes[0].stride + 4 * (size_t)x;
                px[0] = 200;   /* B */
                px[1] = shade; /* G */
                px[2] = 40;    /* R */
                px[3] = 255;
            } else {
                buf[l->planes[0].offset + (size_t)y * l->planes[0].stride + x] = shade;
            }
        }
    }
    if (format == MST_VIDEO_PIXEL_FORMAT_BGRX) return;
    for (uint32_t cy = 0; cy < (h + 1) / 2; cy++) {
        for (uint32_t cx = 0; cx < (w + 1) / 2; cx++) {
            if (!background(2 * cx, 2 * cy, w, h)) continue;
            const uint8_t u = 170, v = 100; /* a teal tint */
            if (format == MST_VIDEO_PIXEL_FORMAT_NV12) {
                uint8_t *uv = buf + l->planes[1].offset + (size_t)cy * l->planes[1].stride + 2 * (size_t)cx;
                uv[0] = u;
                uv[1] = v;
            } else {
                buf[l->planes[1].offset + (size_t)cy * l->planes[1].stride + cx] = u;
                buf[l->planes[2].offset + (size_t)cy * l->planes[2].stride + cx] = v;
            }
        }
    }
}

/* The first device of `kind`, copied into `out` (NULL: none). */
static MstStatus first_device(MstDeviceKind kind, char *out, size_t cap, int *found) {
    MstDeviceList *list = NULL;
    MstStatus st = mst_devices_enumerate(&list);
    if (st != MST_OK) return st;
    size_t n = 0;
    st = mst_device_list_get_count(list, &n);
    *found = 0;
    for (size_t i = 0; st == MST_OK && i < n && !*found; i++) {
        MstDeviceInfo info = MST_STRUCT_INIT(MstDeviceInfo);
        st = mst_device_list_get_device(list, i, &info);
        if (st == MST_OK && info.kind == kind && strlen(info.device_id) < cap) {
            strcpy(out, info.device_id);
            *found = 1;
        }
    }
    MstStatus freed = mst_device_list_free(list);
    return st != MST_OK ? st : freed;
}

static int usage(void) {
    fprintf(stderr, "usage: virtual_background [camera_id] [output_id] [seconds]\n"
                    "  defaults: the first camera, the first video output, 3\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc > 4) return usage();
    const char *camera_id = argc > 1 && argv[1][0] != '\0' ? argv[1] : NULL;
    double seconds = 3.0;
    if (argc > 3) {
        char *end = NULL;
        seconds = strtod(argv[3], &end);
        if (end == argv[3] || *end != '\0' || !isfinite(seconds) || seconds <= 0.0 || seconds > 86400.0) {
            fprintf(stderr, "virtual_background: bad duration \"%s\"\n", argv[3]);
            return usage();
        }
    }
    char output_id[256];
    if (argc > 2 && argv[2][0] != '\0') {
        if (strlen(argv[2]) >= sizeof output_id) return usage();
        strcpy(output_id, argv[2]);
    } else {
        int found = 0;
        MstStatus st = first_device(MST_DEVICE_KIND_VIDEO_OUTPUT, output_id, sizeof output_id, &found);
        if (st != MST_OK) {
            report_error("mst_devices_enumerate", st);
            return 1;
        }
        if (!found) {
            fprintf(stderr, "virtual_background: no V4L2 video output (virtual camera) is present; "
                            "load v4l2loopback, or list devices with list_devices\n");
            return EXIT_NO_DEVICE;
        }
    }

    MstTrack *camera = NULL;
    MstStatus st = mst_track_create_camera(camera_id, NULL, NULL, &camera);
    if (st != MST_OK) {
        fprintf(stderr, "virtual_background: cannot open camera \"%s\": %s (%s)\n",
                camera_id ? camera_id : "default", mst_last_error_message(), mst_status_str(st));
        return is_device_absence(st) ? EXIT_NO_DEVICE : 1;
    }

    int exit_code = 1;
    MstProcessor *processor = NULL;
    MstGenerator *generator = NULL;
    MstTrack *out_track = NULL;
    MstVideoOutput *output = NULL;
    uint8_t *buf = NULL;
    size_t buf_len = 0;

    /* A small queue: a virtual camera wants the newest frame, not a backlog. */
    MstProcessorOptions queue = MST_STRUCT_INIT(MstProcessorOptions);
    queue.max_buffer_size = 2;
    st = mst_processor_create(camera, &queue, &processor);
    if (st != MST_OK) { report_error("mst_processor_create", st); goto out; }
    st = mst_generator_create(MST_KIND_VIDEO, &generator);
    if (st != MST_OK) { report_error("mst_generator_create", st); goto out; }
    st = mst_generator_get_track(generator, &out_track);
    if (st != MST_OK) { report_error("mst_generator_get_track", st); goto out; }
    st = mst_video_output_open(out_track, output_id, &output);
    if (st != MST_OK) {
        fprintf(stderr, "virtual_background: cannot open video output \"%s\": %s (%s)\n",
                output_id, mst_last_error_message(), mst_status_str(st));
        exit_code = is_device_absence(st) ? EXIT_NO_DEVICE : 1;
        goto out;
    }
    fprintf(stderr, "virtual_background: camera \"%s\" -> output \"%s\" for %g s\n",
            camera_id ? camera_id : "default", output_id, seconds);

    const double start = now_seconds(), end = start + seconds;
    double next_report = start + 1.0;
    uint64_t frames_in = 0, frames_out = 0;
    int ended = 0;
    while (!ended) {
        double t = now_seconds();
        if (t >= end) break;
        if (t >= next_report) {
            MstVideoOutputStats vs = MST_STRUCT_INIT(MstVideoOutputStats);
            st = mst_video_output_get_stats(output, &vs);
            if (st != MST_OK) { report_error("mst_video_output_get_stats", st); goto out; }
            fprintf(stderr, "%5.1f s  in %llu  written %llu  dropped %llu\n", t - start,
                    (unsigned long long)frames_in, (unsigned long long)vs.frames_written,
                    (unsigned long long)vs.frames_dropped);
            next_report += 1.0;
        }
        MstFrame *frame = NULL;
        st = mst_processor_read(processor, (int32_t)((end - t) * 1000.0) + 1, &frame);
        if (st == MST_ERR_TIMEOUT || st == MST_ERR_AGAIN) continue;
        if (st == MST_ERR_ENDED) {
            fprintf(stderr, "virtual_background: the camera track ended\n");
            ended = 1;
            break;
        }
        if (st != MST_OK) { report_error("mst_processor_read", st); goto out; }
        frames_in++;

        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        st = mst_frame_get_video_info(frame, &info);
        MstVideoCopyOptions opts = MST_STRUCT_INIT(MstVideoCopyOptions);
        int32_t format = info.format == MST_VIDEO_PIXEL_FORMAT_I420 || info.format == MST_VIDEO_PIXEL_FORMAT_NV12
                             ? info.format
                             : MST_VIDEO_PIXEL_FORMAT_BGRX;
        opts.format = format == info.format ? 0 : format;
        size_t need = 0;
        if (st == MST_OK) st = mst_frame_video_allocation_size(frame, &opts, &need);
        if (st == MST_OK && need > buf_len) {
            uint8_t *grown = realloc(buf, need); /* only when the size grows, not per frame */
            if (grown == NULL) st = MST_ERR_NO_MEMORY;
            else { buf = grown; buf_len = need; }
        }
        MstPlaneLayouts layouts = MST_STRUCT_INIT(MstPlaneLayouts);
        if (st == MST_OK) st = mst_frame_video_copy_to(frame, buf, buf_len, &opts, &layouts);
        MstStatus freed = mst_frame_free(frame);
        if (st != MST_OK || freed != MST_OK) {
            report_error("reading the camera frame", st != MST_OK ? st : freed);
            goto out;
        }
        const uint32_t w = info.visible_rect.width, h = info.visible_rect.height;
        replace_background(buf, &layouts, format, w, h);

        MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
        init.format = format;
        init.coded_width = w;
        init.coded_height = h;
        init.timestamp = info.timestamp;
        init.duration = info.duration;
        init.num_planes = layouts.count;
        for (uint32_t i = 0; i < layouts.count; i++) init.layout[i] = layouts.planes[i];
        MstFrame *made = NULL;
        st = mst_frame_create_video(&init, buf, need, &made);
        if (st != MST_OK) { report_error("mst_frame_create_video", st); goto out; }
        st = mst_generator_write(generator, made); /* closes `made`: the handle is still ours */
        mst_frame_free(made);
        if (st != MST_OK) { report_error("mst_generator_write", st); goto out; }
        frames_out++;
    }

    st = mst_generator_close(generator);
    if (st != MST_OK) { report_error("mst_generator_close", st); goto out; }
    st = mst_video_output_stop(output); /* the track ended: writes out what is queued */
    if (st != MST_OK) { report_error("mst_video_output_stop", st); goto out; }
    MstVideoOutputStats vs = MST_STRUCT_INIT(MstVideoOutputStats);
    st = mst_video_output_get_stats(output, &vs);
    if (st != MST_OK) { report_error("mst_video_output_get_stats", st); goto out; }
    printf("virtual_background: %llu camera frames, %llu transformed, %llu written to the "
           "output (%ux%u, fourcc %.4s), %llu dropped\n",
           (unsigned long long)frames_in, (unsigned long long)frames_out,
           (unsigned long long)vs.frames_written, vs.width, vs.height, (const char *)&vs.fourcc,
           (unsigned long long)vs.frames_dropped);
    exit_code = vs.frames_written > 0 && !ended ? 0 : 1;
    if (vs.frames_written == 0) fprintf(stderr, "virtual_background: no frame reached the output\n");

out:
    st = mst_video_output_free(output);
    if (st != MST_OK) report_error("mst_video_output_free", st);
    st = mst_generator_free(generator);
    if (st != MST_OK) report_error("mst_generator_free", st);
    st = mst_track_free(out_track);
    if (st != MST_OK) report_error("mst_track_free", st);
    st = mst_processor_free(processor);
    if (st != MST_OK) report_error("mst_processor_free", st);
    st = mst_track_free(camera);
    if (st != MST_OK) report_error("mst_track_free", st);
    free(buf);
    return exit_code;
}
