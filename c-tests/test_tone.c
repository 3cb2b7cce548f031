/* mst_track_create_tone(): default shape (48 kHz f32 mono, 480-frame chunks), the samples are
 * amplitude x sin(2 pi f t) at the chunk's timestamp (peak and zero-crossing frequency over
 * 100 ms), every channel carries the same tone, timestamps are n x 10 ms, a chunk-counted source
 * ends with MST_END_REASON_SOURCE_ENDED, and option validation.
 *
 * An unpaced, chunk-counted tone starts with its first consumer and lets queues drain before it
 * ends, so a reader that keeps up gets every chunk. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define HANG_GUARD_MS 60000
#define RATE 48000
#define CHUNK 480
#define CHUNKS 10
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static MstToneOptions tone_options(double freq, double amp, int32_t format, uint32_t channels, uint64_t count) {
    MstToneOptions o = MST_STRUCT_INIT(MstToneOptions);
    o.frequency = freq;
    o.amplitude = amp;
    o.format = format;
    o.channels = channels;
    o.unpaced = true;
    o.chunk_count = count;
    return o;
}

static double expected_sample(double freq, double amp, int64_t frame_index) {
    return amp * sin(2.0 * M_PI * freq * (double)frame_index / RATE);
}

/* Frame index of the chunk's first sample, from its timestamp (a multiple of 10 ms). */
static int64_t first_index(const MstAudioDataInfo *info) {
    CHECK_EQ_INT(info->timestamp % 10000, 0);
    return info->timestamp / 10000 * CHUNK;
}

static void check_defaults(void) {
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_tone(NULL, &t));
    MstKind kind = (MstKind)0;
    CHECK_OK(mst_track_get_kind(t, &kind));
    CHECK_EQ_INT(kind, MST_KIND_AUDIO);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, NULL, &p));
    MstFrame *a = NULL;
    CHECK_OK(mst_processor_read(p, HANG_GUARD_MS, &a)); /* real time: 10 ms a chunk */
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    CHECK_OK(mst_frame_get_audio_info(a, &info));
    CHECK_EQ_INT(info.format, MST_AUDIO_SAMPLE_FORMAT_F32);
    CHECK(info.sample_rate == 48000.0f);
    CHECK_EQ_INT(info.number_of_channels, 1);
    CHECK_EQ_INT(info.number_of_frames, CHUNK);
    CHECK_EQ_INT(info.duration, 10000);
    /* The default tone is 440 Hz at amplitude 0.5. */
    float s[CHUNK];
    CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)s, sizeof s, NULL));
    int64_t first = first_index(&info);
    for (int i = 0; i < CHUNK; i++)
        if (fabs(s[i] - expected_sample(440, 0.5, first + i)) > 1e-4)
            MST_TEST_FAIL_("default tone sample %d of chunk at %lld: %g, expected %g", i, (long long)info.timestamp,
                           (double)s[i], expected_sample(440, 0.5, first + i));
    CHECK_OK(mst_frame_free(a));
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p, &st));
    CHECK(st.max_buffer_size >= 1);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

/* 10 consecutive chunks (100 ms) of a 1 kHz tone at 0.5: each sample where it belongs, the
 * peak, and the frequency from zero crossings. */
static void check_sine(void) {
    MstToneOptions o = tone_options(1000, 0.5, MST_AUDIO_SAMPLE_FORMAT_F32, 1, 0);
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_tone(&o, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1000), &p));
    static float signal[CHUNKS * CHUNK];
    int have = 0;
    uint64_t last_seq = 0;
    int64_t last_ts = 0;
    while (have < CHUNKS) {
        MstFrame *a = NULL;
        CHECK_OK(mst_processor_read(p, HANG_GUARD_MS, &a));
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(a, &info));
        CHECK_EQ_INT(info.number_of_frames, CHUNK);
        if (have > 0 && info.sequence != last_seq + 1) have = 0; /* a gap: start again */
        if (have > 0) CHECK_EQ_INT(info.timestamp, last_ts + 10000);
        last_seq = info.sequence;
        last_ts = info.timestamp;
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)(signal + have * CHUNK), CHUNK * sizeof(float), NULL));
        int64_t first = first_index(&info);
        for (int i = 0; i < CHUNK; i++) {
            double want = expected_sample(1000, 0.5, first + i);
            if (fabs(signal[have * CHUNK + i] - want) > 1e-4)
                MST_TEST_FAIL_("1 kHz tone: sample %d of the chunk at %lld is %g, expected %g", i,
                               (long long)info.timestamp, (double)signal[have * CHUNK + i], want);
        }
        CHECK_OK(mst_frame_free(a));
        have++;
    }
    CHECK_OK(mst_track_stop(t));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));

    double peak = 0;
    int crossings = 0;
    for (int i = 0; i < CHUNKS * CHUNK; i++) {
        if (fabs(signal[i]) > peak) peak = fabs(signal[i]);
        if (i > 0 && (signal[i - 1] < 0) != (signal[i] < 0)) crossings++;
    }
    if (fabs(peak - 0.5) > 0.01) MST_TEST_FAIL_("peak %g, expected 0.5 +- 0.01", peak);
    double freq = crossings / 2.0 / 0.1; /* two crossings a period, over 100 ms */
    if (fabs(freq - 1000) > 20) MST_TEST_FAIL_("%d zero crossings in 100 ms: %g Hz, expected 1000 +- 20", crossings, freq);
}

