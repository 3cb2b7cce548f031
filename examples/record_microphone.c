/* Records a microphone to a WAV file, with a live level meter on stderr.
 *
 *   microphone (ALSA capture, 10 ms chunks) --> file sink -----------> out.wav
 *                                           \-> processor: once a second, the chunks, frames
 *                                               and peak/RMS level of the second on stderr
 *
 *   record_microphone [device_id] [seconds] [out.wav]
 *     device_id   an audioinput id from list_devices, or any ALSA PCM name ("default"; an
 *                 empty string is "default" too)
 *     seconds     how long to record (default 3; fractions allowed)
 *     out.wav     where (default microphone.wav)
 *
 * After N seconds it stops the track, finishes the file and prints what was written (frames,
 * dropped, bytes, rate, channels).
 *
 * Exit status: 0 recorded; 77 the microphone cannot be opened (no such device, busy, no sound
 * card: the message says so, and ctest shows the test as skipped on such a machine); 1 any
 * other libmst error or the device was lost while recording; 2 bad arguments.
 *
 * Build (-lm: it calls libm itself), with libmst installed where pkg-config finds it:
 *   cc -std=c11 record_microphone.c -o record_microphone $(pkg-config --cflags --libs mst) -lm
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
#define METER_WIDTH 40
#define METER_FLOOR_DB (-60.0)

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_error(const char *what, MstStatus status) {
    fprintf(stderr, "record_microphone: %s failed: %s (%s)\n", what, mst_status_str(status),
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

static double to_db(double amplitude) {
    return amplitude > 0.0 ? 20.0 * log10(amplitude) : -INFINITY;
}

/* What the processor saw in the current second and in total. */
struct meter {
    uint64_t chunks, frames;             /* this second */
    double peak, sum_squares;            /* this second, over every sample of every channel */
    uint64_t samples;                    /* this second */
    uint64_t total_chunks, total_frames; /* since the start */
    float sample_rate;
    uint32_t channels;
    float *buf; /* one chunk as interleaved f32 */
    size_t buf_len;
};

/* Adds one chunk to the meter: its samples converted to interleaved f32 by copy_to. */
static MstStatus meter_add(struct meter *m, const MstFrame *chunk) {
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    MstStatus st = mst_frame_get_audio_info(chunk, &info);
    if (st != MST_OK) {
        report_error("mst_frame_get_audio_info", st);
        return st;
    }
    MstAudioCopyOptions options = MST_STRUCT_INIT(MstAudioCopyOptions);
    options.format = MST_AUDIO_SAMPLE_FORMAT_F32;
    size_t size = 0;
    st = mst_frame_audio_allocation_size(chunk, &options, &size);
    if (st != MST_OK) {
        report_error("mst_frame_audio_allocation_size", st);
        return st;
    }
    if (size > m->buf_len) {
        float *bigger = realloc(m->buf, size);
        if (bigger == NULL) {
            fprintf(stderr, "record_microphone: out of memory\n");
            return MST_ERR_NO_MEMORY;
        }
        m->buf = bigger;
        m->buf_len = size;
    }
    st = mst_frame_audio_copy_to(chunk, (uint8_t *)m->buf, m->buf_len, &options);
    if (st != MST_OK) {
        report_error("mst_frame_audio_copy_to", st);
        return st;
    }
    size_t n = size / sizeof(float);
    for (size_t i = 0; i < n; i++) {
        double s = fabs((double)m->buf[i]);
        if (s > m->peak) m->peak = s;
        m->sum_squares += s * s;
    }
    m->samples += n;
    m->chunks++;
    m->frames += info.number_of_frames;
    m->total_chunks++;
    m->total_frames += info.number_of_frames;
    m->sample_rate = info.sample_rate;
    m->channels = info.number_of_channels;
    return MST_OK;
}

/* One line a second: "  2 s  100 chunks  48000 frames  peak  -12.3 dBFS  rms -20.1 dBFS  |####   |". */
static void meter_report(struct meter *m, unsigned second, const MstProcessorStats *ps) {
    double rms = m->samples ? sqrt(m->sum_squares / (double)m->samples) : 0.0;
    double peak_db = to_db(m->peak), rms_db = to_db(rms);
    double fill = (peak_db - METER_FLOOR_DB) / -METER_FLOOR_DB;
    int bars = fill <= 0.0 || isnan(fill) ? 0 : (fill >= 1.0 ? METER_WIDTH : (int)(fill * METER_WIDTH));
    char bar[METER_WIDTH + 1];
    memset(bar, ' ', METER_WIDTH);
    memset(bar, '#', (size_t)bars);
    bar[METER_WIDTH] = '\0';
    fprintf(stderr,
            "%3u s  %4llu chunks  %6llu frames  peak %6.1f dBFS  rms %6.1f dBFS  |%s|  "
            "dropped %llu\n",
            second, (unsigned long long)m->chunks, (unsigned long long)m->frames,
            peak_db < -99.9 ? -99.9 : peak_db, rms_db < -99.9 ? -99.9 : rms_db, bar,
            (unsigned long long)ps->discarded);
    m->chunks = m->frames = m->samples = 0;
    m->peak = m->sum_squares = 0.0;
}

