/* File sinks: mst_file_sink_open() records a video track to Y4M and an audio track to WAV;
 * mst_file_sink_stop() completes the file, mst_file_sink_get_stats() reports what was written
 * (before and after the stop) and mst_file_sink_free() releases the sink. Checks the Y4M
 * stream header (size, frame rate from the frame duration) and FRAME records, the 44-byte WAV
 * header and its data, that the files hold exactly the media written, that a track that ended
 * before the stop has everything it delivered in the file, and the errors.
 *
 * Exact counts come from generators and from unpaced test-pattern and tone runs (those start
 * with their first consumer and drain before they end). Failures are collected and reported
 * together, so one problem does not hide the others. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define HANG_GUARD_MS 60000
#define VW 160
#define VH 90
#define I420_SIZE (VW * VH * 3 / 2)
#define Y4M_RECORD (6 + I420_SIZE)
#define CHUNK_FRAMES 480
#define CHUNK_BYTES (CHUNK_FRAMES * 2 * 2) /* s16 stereo */
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static int failures;

/* A soft check: reports and goes on; main fails at the end. */
#define EXPECT(cond, ...)                                                                      \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: EXPECT(%s) failed: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) MST_TEST_FAIL_("cannot open %s", path);
    CHECK_EQ_INT(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    CHECK(n >= 0);
    CHECK_EQ_INT(fseek(f, 0, SEEK_SET), 0);
    uint8_t *buf = malloc((size_t)n + 1);
    CHECK(buf != NULL);
    CHECK_EQ_INT(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint8_t pixel(int frame, size_t i) { return (uint8_t)(16 + (frame * 31 + i * 7) % 200); }

static MstFrame *video_frame(int n, int64_t duration) {
    static uint8_t buf[I420_SIZE];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = pixel(n, i);
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, VW, VH, n * duration);
    init.duration = duration;
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &f));
    return f;
}

/* The Y4M file at `path` has `frames` FRAME records of frames first..first+frames-1 (when
 * `first` >= 0) and, when it has any, a header line starting with `header`. Returns the
 * number of failures found. */
static void check_y4m(const char *path, const MstFileStats *st, const char *header, int first) {
    size_t len = 0;
    uint8_t *data = read_file(path, &len);
    EXPECT(st->bytes_written == len, "%s: bytes_written %llu, file size %zu", path, (unsigned long long)st->bytes_written, len);
    if (st->frames_written == 0) {
        EXPECT(len == 0, "%s: no frame written but %zu bytes", path, len);
        free(data);
        return;
    }
    uint8_t *nl = memchr(data, '\n', len);
    if (nl == NULL) {
        EXPECT(0, "%s: no header line", path);
        free(data);
        return;
    }
    size_t header_len = (size_t)(nl - data) + 1;
    *nl = 0;
    EXPECT(strncmp((const char *)data, "YUV4MPEG2 ", 10) == 0, "%s: header \"%s\"", path, (const char *)data);
    EXPECT(strstr((const char *)data, " W160 H90 ") != NULL, "%s: header \"%s\" lacks W160 H90", path, (const char *)data);
    EXPECT(strncmp((const char *)data, header, strlen(header)) == 0, "%s: header \"%s\", expected it to start with \"%s\"",
           path, (const char *)data, header);
    EXPECT(len == header_len + st->frames_written * Y4M_RECORD, "%s: %zu bytes, expected a %zu-byte header and %llu records of %d",
           path, len, header_len, (unsigned long long)st->frames_written, Y4M_RECORD);
    for (uint64_t k = 0; k < st->frames_written && header_len + (k + 1) * Y4M_RECORD <= len; k++) {
        const uint8_t *rec = data + header_len + k * Y4M_RECORD;
        EXPECT(memcmp(rec, "FRAME\n", 6) == 0, "%s: record %llu does not start with FRAME", path, (unsigned long long)k);
        if (first >= 0) {
            size_t bad = 0;
            for (size_t i = 0; i < I420_SIZE; i++) bad += rec[6 + i] != pixel(first + (int)k, i);
            EXPECT(bad == 0, "%s: record %llu differs from frame %llu in %zu bytes", path, (unsigned long long)k,
                   (unsigned long long)(first + (int)k), bad);
        }
    }
    free(data);
}

