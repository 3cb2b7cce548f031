/* AudioData (WebCodecs): creation in each of the 8 sample formats and its validation, info,
 * allocationSize() and copyTo() with WebCodecs' RangeErrors, and sample format conversion on
 * copy (scaling, clamping, rounding, slicing by frame offset and count, any format to
 * f32-planar). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define CHANNELS 3
#define FRAMES 7

struct format_desc {
    int32_t format;
    const char *name;
    size_t bytes;
    int planar;
};

static const struct format_desc formats[] = {
    {MST_AUDIO_SAMPLE_FORMAT_U8, "u8", 1, 0},
    {MST_AUDIO_SAMPLE_FORMAT_S16, "s16", 2, 0},
    {MST_AUDIO_SAMPLE_FORMAT_S32, "s32", 4, 0},
    {MST_AUDIO_SAMPLE_FORMAT_F32, "f32", 4, 0},
    {MST_AUDIO_SAMPLE_FORMAT_U8_PLANAR, "u8-planar", 1, 1},
    {MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR, "s16-planar", 2, 1},
    {MST_AUDIO_SAMPLE_FORMAT_S32_PLANAR, "s32-planar", 4, 1},
    {MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR, "f32-planar", 4, 1},
};
#define NUM_FORMATS (sizeof formats / sizeof formats[0])

/* A u8 sample value for (channel, frame), 28..227, so every format holds it exactly. */
static int u8_value(unsigned c, unsigned f) { return 128 + (int)((c * 37 + f * 19) % 200) - 100; }

/* Writes the sample (v - 128) / 128 in `format` at element index `i` of `buf`. */
static void put_sample(const struct format_desc *d, uint8_t *buf, size_t i, int v) {
    switch (d->bytes) {
    case 1:
        buf[i] = (uint8_t)v;
        break;
    case 2: {
        int16_t s = (int16_t)((v - 128) * 256);
        memcpy(buf + 2 * i, &s, 2);
        break;
    }
    default:
        if (d->format == MST_AUDIO_SAMPLE_FORMAT_F32 || d->format == MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR) {
            float s = (float)(v - 128) / 128.0f;
            memcpy(buf + 4 * i, &s, 4);
        } else {
            int32_t s = (int32_t)(v - 128) * (1 << 24);
            memcpy(buf + 4 * i, &s, 4);
        }
    }
}

static size_t element_index(const struct format_desc *d, unsigned c, unsigned f, unsigned channels, unsigned frames) {
    return d->planar ? (size_t)c * frames + f : (size_t)f * channels + c;
}

static MstFrame *make_audio(const struct format_desc *d, int64_t timestamp) {
    uint8_t buf[CHANNELS * FRAMES * 4];
    memset(buf, 0, sizeof buf);
    for (unsigned c = 0; c < CHANNELS; c++)
        for (unsigned f = 0; f < FRAMES; f++) put_sample(d, buf, element_index(d, c, f, CHANNELS, FRAMES), u8_value(c, f));
    MstAudioDataInit init = {sizeof(MstAudioDataInit), d->format, 48000.0f, FRAMES, CHANNELS, timestamp};
    MstFrame *a = NULL;
    MstStatus s = mst_frame_create_audio(&init, buf, (size_t)CHANNELS * FRAMES * d->bytes, &a);
    if (s != MST_OK) MST_TEST_FAIL_("creating %s audio: %s (%s)", d->name, mst_status_str(s), mst_last_error_message());
    return a;
}

static MstAudioCopyOptions copy_options(uint32_t plane, uint32_t offset, uint32_t count, int32_t format) {
    MstAudioCopyOptions o = MST_STRUCT_INIT(MstAudioCopyOptions);
    o.plane_index = plane;
    o.frame_offset = offset;
    o.frame_count = count;
    o.format = format;
    return o;
}