static int usage(void) {
    fprintf(stderr, "usage: record_microphone [device_id] [seconds] [out.wav]\n"
                    "  defaults: \"default\", 3, microphone.wav\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *device_id = argc > 1 && argv[1][0] != '\0' ? argv[1] : "default";
    double seconds = 3.0;
    const char *path = argc > 3 ? argv[3] : "microphone.wav";
    if (argc > 4) return usage();
    if (argc > 2) {
        char *end = NULL;
        seconds = strtod(argv[2], &end);
        if (end == argv[2] || *end != '\0' || !isfinite(seconds) || seconds <= 0.0 || seconds > 86400.0) {
            fprintf(stderr, "record_microphone: bad duration \"%s\"\n", argv[2]);
            return usage();
        }
    }

    MstTrack *track = NULL;
    MstStatus st = mst_track_create_microphone(device_id, NULL, &track);
    if (st != MST_OK) {
        fprintf(stderr,
                "record_microphone: cannot open microphone \"%s\": %s (%s); list devices with "
                "list_devices\n",
                device_id, mst_last_error_message(), mst_status_str(st));
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
    struct meter meter = {0};

    MstSettings settings = MST_STRUCT_INIT(MstSettings);
    st = mst_track_get_settings(track, &settings);
    if (st != MST_OK) {
        report_error("mst_track_get_settings", st);
        goto out;
    }
    fprintf(stderr, "record_microphone: recording \"%s\" (%.0f Hz, %u channel(s), %u bits) to %s for %g s\n",
            device_id, settings.sample_rate, settings.channel_count, settings.sample_size, path,
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
            meter_report(&meter, ++second, &ps);
            next_report += 1.0;
            continue;
        }
        if (t >= end) break;
        double until = next_report < end ? next_report : end;
        int32_t timeout_ms = (int32_t)((until - t) * 1000.0) + 1;
        MstFrame *chunk = NULL;
        st = mst_processor_read(processor, timeout_ms, &chunk);
        if (st == MST_OK) {
            MstStatus added = meter_add(&meter, chunk);
            MstStatus freed = mst_frame_free(chunk);
            if (freed != MST_OK) report_error("mst_frame_free", freed);
            if (added != MST_OK || freed != MST_OK) goto out;
        } else if (st == MST_ERR_TIMEOUT || st == MST_ERR_AGAIN) {
            continue;
        } else if (st == MST_ERR_ENDED) {
            MstEndReason reason = MST_END_REASON_NONE;
            st = mst_track_get_end_reason(track, &reason);
            if (st != MST_OK) report_error("mst_track_get_end_reason", st);
            fprintf(stderr, "record_microphone: the track ended after %.1f s: %s\n",
                    now_seconds() - start, end_reason_name(reason));
            ended_early = 1;
            break;
        } else {
            report_error("mst_processor_read", st);
            goto out;
        }
    }

    /* Stop: the track ends, and with it the sink's processor and ours; the sink's stop writes
     * what is still queued and the WAV sizes. */
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
    MstCaptureStats cs = MST_STRUCT_INIT(MstCaptureStats);
    st = mst_track_get_capture_stats(track, &cs);
    if (st != MST_OK) {
        report_error("mst_track_get_capture_stats", st);
        goto out;
    }
    printf("record_microphone: wrote %s: %llu chunks, %llu dropped, %llu bytes, %.0f Hz, %u "
           "channel(s)\n",
           path, (unsigned long long)fs.frames_written, (unsigned long long)fs.frames_dropped,
           (unsigned long long)fs.bytes_written, (double)meter.sample_rate, meter.channels);
    printf("record_microphone: captured %llu chunks (%llu sample frames, %.2f s), %llu "
           "overrun(s); the meter read %llu chunks, its queue discarded %llu\n",
           (unsigned long long)cs.chunks, (unsigned long long)cs.frames,
           meter.sample_rate > 0 ? (double)cs.frames / (double)meter.sample_rate : 0.0,
           (unsigned long long)cs.overruns, (unsigned long long)meter.total_chunks,
           (unsigned long long)ps.discarded);
    exit_code = ended_early ? 1 : 0;

out:
    st = mst_file_sink_free(sink);
    if (st != MST_OK) report_error("mst_file_sink_free", st);
    st = mst_processor_free(processor);
    if (st != MST_OK) report_error("mst_processor_free", st);
    st = mst_track_free(track);
    if (st != MST_OK) report_error("mst_track_free", st);
    free(meter.buf);
    return exit_code;
}