/* Stops the sink, reads its final counts into *st (every byte of which is overwritten) and frees
 * it: the sink's whole life after recording. */
static void finish(MstFileSink *sink, MstFileStats *st) {
    CHECK_OK(mst_file_sink_stop(sink));
    CHECK_OK(mst_file_sink_stop(sink)); /* stopped already: the same outcome */
    memset(st, 0xff, sizeof *st);
    st->struct_size = sizeof *st;
    CHECK_OK(mst_file_sink_get_stats(sink, st));
    CHECK_OK(mst_file_sink_free(sink));
    MstFileStats after = MST_STRUCT_INIT(MstFileStats);
    CHECK_STATUS(mst_file_sink_get_stats(sink, &after), MST_ERR_INVALID_STATE); /* released */
    CHECK_STATUS(mst_file_sink_stop(sink), MST_ERR_INVALID_STATE);
}

/* Writes `n` frames of the given duration to a generator recorded by a file sink; finishes the
 * sink while the track is live, or after the track has ended. */
static void record_generator_video(const char *path, int n, int64_t duration, int end_first, MstFileStats *st) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstFileSink *sink = NULL;
    CHECK_OK(mst_file_sink_open(t, path, &sink));
    for (int i = 0; i < n; i++) mst_test_write(g, video_frame(i, duration));
    if (end_first) {
        CHECK_OK(mst_generator_close(g));
        MstReadyState rs;
        CHECK_OK(mst_track_get_ready_state(t, &rs));
        CHECK_EQ_INT(rs, MST_READY_STATE_ENDED);
    }
    MstFileStats live = MST_STRUCT_INIT(MstFileStats);
    CHECK_OK(mst_file_sink_get_stats(sink, &live)); /* while recording: so far */
    CHECK(live.frames_written <= (uint64_t)n);
    finish(sink, st);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

static void check_y4m_from_generator(void) {
    MstFileStats st = MST_STRUCT_INIT(MstFileStats);
    /* Finished while live: the sink writes what is still queued. 5 frames < its 8-frame queue. */
    record_generator_video("test_file_sinks_live.y4m", 5, 40000, 0, &st);
    EXPECT(st.frames_written == 5 && st.frames_dropped == 0, "live: %llu written, %llu dropped; expected 5 and 0",
           (unsigned long long)st.frames_written, (unsigned long long)st.frames_dropped);
    check_y4m("test_file_sinks_live.y4m", &st, "YUV4MPEG2 W160 H90 F25:1", 0);

    /* A 30 fps stream: frames of 33333 us, as a 30 fps source stamps them. */
    record_generator_video("test_file_sinks_30fps.y4m", 3, 33333, 0, &st);
    EXPECT(st.frames_written == 3 && st.frames_dropped == 0, "30 fps: %llu written, %llu dropped; expected 3 and 0",
           (unsigned long long)st.frames_written, (unsigned long long)st.frames_dropped);
    check_y4m("test_file_sinks_30fps.y4m", &st, "YUV4MPEG2 W160 H90 F30:1", 0);

    /* Finished after the track ended: "everything it delivered is in the file". */
    record_generator_video("test_file_sinks_ended.y4m", 5, 40000, 1, &st);
    EXPECT(st.frames_written + st.frames_dropped == 5, "ended: %llu written + %llu dropped != 5",
           (unsigned long long)st.frames_written, (unsigned long long)st.frames_dropped);
    EXPECT(st.frames_written == 5 && st.frames_dropped == 0,
           "track ended before finish: %llu written, %llu dropped; expected all 5 frames in the file",
           (unsigned long long)st.frames_written, (unsigned long long)st.frames_dropped);
    check_y4m("test_file_sinks_ended.y4m", &st, "YUV4MPEG2 W160 H90 F25:1", 0);
}