static void check_create_and_info(void) {
    for (size_t i = 0; i < NUM_FORMATS; i++) {
        MstFrame *a = make_audio(&formats[i], 123456 + (int64_t)i);
        MstKind kind = (MstKind)0;
        CHECK_OK(mst_frame_get_kind(a, &kind));
        CHECK_EQ_INT(kind, MST_KIND_AUDIO);
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(a, &info));
        CHECK_EQ_INT(info.format, formats[i].format);
        CHECK(info.sample_rate == 48000.0f);
        CHECK_EQ_INT(info.number_of_frames, FRAMES);
        CHECK_EQ_INT(info.number_of_channels, CHANNELS);
        CHECK_EQ_INT(info.timestamp, 123456 + (int64_t)i);
        CHECK_EQ_INT(info.duration, (int64_t)FRAMES * 1000000 / 48000); /* 145.8 us */
        CHECK_EQ_INT(info.sequence, 0);
        /* Same-format copy with no options: the whole buffer (interleaved) or plane 0. */
        size_t size = 0;
        CHECK_OK(mst_frame_audio_allocation_size(a, NULL, &size));
        CHECK_EQ_INT(size, formats[i].bytes * FRAMES * (formats[i].planar ? 1 : CHANNELS));
        CHECK_OK(mst_frame_free(a));
    }

    /* Durations: frames x 1e6 / rate. */
    const struct {
        float rate;
        uint32_t frames;
        int64_t duration;
    } durations[] = {{48000.0f, 480, 10000}, {44100.0f, 441, 10000}, {48000.0f, 960, 20000}, {8000.0f, 8000, 1000000},
                     {16000.0f, 1, 62}};
    static uint8_t zeros[8000 * 4];
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        MstAudioDataInit init = {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_F32, durations[i].rate, durations[i].frames, 1, 0};
        MstFrame *a = NULL;
        CHECK_OK(mst_frame_create_audio(&init, zeros, sizeof zeros, &a));
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(a, &info));
        if (info.duration != durations[i].duration)
            MST_TEST_FAIL_("%u frames at %.0f Hz: duration %lld, expected %lld", durations[i].frames,
                           (double)durations[i].rate, (long long)info.duration, (long long)durations[i].duration);
        CHECK_OK(mst_frame_free(a));
    }

    /* Validation. */
    const MstAudioDataInit bad[] = {
        {sizeof(MstAudioDataInit), 0, 48000.0f, 4, 1, 0},
        {sizeof(MstAudioDataInit), 9, 48000.0f, 4, 1, 0},
        {sizeof(MstAudioDataInit), -1, 48000.0f, 4, 1, 0},
        {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_S16, 0.0f, 4, 1, 0},
        {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_S16, -48000.0f, 4, 1, 0},
        {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_S16, NAN, 4, 1, 0},
        {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_S16, INFINITY, 4, 1, 0},
        {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_S16, 48000.0f, 0, 1, 0},
        {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_S16, 48000.0f, 4, 0, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        MstFrame *a = (MstFrame *)(uintptr_t)0x5e5e;
        MstStatus s = mst_frame_create_audio(&bad[i], zeros, sizeof zeros, &a);
        if (s != MST_ERR_INVALID_ARG)
            MST_TEST_FAIL_("invalid AudioDataInit #%zu: %s, expected MST_ERR_INVALID_ARG", i, mst_status_str(s));
        CHECK(a == (MstFrame *)(uintptr_t)0x5e5e);
    }
    /* data_len one short, for every format. */
    for (size_t i = 0; i < NUM_FORMATS; i++) {
        MstAudioDataInit init = {sizeof(MstAudioDataInit), formats[i].format, 48000.0f, FRAMES, CHANNELS, 0};
        size_t need = formats[i].bytes * FRAMES * CHANNELS;
        MstFrame *a = NULL;
        CHECK_STATUS(mst_frame_create_audio(&init, zeros, need - 1, &a), MST_ERR_INVALID_ARG);
        CHECK_OK(mst_frame_create_audio(&init, zeros, need, &a));
        CHECK_OK(mst_frame_free(a));
    }
}