/* Every channel carries the same tone, interleaved or planar. */
static void check_channels(int32_t format) {
    const uint32_t channels = 2;
    MstToneOptions o = tone_options(1000, 0.5, format, channels, 0);
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_tone(&o, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(100), &p));
    for (int n = 0; n < 3; n++) {
        MstFrame *a = NULL;
        CHECK_OK(mst_processor_read(p, HANG_GUARD_MS, &a));
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(a, &info));
        CHECK_EQ_INT(info.format, format);
        CHECK_EQ_INT(info.number_of_channels, channels);
        CHECK_EQ_INT(info.number_of_frames, CHUNK);
        int16_t s[CHUNK * 2];
        if (format == MST_AUDIO_SAMPLE_FORMAT_S16) {
            CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)s, sizeof s, NULL));
        } else { /* planar: plane c to s[c * CHUNK] */
            for (uint32_t c = 0; c < channels; c++) {
                MstAudioCopyOptions co = {sizeof(MstAudioCopyOptions), c, 0, 0, 0};
                CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)(s + c * CHUNK), CHUNK * sizeof(int16_t), &co));
            }
        }
        int64_t first = first_index(&info);
        int nonzero = 0;
        for (int i = 0; i < CHUNK; i++) {
            int16_t l = format == MST_AUDIO_SAMPLE_FORMAT_S16 ? s[2 * i] : s[i];
            int16_t r = format == MST_AUDIO_SAMPLE_FORMAT_S16 ? s[2 * i + 1] : s[CHUNK + i];
            if (l != r) MST_TEST_FAIL_("format %d: frame %d has channels %d and %d", (int)format, i, l, r);
            double want = expected_sample(1000, 0.5, first + i) * 32768.0;
            if (fabs(l - want) > 1.5) MST_TEST_FAIL_("format %d: sample %d is %d, expected %g", (int)format, i, l, want);
            nonzero += l != 0;
        }
        CHECK(nonzero > CHUNK / 2);
        CHECK_OK(mst_frame_free(a));
    }
    CHECK_OK(mst_track_stop(t));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