/* A test pattern recorded until it ends by itself, a processor on the same track reading to
 * the end. The unpaced source starts with its first consumer (the sink), waits while a queue
 * is full and lets queues drain before it ends: the file gets all 10 frames. */
static void check_y4m_from_test_pattern(void) {
    MstTestPatternOptions o = MST_STRUCT_INIT(MstTestPatternOptions);
    o.width = VW;
    o.height = VH;
    o.unpaced = true;
    o.frame_count = 10;
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_test_pattern(&o, &t));
    MstFileSink *sink = NULL;
    CHECK_OK(mst_file_sink_open(t, "test_file_sinks_pattern.y4m", &sink));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(32), &p));
    MstFrame *f = NULL;
    MstStatus s;
    while ((s = mst_processor_read(p, HANG_GUARD_MS, &f)) == MST_OK) CHECK_OK(mst_frame_free(f));
    CHECK_STATUS(s, MST_ERR_ENDED);
    MstEndReason why;
    CHECK_OK(mst_track_get_end_reason(t, &why));
    CHECK_EQ_INT(why, MST_END_REASON_SOURCE_ENDED);
    MstFileStats st = MST_STRUCT_INIT(MstFileStats);
    finish(sink, &st);
    EXPECT(st.frames_written == 10 && st.frames_dropped == 0, "test pattern: %llu written, %llu dropped; expected 10, 0",
           (unsigned long long)st.frames_written, (unsigned long long)st.frames_dropped);
    check_y4m("test_file_sinks_pattern.y4m", &st, "YUV4MPEG2 W160 H90 F30:1", -1);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