static void expect_range(MstFrame *a, MstAudioCopyOptions o, const char *what) {
    size_t size = 4321;
    MstStatus s = mst_frame_audio_allocation_size(a, &o, &size);
    if (s != MST_ERR_RANGE) MST_TEST_FAIL_("allocation size, %s: %s, expected MST_ERR_RANGE", what, mst_status_str(s));
    CHECK_EQ_INT(size, 4321);
    uint8_t dst[CHANNELS * FRAMES * 4 * 2];
    memset(dst, 0x6b, sizeof dst);
    s = mst_frame_audio_copy_to(a, dst, sizeof dst, &o);
    if (s != MST_ERR_RANGE) MST_TEST_FAIL_("copy_to, %s: %s, expected MST_ERR_RANGE", what, mst_status_str(s));
    for (size_t k = 0; k < sizeof dst; k++)
        if (dst[k] != 0x6b) MST_TEST_FAIL_("copy_to, %s: wrote byte %zu on failure", what, k);
}

static void check_allocation_sizes_and_ranges(void) {
    /* Sizes for every source and target pairing. */
    for (size_t s = 0; s < NUM_FORMATS; s++) {
        MstFrame *a = make_audio(&formats[s], 0);
        for (size_t t = 0; t < NUM_FORMATS; t++) {
            MstAudioCopyOptions o = copy_options(0, 0, 0, formats[t].format);
            size_t size = 0;
            CHECK_OK(mst_frame_audio_allocation_size(a, &o, &size));
            size_t want = formats[t].bytes * FRAMES * (formats[t].planar ? 1 : CHANNELS);
            if (size != want)
                MST_TEST_FAIL_("%s to %s: allocation size %zu, expected %zu", formats[s].name, formats[t].name, size, want);
            o = copy_options(formats[t].planar ? CHANNELS - 1 : 0, 2, 3, formats[t].format);
            CHECK_OK(mst_frame_audio_allocation_size(a, &o, &size));
            CHECK_EQ_INT(size, formats[t].bytes * 3 * (formats[t].planar ? 1 : CHANNELS));
            o = copy_options(0, 5, 0, formats[t].format); /* count 0: to the end */
            CHECK_OK(mst_frame_audio_allocation_size(a, &o, &size));
            CHECK_EQ_INT(size, formats[t].bytes * (FRAMES - 5) * (formats[t].planar ? 1 : CHANNELS));
        }
        CHECK_OK(mst_frame_free(a));
    }

    MstFrame *planar = make_audio(&formats[7], 0);      /* f32-planar */
    MstFrame *interleaved = make_audio(&formats[1], 0); /* s16 */
    /* An interleaved target has only plane 0. */
    expect_range(planar, copy_options(1, 0, 0, MST_AUDIO_SAMPLE_FORMAT_F32), "f32-planar to f32, plane 1");
    expect_range(interleaved, copy_options(1, 0, 0, 0), "s16 as itself, plane 1");
    expect_range(interleaved, copy_options(1, 0, 0, MST_AUDIO_SAMPLE_FORMAT_U8), "s16 to u8, plane 1");
    /* A planar target has one plane per channel. */
    expect_range(planar, copy_options(CHANNELS, 0, 0, 0), "f32-planar, plane = channels");
    expect_range(interleaved, copy_options(CHANNELS, 0, 0, MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR),
                 "s16 to s16-planar, plane = channels");
    expect_range(interleaved, copy_options(100, 0, 0, MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR), "plane 100");
    /* Frame offset and count. */
    expect_range(planar, copy_options(0, FRAMES, 0, 0), "frame offset = frames");
    expect_range(interleaved, copy_options(0, FRAMES + 10, 0, 0), "frame offset past the end");
    expect_range(planar, copy_options(0, 0, FRAMES + 1, 0), "frame count = frames + 1");
    expect_range(interleaved, copy_options(0, 3, FRAMES - 2, 0), "frame count past the end after an offset");
    /* The last frame alone is fine. */
    {
        size_t size = 0;
        MstAudioCopyOptions o = copy_options(CHANNELS - 1, FRAMES - 1, 1, 0);
        CHECK_OK(mst_frame_audio_allocation_size(planar, &o, &size));
        CHECK_EQ_INT(size, 4);
    }
    /* Destination too small: MST_ERR_RANGE and nothing written. */
    {
        uint8_t dst[FRAMES * CHANNELS * 2];
        memset(dst, 0x6b, sizeof dst);
        CHECK_STATUS(mst_frame_audio_copy_to(interleaved, dst, sizeof dst - 1, NULL), MST_ERR_RANGE);
        for (size_t k = 0; k < sizeof dst; k++) CHECK_EQ_INT(dst[k], 0x6b);
        MstAudioCopyOptions o = copy_options(0, 0, 0, MST_AUDIO_SAMPLE_FORMAT_F32); /* needs twice as much */
        CHECK_STATUS(mst_frame_audio_copy_to(interleaved, dst, sizeof dst, &o), MST_ERR_RANGE);
        for (size_t k = 0; k < sizeof dst; k++) CHECK_EQ_INT(dst[k], 0x6b);
        CHECK_OK(mst_frame_audio_copy_to(interleaved, dst, sizeof dst, NULL));
    }
    /* An unknown target format is not a RangeError. */
    {
        size_t size = 0;
        MstAudioCopyOptions o = copy_options(0, 0, 0, 9);
        CHECK_STATUS(mst_frame_audio_allocation_size(planar, &o, &size), MST_ERR_INVALID_ARG);
    }
    CHECK_OK(mst_frame_free(planar));
    CHECK_OK(mst_frame_free(interleaved));
}

