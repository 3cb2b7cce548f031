/* Captures a camera to a Y4M file, with a live fps / dropped counter on stderr.
 *
 *   camera (V4L2, its native mode) --> file sink -----------> out.y4m
 *                                  \-> processor: counts frames; once a second prints the
 *                                      frames delivered in that second (fps) and the frames
 *                                      dropped so far: by the camera (lost before libmst got
 *                                      them, mst_track_get_camera_stats) and by the counter's
 *                                      own processor (its discarded ones)
 *
 *   capture_camera [device_id] [seconds] [out.y4m]
 *     device_id   a videoinput id from list_devices (default, or an empty string: the first
 *                 camera)
 *     seconds     how long to capture (default 3; fractions allowed)
 *     out.y4m     where (default camera.y4m)
 *
 * After N seconds it stops the track, finishes the file and prints a summary (frames written
 * and dropped by the sink, frames the counter saw and missed, bytes, size, average fps).
 *
 * Exit status: 0 captured; 77 the camera cannot be opened (none, busy, unsupported: the
 * message says so, and ctest shows the test as skipped on such a machine); 1 any other libmst
 * error or the camera was lost while capturing; 2 bad arguments.
 *
 * Build, with libmst installed where pkg-config finds it:
 *   cc -std=c11 capture_camera.c -o capture_camera $(pkg-config --cflags --libs mst)
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mst.h"

#define EXIT_NO_DEVICE 77

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_error(const char *what, MstStatus status) {
    fprintf(stderr, "capture_camera: %s failed: %s (%s)\n", what, mst_status_str(status),
            mst_last_error_message());
}

static const char *end_reason_name(MstEndReason reason) {
    switch (reason) {
    case MST_END_REASON_NONE: return "live";
    case MST_END_REASON_STOPPED: return "stopped";
    case MST_END_REASON_SOURCE_ENDED: return "source ended";
    case MST_END_REASON_WRITABLE_CLOSED: return "writable closed";
    case MST_END_REASON_DEVICE_LOST: return "device lost";
    case MST_END_REASON_ERROR: return "source error";
    default: return "unknown";
    }
}

static const char *format_name(MstVideoPixelFormat format) {
    switch (format) {
    case MST_VIDEO_PIXEL_FORMAT_I420: return "I420";
    case MST_VIDEO_PIXEL_FORMAT_I420A: return "I420A";
    case MST_VIDEO_PIXEL_FORMAT_I422: return "I422";
    case MST_VIDEO_PIXEL_FORMAT_I444: return "I444";
    case MST_VIDEO_PIXEL_FORMAT_NV12: return "NV12";
    case MST_VIDEO_PIXEL_FORMAT_RGBA: return "RGBA";
    case MST_VIDEO_PIXEL_FORMAT_RGBX: return "RGBX";
    case MST_VIDEO_PIXEL_FORMAT_BGRA: return "BGRA";
    case MST_VIDEO_PIXEL_FORMAT_BGRX: return "BGRX";
    default: return "?";
    }
}

static int usage(void) {
    fprintf(stderr, "usage: capture_camera [device_id] [seconds] [out.y4m]\n"
                    "  defaults: the first camera, 3, camera.y4m\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *device_id = argc > 1 && argv[1][0] != '\0' ? argv[1] : NULL;
    const char *device_name = device_id != NULL ? device_id : "default";
    double seconds = 3.0;
    const char *path = argc > 3 ? argv[3] : "camera.y4m";
    if (argc > 4) return usage();
    if (argc > 2) {
        char *end = NULL;
        seconds = strtod(argv[2], &end);
        if (end == argv[2] || *end != '\0' || !isfinite(seconds) || seconds <= 0.0 || seconds > 86400.0) {
            fprintf(stderr, "capture_camera: bad duration \"%s\"\n", argv[2]);
            return usage();
        }
    }

    MstTrack *track = NULL;
    MstStatus st = mst_track_create_camera(device_id, NULL, NULL, &track);
    if (st != MST_OK) {
        fprintf(stderr,
                "capture_camera: cannot open camera \"%s\": %s (%s); list devices with "
                "list_devices\n",
                device_name, mst_last_error_message(), mst_status_str(st));
        switch (st) {
        case MST_ERR_NO_DEVICE:
        case MST_ERR_BUSY:
        case MST_ERR_IO:
        case MST_ERR_UNSUPPORTED:
        case MST_ERR_OVERCONSTRAINED: return EXIT_NO_DEVICE;
        default: return 1;
        }
    }

    int exit_code = 1;
    MstFileSink *sink = NULL;
    MstProcessor *processor = NULL;

    const char *label = NULL;
    st = mst_track_get_label(track, &label);
    if (st != MST_OK) {
        report_error("mst_track_get_label", st);
        goto out;
    }
    MstSettings settings = MST_STRUCT_INIT(MstSettings);
    st = mst_track_get_settings(track, &settings);
    if (st != MST_OK) {
        report_error("mst_track_get_settings", st);
        goto out;
    }
    fprintf(stderr, "capture_camera: capturing \"%s\" (%s, %ux%u at %.2f fps) to %s for %g s\n",
            device_name, label, settings.width, settings.height, settings.frame_rate, path,
            seconds);

    st = mst_file_sink_open(track, path, &sink);
    if (st != MST_OK) {
        report_error("mst_file_sink_open", st);
        goto out;
    }
    st = mst_processor_create(track, NULL, &processor);
    if (st != MST_OK) {
        report_error("mst_processor_create", st);
        goto out;
    }

    const double start = now_seconds(), end = start + seconds;
    double next_report = start + 1.0;
    unsigned second = 0;
    uint64_t frames_this_second = 0, frames_total = 0;
    MstVideoFrameInfo first = MST_STRUCT_INIT(MstVideoFrameInfo);
    int ended_early = 0;
    for (;;) {
        double t = now_seconds();
        if (t >= next_report) {
            MstProcessorStats ps = MST_STRUCT_INIT(MstProcessorStats);
            st = mst_processor_get_stats(processor, &ps);
            if (st != MST_OK) {
                report_error("mst_processor_get_stats", st);
                goto out;
            }
            MstCameraStats cs = MST_STRUCT_INIT(MstCameraStats);
            st = mst_track_get_camera_stats(track, &cs);
            if (st != MST_OK) {
                report_error("mst_track_get_camera_stats", st);
                goto out;
            }
            fprintf(stderr, "%3u s  %3llu fps  %6llu frames  dropped %llu by the camera, %llu by the counter\n",
                    ++second, (unsigned long long)frames_this_second,
                    (unsigned long long)frames_total, (unsigned long long)cs.dropped,
                    (unsigned long long)ps.discarded);
            frames_this_second = 0;
            next_report += 1.0;
            continue;
        }
        if (t >= end) break;
        double until = next_report < end ? next_report : end;
        int32_t timeout_ms = (int32_t)((until - t) * 1000.0) + 1;
        MstFrame *frame = NULL;
        st = mst_processor_read(processor, timeout_ms, &frame);
        if (st == MST_OK) {
            MstStatus info_st = MST_OK;
            if (frames_total == 0) {
                info_st = mst_frame_get_video_info(frame, &first);
                if (info_st != MST_OK) report_error("mst_frame_get_video_info", info_st);
            }
            MstStatus freed = mst_frame_free(frame);
            if (freed != MST_OK) report_error("mst_frame_free", freed);
            if (info_st != MST_OK || freed != MST_OK) goto out;
            frames_this_second++;
            frames_total++;
        } else if (st == MST_ERR_TIMEOUT || st == MST_ERR_AGAIN) {
            continue;
        } else if (st == MST_ERR_ENDED) {
            MstEndReason reason = MST_END_REASON_NONE;
            st = mst_track_get_end_reason(track, &reason);
            if (st != MST_OK) report_error("mst_track_get_end_reason", st);
            fprintf(stderr, "capture_camera: the track ended after %.1f s: %s\n",
                    now_seconds() - start, end_reason_name(reason));
            ended_early = 1;
            break;
        } else {
            report_error("mst_processor_read", st);
            goto out;
        }
    }
    const double elapsed = now_seconds() - start;

    /* Stop: the track ends, and with it the sink's processor and ours; the sink's stop writes
     * what is still queued. */
    st = mst_track_stop(track);
    if (st != MST_OK) {
        report_error("mst_track_stop", st);
        goto out;
    }
    st = mst_file_sink_stop(sink);
    if (st != MST_OK) {
        report_error("mst_file_sink_stop", st);
        goto out;
    }
    MstFileStats fs = MST_STRUCT_INIT(MstFileStats);
    st = mst_file_sink_get_stats(sink, &fs);
    if (st != MST_OK) {
        report_error("mst_file_sink_get_stats", st);
        goto out;
    }
    MstProcessorStats ps = MST_STRUCT_INIT(MstProcessorStats);
    st = mst_processor_get_stats(processor, &ps);
    if (st != MST_OK) {
        report_error("mst_processor_get_stats", st);
        goto out;
    }
    printf("capture_camera: wrote %s: %llu frames, %llu dropped by the sink, %llu bytes, "
           "%ux%u (camera frames %s %ux%u)\n",
           path, (unsigned long long)fs.frames_written, (unsigned long long)fs.frames_dropped,
           (unsigned long long)fs.bytes_written, first.visible_rect.width,
           first.visible_rect.height, format_name(first.format), first.coded_width,
           first.coded_height);
    printf("capture_camera: the counter saw %llu frames in %.2f s (%.2f fps), %llu dropped\n",
           (unsigned long long)frames_total, elapsed,
           elapsed > 0.0 ? (double)frames_total / elapsed : 0.0,
           (unsigned long long)ps.discarded);
    exit_code = ended_early ? 1 : 0;

out:
    st = mst_file_sink_free(sink);
    if (st != MST_OK) report_error("mst_file_sink_free", st);
    st = mst_processor_free(processor);
    if (st != MST_OK) report_error("mst_processor_free", st);
    st = mst_track_free(track);
    if (st != MST_OK) report_error("mst_track_free", st);
    return exit_code;
}