/* The 44-byte PCM header of s16 stereo 48 kHz, with `data_bytes` of data. */
static void check_wav_header(const char *path, const uint8_t *h, size_t len, uint32_t data_bytes) {
    if (len < 44) {
        EXPECT(0, "%s: %zu bytes, shorter than a WAV header", path, len);
        return;
    }
    EXPECT(memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVE", 4) == 0, "%s: not RIFF/WAVE", path);
    EXPECT(le32(h + 4) == 36 + data_bytes, "%s: RIFF size %u, expected %u", path, le32(h + 4), 36 + data_bytes);
    EXPECT(memcmp(h + 12, "fmt ", 4) == 0 && le32(h + 16) == 16, "%s: no 16-byte fmt chunk", path);
    EXPECT(le16(h + 20) == 1, "%s: format tag %u, expected 1 (PCM)", path, le16(h + 20));
    EXPECT(le16(h + 22) == 2, "%s: %u channels, expected 2", path, le16(h + 22));
    EXPECT(le32(h + 24) == 48000, "%s: rate %u", path, le32(h + 24));
    EXPECT(le32(h + 28) == 48000 * 4, "%s: byte rate %u", path, le32(h + 28));
    EXPECT(le16(h + 32) == 4, "%s: block align %u", path, le16(h + 32));
    EXPECT(le16(h + 34) == 16, "%s: %u bits", path, le16(h + 34));
    EXPECT(memcmp(h + 36, "data", 4) == 0, "%s: no data chunk at 36", path);
    EXPECT(le32(h + 40) == data_bytes, "%s: data size %u, expected %u", path, le32(h + 40), data_bytes);
    EXPECT(len == 44 + (size_t)data_bytes, "%s: file size %zu, expected %u", path, len, 44 + data_bytes);
}

static int16_t gen_sample(int chunk, int frame, int channel) { return (int16_t)(chunk * 1000 + frame * 3 - channel * 7000); }

static void check_wav_from_generator(int end_first) {
    const char *path = end_first ? "test_file_sinks_ended.wav" : "test_file_sinks_live.wav";
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstFileSink *sink = NULL;
    CHECK_OK(mst_file_sink_open(t, path, &sink));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(100), &p));
    for (int c = 0; c < 10; c++) {
        int16_t buf[CHUNK_FRAMES * 2];
        for (int f = 0; f < CHUNK_FRAMES; f++)
            for (int ch = 0; ch < 2; ch++) buf[f * 2 + ch] = gen_sample(c, f, ch);
        MstAudioDataInit init = {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_S16, 48000.0f, CHUNK_FRAMES, 2, (int64_t)c * 10000};
        MstFrame *a = NULL;
        CHECK_OK(mst_frame_create_audio(&init, (const uint8_t *)buf, sizeof buf, &a));
        CHECK_OK(mst_generator_write(g, a));
        CHECK_OK(mst_frame_free(a));
    }
    /* What a processor on the same track reads. */
    static int16_t read_back[10 * CHUNK_FRAMES * 2];
    for (int c = 0; c < 10; c++) {
        MstFrame *a = NULL;
        CHECK_OK(mst_processor_read(p, 0, &a));
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)(read_back + c * CHUNK_FRAMES * 2), CHUNK_BYTES, NULL));
        CHECK_OK(mst_frame_free(a));
    }
    if (end_first) CHECK_OK(mst_track_stop(t));
    MstFileStats st = MST_STRUCT_INIT(MstFileStats);
    finish(sink, &st);
    EXPECT(st.frames_written + st.frames_dropped == 10, "%s: %llu written + %llu dropped != 10", path,
           (unsigned long long)st.frames_written, (unsigned long long)st.frames_dropped);
    EXPECT(st.frames_written == 10 && st.frames_dropped == 0, "%s: %llu chunks written, %llu dropped; expected all 10 in the file",
           path, (unsigned long long)st.frames_written, (unsigned long long)st.frames_dropped);
    size_t len = 0;
    uint8_t *data = read_file(path, &len);
    EXPECT(st.bytes_written == len, "%s: bytes_written %llu, file size %zu", path, (unsigned long long)st.bytes_written, len);
    if (st.frames_written > 0) {
        check_wav_header(path, data, len, (uint32_t)(st.frames_written * CHUNK_BYTES));
        if (len >= 44 + st.frames_written * CHUNK_BYTES)
            EXPECT(memcmp(data + 44, read_back, st.frames_written * CHUNK_BYTES) == 0,
                   "%s: the samples differ from what the processor read", path);
    }
    free(data);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

static int16_t tone_s16(int64_t index) {
    double v = 0.5 * sin(2.0 * M_PI * 440.0 * (double)index / 48000.0);
    return (int16_t)lrint(v * 32768.0);
}

/* The tone recorded until it ends by itself. The WAV holds consecutive chunks of the tone;
 * the processor's chunks (placed by timestamp) equal the same samples. */