static MstFrame *make_raw(int32_t format, unsigned channels, unsigned frames, const void *data, size_t len) {
    MstAudioDataInit init = {sizeof(MstAudioDataInit), format, 48000.0f, frames, channels, 0};
    MstFrame *a = NULL;
    CHECK_OK(mst_frame_create_audio(&init, data, len, &a));
    return a;
}

static void check_conversions(void) {
    /* s16 interleaved stereo to f32-planar plane 1: channel 1 / 32768. */
    {
        const int16_t right[] = {-32768, -16384, -1, 0, 1, 16384, 32767};
        int16_t src[2 * 7];
        for (int f = 0; f < 7; f++) {
            src[2 * f] = (int16_t)(1000 + f); /* channel 0: must not leak into plane 1 */
            src[2 * f + 1] = right[f];
        }
        MstFrame *a = make_raw(MST_AUDIO_SAMPLE_FORMAT_S16, 2, 7, src, sizeof src);
        float dst[7];
        MstAudioCopyOptions o = copy_options(1, 0, 0, MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR);
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)dst, sizeof dst, &o));
        for (int f = 0; f < 7; f++)
            if (dst[f] != (float)right[f] / 32768.0f)
                MST_TEST_FAIL_("s16 %d to f32: %.9g, expected %.9g", right[f], (double)dst[f], (double)right[f] / 32768.0);
        /* And plane 0 gets channel 0. */
        o.plane_index = 0;
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)dst, sizeof dst, &o));
        for (int f = 0; f < 7; f++) CHECK(dst[f] == (float)(1000 + f) / 32768.0f);
        CHECK_OK(mst_frame_free(a));
    }
    /* f32 to s16: clamped beyond +-1, rounded (not truncated). */
    {
        const float in[] = {1.5f, -1.5f, 1.0f, -1.0f, 0.25f, 0.1f, -0.1f, 0.5f, 0.0f, 100.0f, -100.0f};
        const int16_t want[] = {32767, -32768, 32767, -32768, 8192, 3277, -3277, 16384, 0, 32767, -32768};
        enum { N = sizeof in / sizeof in[0] };
        MstFrame *a = make_raw(MST_AUDIO_SAMPLE_FORMAT_F32, 1, N, in, sizeof in);
        int16_t out[N];
        MstAudioCopyOptions o = copy_options(0, 0, 0, MST_AUDIO_SAMPLE_FORMAT_S16);
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)out, sizeof out, &o));
        for (int i = 0; i < N; i++)
            if (out[i] != want[i]) MST_TEST_FAIL_("f32 %g to s16: %d, expected %d", (double)in[i], out[i], want[i]);
        /* f32 to u8 clamps too. */
        uint8_t u8[N];
        o.format = MST_AUDIO_SAMPLE_FORMAT_U8;
        CHECK_OK(mst_frame_audio_copy_to(a, u8, sizeof u8, &o));
        CHECK_EQ_INT(u8[0], 255);
        CHECK_EQ_INT(u8[1], 0);
        CHECK_EQ_INT(u8[7], 192);
        CHECK_EQ_INT(u8[8], 128);
        CHECK_OK(mst_frame_free(a));
    }
    /* u8 to f32: (x - 128) / 128. */
    {
        const uint8_t in[] = {0, 1, 64, 127, 128, 129, 192, 255};
        enum { N = sizeof in };
        MstFrame *a = make_raw(MST_AUDIO_SAMPLE_FORMAT_U8, 1, N, in, sizeof in);
        float out[N];
        MstAudioCopyOptions o = copy_options(0, 0, 0, MST_AUDIO_SAMPLE_FORMAT_F32);
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)out, sizeof out, &o));
        for (int i = 0; i < N; i++)
            if (out[i] != (float)(in[i] - 128) / 128.0f)
                MST_TEST_FAIL_("u8 %u to f32: %.9g, expected %.9g", in[i], (double)out[i], (in[i] - 128) / 128.0);
        CHECK_OK(mst_frame_free(a));
    }
    /* s16 to u8: (x >> 8) + 128. */
    {
        const int16_t in[] = {-32768, -257, -256, -1, 0, 255, 256, 32767};
        const uint8_t want[] = {0, 126, 127, 127, 128, 128, 129, 255};
        enum { N = sizeof in / sizeof in[0] };
        MstFrame *a = make_raw(MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR, 1, N, in, sizeof in);
        uint8_t out[N];
        MstAudioCopyOptions o = copy_options(0, 0, 0, MST_AUDIO_SAMPLE_FORMAT_U8);
        CHECK_OK(mst_frame_audio_copy_to(a, out, sizeof out, &o));
        for (int i = 0; i < N; i++)
            if (out[i] != want[i]) MST_TEST_FAIL_("s16 %d to u8: %u, expected %u", in[i], out[i], want[i]);
        CHECK_OK(mst_frame_free(a));
    }
    /* Frame offset and count slice the right samples. */
    {
        enum { C = 3, F = 10 };
        int16_t planar[C * F];
        for (int c = 0; c < C; c++)
            for (int f = 0; f < F; f++) planar[c * F + f] = (int16_t)(c * 100 + f);
        MstFrame *a = make_raw(MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR, C, F, planar, sizeof planar);
        int16_t out[C * F];
        MstAudioCopyOptions o = copy_options(2, 3, 4, 0); /* plane 2, frames 3..6 */
        size_t size = 0;
        CHECK_OK(mst_frame_audio_allocation_size(a, &o, &size));
        CHECK_EQ_INT(size, 4 * 2);
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)out, sizeof out, &o));
        for (int i = 0; i < 4; i++) CHECK_EQ_INT(out[i], 200 + 3 + i);
        o = copy_options(0, 6, 3, MST_AUDIO_SAMPLE_FORMAT_S16); /* interleave frames 6..8 */
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)out, sizeof out, &o));
        for (int f = 0; f < 3; f++)
            for (int c = 0; c < C; c++) CHECK_EQ_INT(out[f * C + c], c * 100 + 6 + f);
        o = copy_options(1, 8, 0, MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR); /* to the end */
        float fout[F];
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)fout, sizeof fout, &o));
        CHECK(fout[0] == 108.0f / 32768.0f);
        CHECK(fout[1] == 109.0f / 32768.0f);
        CHECK_OK(mst_frame_free(a));

        int16_t inter[C * F];
        for (int f = 0; f < F; f++)
            for (int c = 0; c < C; c++) inter[f * C + c] = (int16_t)(c * 100 + f);
        a = make_raw(MST_AUDIO_SAMPLE_FORMAT_S16, C, F, inter, sizeof inter);
        o = copy_options(0, 2, 5, 0); /* interleaved frames 2..6 */
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)out, sizeof out, &o));
        for (int f = 0; f < 5; f++)
            for (int c = 0; c < C; c++) CHECK_EQ_INT(out[f * C + c], c * 100 + 2 + f);
        o = copy_options(1, 4, 2, MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR); /* deinterleave channel 1 */
        CHECK_OK(mst_frame_audio_copy_to(a, (uint8_t *)out, sizeof out, &o));
        CHECK_EQ_INT(out[0], 104);
        CHECK_EQ_INT(out[1], 105);
        CHECK_OK(mst_frame_free(a));
    }
    /* Every format converts to f32-planar, every plane. */
    for (size_t s = 0; s < NUM_FORMATS; s++) {
        MstFrame *a = make_audio(&formats[s], 0);
        for (unsigned c = 0; c < CHANNELS; c++) {
            float out[FRAMES];
            MstAudioCopyOptions o = copy_options(c, 0, 0, MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR);
            MstStatus st = mst_frame_audio_copy_to(a, (uint8_t *)out, sizeof out, &o);
            if (st != MST_OK)
                MST_TEST_FAIL_("%s to f32-planar plane %u: %s (%s)", formats[s].name, c, mst_status_str(st),
                               mst_last_error_message());
            for (unsigned f = 0; f < FRAMES; f++) {
                float want = (float)(u8_value(c, f) - 128) / 128.0f;
                if (out[f] != want)
                    MST_TEST_FAIL_("%s to f32-planar: channel %u frame %u = %.9g, expected %.9g", formats[s].name, c, f,
                                   (double)out[f], (double)want);
            }
        }
        /* And every format to every other, checked through the exact u8 value. */
        for (size_t t = 0; t < NUM_FORMATS; t++) {
            uint8_t out[CHANNELS * FRAMES * 4];
            unsigned planes = formats[t].planar ? CHANNELS : 1;
            for (unsigned p = 0; p < planes; p++) {
                MstAudioCopyOptions o = copy_options(p, 0, 0, formats[t].format);
                CHECK_OK(mst_frame_audio_copy_to(a, out, sizeof out, &o));
                unsigned chans = formats[t].planar ? 1 : CHANNELS;
                for (unsigned f = 0; f < FRAMES; f++)
                    for (unsigned k = 0; k < chans; k++) {
                        unsigned c = formats[t].planar ? p : k;
                        uint8_t want[4];
                        put_sample(&formats[t], want, 0, u8_value(c, f));
                        const uint8_t *got = out + ((size_t)f * chans + k) * formats[t].bytes;
                        if (memcmp(got, want, formats[t].bytes) != 0)
                            MST_TEST_FAIL_("%s to %s: channel %u frame %u differs", formats[s].name, formats[t].name, c,
                                           f);
                    }
            }
        }
        CHECK_OK(mst_frame_free(a));
    }
}

int main(void) {
    check_create_and_info();
    check_allocation_sizes_and_ranges();
    check_conversions();
    printf("test_audio_data: ok\n");
    return 0;
}