/* A chunk-counted unpaced tone: every chunk, in order at n x 10 ms, then the end. */
static void check_chunk_count(void) {
    MstToneOptions o = tone_options(1000, 0.5, 0, 0, CHUNKS);
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_tone(&o, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(1000), &p));
    int n = 0;
    int64_t last_ts = -1;
    for (;;) {
        MstFrame *a = NULL;
        MstStatus s = mst_processor_read(p, HANG_GUARD_MS, &a);
        if (s == MST_ERR_ENDED) break;
        CHECK_STATUS(s, MST_OK);
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(a, &info));
        CHECK_EQ_INT(info.timestamp % 10000, 0);
        CHECK(info.timestamp > last_ts);
        CHECK(info.timestamp < CHUNKS * 10000);
        last_ts = info.timestamp;
        float s0;
        MstAudioCopyOptions co = {sizeof(MstAudioCopyOptions), 0, 0, 1, 0};
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)&s0, sizeof s0, &co));
        CHECK(fabs(s0 - expected_sample(1000, 0.5, first_index(&info))) < 1e-4);
        CHECK_OK(mst_frame_free(a));
        n++;
    }
    CHECK_EQ_INT(n, CHUNKS);
    MstEndReason why;
    CHECK_OK(mst_track_get_end_reason(t, &why));
    CHECK_EQ_INT(why, MST_END_REASON_SOURCE_ENDED);
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p, &st));
    CHECK(st.total <= CHUNKS);
    CHECK_EQ_INT(st.total, st.delivered + st.discarded + st.queued);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));

    /* Chunk size and rate of one's own: 441 frames at 44.1 kHz is still 10 ms a chunk. */
    o = tone_options(500, 0.25, MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR, 3, 0);
    o.sample_rate = 44100;
    o.chunk_frames = 441;
    CHECK_OK(mst_track_create_tone(&o, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(100), &p));
    MstFrame *a = NULL, *b = NULL;
    CHECK_OK(mst_processor_read(p, HANG_GUARD_MS, &a));
    CHECK_OK(mst_processor_read(p, HANG_GUARD_MS, &b));
    MstAudioDataInfo ia = MST_STRUCT_INIT(MstAudioDataInfo);
    MstAudioDataInfo ib = MST_STRUCT_INIT(MstAudioDataInfo);
    CHECK_OK(mst_frame_get_audio_info(a, &ia));
    CHECK_OK(mst_frame_get_audio_info(b, &ib));
    CHECK(ia.sample_rate == 44100.0f);
    CHECK_EQ_INT(ia.number_of_frames, 441);
    CHECK_EQ_INT(ia.number_of_channels, 3);
    CHECK_EQ_INT(ia.duration, 10000);
    CHECK_EQ_INT(ia.timestamp % 10000, 0);
    CHECK_EQ_INT(ib.timestamp - ia.timestamp, (int64_t)(ib.sequence - ia.sequence) * 10000);
    CHECK_OK(mst_frame_free(a));
    CHECK_OK(mst_frame_free(b));
    CHECK_OK(mst_track_stop(t));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

static void check_invalid(void) {
    struct {
        MstToneOptions o;
        const char *what;
    } cases[] = {
        {tone_options(24000, 0.5, 0, 1, 1), "frequency at Nyquist"},
        {tone_options(30000, 0.5, 0, 1, 1), "frequency above Nyquist"},
        {tone_options(-440, 0.5, 0, 1, 1), "negative frequency"},
        {tone_options(NAN, 0.5, 0, 1, 1), "NaN frequency"},
        {tone_options(440, 1.5, 0, 1, 1), "amplitude 1.5"},
        {tone_options(440, -0.5, 0, 1, 1), "amplitude -0.5"},
        {tone_options(440, 0.5, 0, 33, 1), "33 channels"},
        {tone_options(440, 0.5, 0, 64, 1), "64 channels"},
        {tone_options(440, 0.5, 9, 1, 1), "format 9"},
        {tone_options(440, 0.5, -1, 1, 1), "format -1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        MstTrack *t = (MstTrack *)(uintptr_t)0x5e5e;
        MstStatus s = mst_track_create_tone(&cases[i].o, &t);
        if (s != MST_ERR_INVALID_ARG)
            MST_TEST_FAIL_("tone with %s: %s, expected MST_ERR_INVALID_ARG", cases[i].what, mst_status_str(s));
        CHECK(t == (MstTrack *)(uintptr_t)0x5e5e);
    }
    /* Nyquist depends on the rate: 10 kHz is fine at 48 kHz, not at 16 kHz. */
    MstToneOptions o = tone_options(10000, 0.5, 0, 1, 1);
    o.sample_rate = 16000;
    MstTrack *t = NULL;
    CHECK_STATUS(mst_track_create_tone(&o, &t), MST_ERR_INVALID_ARG);
    o.sample_rate = 0; /* the default 48 kHz */
    CHECK_OK(mst_track_create_tone(&o, &t));
    CHECK_OK(mst_track_free(t));
    /* Zero fields are defaults, and the limits are valid. */
    MstToneOptions ok[] = {tone_options(0, 0, 0, 0, 1), tone_options(440, 1.0, 0, 32, 1)};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_OK(mst_track_create_tone(&ok[i], &t));
        CHECK_OK(mst_track_free(t));
    }
}

int main(void) {
    check_defaults();
    check_sine();
    check_channels(MST_AUDIO_SAMPLE_FORMAT_S16);
    check_channels(MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR);
    check_chunk_count();
    check_invalid();
    printf("test_tone: ok\n");
    return 0;
}