static void check_wav_from_tone(void) {
    MstToneOptions o = MST_STRUCT_INIT(MstToneOptions);
    o.channels = 2;
    o.format = MST_AUDIO_SAMPLE_FORMAT_S16;
    o.frequency = 440; /* 480 samples are not whole periods: every chunk differs */
    o.unpaced = true;
    o.chunk_count = 10;
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_tone(&o, &t));
    MstFileSink *sink = NULL;
    CHECK_OK(mst_file_sink_open(t, "test_file_sinks_tone.wav", &sink));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(100), &p));
    for (;;) {
        MstFrame *a = NULL;
        MstStatus s = mst_processor_read(p, HANG_GUARD_MS, &a);
        if (s == MST_ERR_ENDED) break;
        CHECK_STATUS(s, MST_OK);
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(a, &info));
        int16_t buf[CHUNK_FRAMES * 2];
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)buf, sizeof buf, NULL));
        int64_t first = info.timestamp / 10000 * CHUNK_FRAMES;
        for (int f = 0; f < CHUNK_FRAMES; f++)
            CHECK(abs(buf[2 * f] - tone_s16(first + f)) <= 1 && buf[2 * f] == buf[2 * f + 1]);
        CHECK_OK(mst_frame_free(a));
    }
    MstFileStats st = MST_STRUCT_INIT(MstFileStats);
    finish(sink, &st);
    EXPECT(st.frames_written == 10 && st.frames_dropped == 0, "tone: %llu written, %llu dropped; expected 10, 0",
           (unsigned long long)st.frames_written, (unsigned long long)st.frames_dropped);
    size_t len = 0;
    uint8_t *data = read_file("test_file_sinks_tone.wav", &len);
    EXPECT(st.bytes_written == len, "tone: bytes_written %llu, file size %zu", (unsigned long long)st.bytes_written, len);
    if (st.frames_written > 0 && len >= 44 + st.frames_written * CHUNK_BYTES) {
        check_wav_header("test_file_sinks_tone.wav", data, len, (uint32_t)(st.frames_written * CHUNK_BYTES));
        /* Which chunk comes first: the one whose first sample matches. */
        const int16_t *pcm = (const int16_t *)(data + 44);
        int start = -1;
        for (int c = 0; c < 10 && start < 0; c++) {
            int match = 1;
            for (int f = 0; f < CHUNK_FRAMES && match; f++) match = abs(pcm[2 * f] - tone_s16((int64_t)c * CHUNK_FRAMES + f)) <= 1;
            if (match) start = c;
        }
        EXPECT(start >= 0, "tone: the WAV's first chunk is none of the tone's 10");
        if (start >= 0) {
            size_t bad = 0;
            for (size_t i = 0; i < st.frames_written * CHUNK_FRAMES; i++)
                bad += abs(pcm[2 * i] - tone_s16((int64_t)start * CHUNK_FRAMES + (int64_t)i)) > 1 || pcm[2 * i] != pcm[2 * i + 1];
            EXPECT(bad == 0, "tone: %zu WAV frames are not the tone's consecutive samples", bad);
        }
    }
    free(data);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

static void check_errors(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    const char *path = "no-such-directory-for-libmst-tests/out.y4m";
    MstFileSink *sink = (MstFileSink *)(uintptr_t)0x5e5e;
    CHECK_STATUS(mst_file_sink_open(t, path, &sink), MST_ERR_IO);
    CHECK(sink == (MstFileSink *)(uintptr_t)0x5e5e);
    if (strstr(mst_last_error_message(), path) == NULL)
        MST_TEST_FAIL_("the I/O error message \"%s\" does not name the path", mst_last_error_message());
    MstFileStats st = MST_STRUCT_INIT(MstFileStats);
    CHECK_STATUS(mst_file_sink_stop(NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_file_sink_get_stats(NULL, &st), MST_ERR_NULL_ARG);
    CHECK_OK(mst_file_sink_free(NULL));
    /* Free alone is enough: it stops the sink first. */
    CHECK_OK(mst_file_sink_open(t, "test_file_sinks_nostats.y4m", &sink));
    CHECK_STATUS(mst_file_sink_get_stats(sink, NULL), MST_ERR_NULL_ARG);
    CHECK_OK(mst_file_sink_free(sink));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

int main(void) {
    check_errors();
    check_y4m_from_generator();
    check_y4m_from_test_pattern();
    check_wav_from_generator(0);
    check_wav_from_generator(1);
    check_wav_from_tone();
    const char *files[] = {"test_file_sinks_live.y4m",  "test_file_sinks_30fps.y4m", "test_file_sinks_ended.y4m",
                           "test_file_sinks_pattern.y4m", "test_file_sinks_live.wav", "test_file_sinks_ended.wav",
                           "test_file_sinks_tone.wav",  "test_file_sinks_nostats.y4m"};
    if (failures) {
        fprintf(stderr, "test_file_sinks: %d failures (files left in place)\n", failures);
        return 1;
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) unlink(files[i]);
    printf("test_file_sinks: ok\n");
    return 0;
}
