/* VideoFrame creation by copy (WebCodecs' `new VideoFrame(buffer, init)`): every format at an
 * odd size from a padded, out-of-order layout reads back tightly packed and equal; the info
 * fields and their defaults; and every validation error of VideoFrameBufferInit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define W 33
#define H 17

struct plane_geometry {
    unsigned sub_x, sub_y, bytes_per_sample;
};

struct format_desc {
    int32_t format;
    const char *name;
    unsigned num_planes;
    struct plane_geometry planes[4];
};

static const struct format_desc formats[] = {
    {MST_VIDEO_PIXEL_FORMAT_I420, "I420", 3, {{1, 1, 1}, {2, 2, 1}, {2, 2, 1}}},
    {MST_VIDEO_PIXEL_FORMAT_I420A, "I420A", 4, {{1, 1, 1}, {2, 2, 1}, {2, 2, 1}, {1, 1, 1}}},
    {MST_VIDEO_PIXEL_FORMAT_I422, "I422", 3, {{1, 1, 1}, {2, 1, 1}, {2, 1, 1}}},
    {MST_VIDEO_PIXEL_FORMAT_I444, "I444", 3, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}},
    {MST_VIDEO_PIXEL_FORMAT_NV12, "NV12", 2, {{1, 1, 1}, {2, 2, 2}}},
    {MST_VIDEO_PIXEL_FORMAT_RGBA, "RGBA", 1, {{1, 1, 4}}},
    {MST_VIDEO_PIXEL_FORMAT_RGBX, "RGBX", 1, {{1, 1, 4}}},
    {MST_VIDEO_PIXEL_FORMAT_BGRA, "BGRA", 1, {{1, 1, 4}}},
    {MST_VIDEO_PIXEL_FORMAT_BGRX, "BGRX", 1, {{1, 1, 4}}},
};
#define NUM_FORMATS (sizeof formats / sizeof formats[0])

static const struct format_desc *find_format(int32_t f) {
    for (size_t i = 0; i < NUM_FORMATS; i++)
        if (formats[i].format == f) return &formats[i];
    MST_TEST_FAIL_("no format %d", (int)f);
}

static size_t row_bytes(const struct format_desc *d, unsigned p, unsigned w) {
    return (size_t)((w + d->planes[p].sub_x - 1) / d->planes[p].sub_x) * d->planes[p].bytes_per_sample;
}
static size_t rows(const struct format_desc *d, unsigned p, unsigned h) {
    return (h + d->planes[p].sub_y - 1) / d->planes[p].sub_y;
}
static size_t packed_size(const struct format_desc *d, unsigned w, unsigned h) {
    size_t n = 0;
    for (unsigned p = 0; p < d->num_planes; p++) n += row_bytes(d, p, w) * rows(d, p, h);
    return n;
}

/* The byte at column byte `x`, row `y` of plane `p`. */
static uint8_t sample(unsigned p, size_t x, size_t y) {
    return (uint8_t)(p * 61 + x * 7 + y * 13 + 1);
}

/* A padded layout (stride = row + 5 + p) with the planes stored last-first, 3 bytes apart;
 * returns the WebCodecs allocation size: the largest offset + stride x rows. */
static size_t padded_layout(const struct format_desc *d, unsigned w, unsigned h, MstPlaneLayout layout[4]) {
    size_t offset = 3;
    size_t end = 0;
    for (unsigned i = d->num_planes; i-- > 0;) {
        layout[i].offset = offset;
        layout[i].stride = row_bytes(d, i, w) + 5 + i;
        offset += layout[i].stride * rows(d, i, h) + 3;
        size_t plane_end = layout[i].offset + layout[i].stride * rows(d, i, h);
        if (plane_end > end) end = plane_end;
    }
    return end;
}

static void fill(const struct format_desc *d, unsigned w, unsigned h, const MstPlaneLayout *layout,
                 uint8_t *buf, size_t len) {
    memset(buf, 0xee, len);
    for (unsigned p = 0; p < d->num_planes; p++)
        for (size_t y = 0; y < rows(d, p, h); y++)
            for (size_t x = 0; x < row_bytes(d, p, w); x++)
                buf[layout[p].offset + y * layout[p].stride + x] = sample(p, x, y);
}

static void check_round_trip(const struct format_desc *d) {
    MstVideoFrameInit init = mst_test_video_init(d->format, W, H, 0);
    init.timestamp = 1000000 + d->format;
    init.num_planes = d->num_planes;
    size_t len = padded_layout(d, W, H, init.layout);
    uint8_t *src = malloc(len); /* exactly the needed size: an over-read shows under valgrind */
    CHECK(src != NULL);
    fill(d, W, H, init.layout, src, len);

    MstFrame *f = NULL;
    MstStatus s = mst_frame_create_video(&init, src, len, &f);
    if (s != MST_OK)
        MST_TEST_FAIL_("%s %dx%d from a padded layout: %s (%s)", d->name, W, H, mst_status_str(s),
                       mst_last_error_message());
    memset(src, 0, len); /* the frame holds a copy */
    free(src);

    MstKind kind = (MstKind)0;
    CHECK_OK(mst_frame_get_kind(f, &kind));
    CHECK_EQ_INT(kind, MST_KIND_VIDEO);
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.format, d->format);
    CHECK_EQ_INT(info.coded_width, W);
    CHECK_EQ_INT(info.coded_height, H);
    CHECK_EQ_INT(info.visible_rect.x, 0);
    CHECK_EQ_INT(info.visible_rect.y, 0);
    CHECK_EQ_INT(info.visible_rect.width, W);
    CHECK_EQ_INT(info.visible_rect.height, H);
    CHECK_EQ_INT(info.display_width, W);
    CHECK_EQ_INT(info.display_height, H);
    CHECK_EQ_INT(info.timestamp, 1000000 + d->format);
    CHECK_EQ_INT(info.duration, 0);
    CHECK_EQ_INT(info.num_planes, d->num_planes);
    CHECK_EQ_INT(info.sequence, 0);

    size_t want = packed_size(d, W, H);
    size_t size = 0;
    CHECK_OK(mst_frame_video_allocation_size(f, NULL, &size));
    if (size != want) MST_TEST_FAIL_("%s allocation size %zu, expected %zu", d->name, size, want);
    uint8_t *dst = malloc(want);
    CHECK(dst != NULL);
    memset(dst, 0x11, want);
    MstPlaneLayouts out = MST_STRUCT_INIT(MstPlaneLayouts);
    CHECK_OK(mst_frame_video_copy_to(f, dst, want, NULL, &out));
    CHECK_EQ_INT(out.count, d->num_planes);
    size_t offset = 0;
    for (unsigned p = 0; p < d->num_planes; p++) {
        size_t row = row_bytes(d, p, W);
        if (out.planes[p].offset != offset || out.planes[p].stride != row)
            MST_TEST_FAIL_("%s plane %u written at offset %zu stride %zu, expected packed %zu/%zu", d->name, p,
                           out.planes[p].offset, out.planes[p].stride, offset, row);
        for (size_t y = 0; y < rows(d, p, H); y++)
            for (size_t x = 0; x < row; x++) {
                uint8_t got = dst[offset + y * row + x];
                if (got != sample(p, x, y))
                    MST_TEST_FAIL_("%s plane %u byte (%zu,%zu) = %u, expected %u", d->name, p, x, y, got,
                                   sample(p, x, y));
            }
        offset += row * rows(d, p, H);
    }
    free(dst);
    CHECK_OK(mst_frame_free(f));
}

/* mst_frame_create_video(init) fails with MST_ERR_INVALID_ARG and writes nothing. */
static void expect_invalid(const MstVideoFrameInit *init, const uint8_t *data, size_t len, const char *what,
                           int line) {
    MstFrame *f = (MstFrame *)(uintptr_t)0x5e5e;
    MstStatus s = mst_frame_create_video(init, data, len, &f);
    if (s != MST_ERR_INVALID_ARG) {
        fprintf(stderr, "%s:%d: %s: got %s, expected MST_ERR_INVALID_ARG\n", __FILE__, line, what,
                mst_status_str(s));
        exit(1);
    }
    if (f != (MstFrame *)(uintptr_t)0x5e5e) {
        fprintf(stderr, "%s:%d: %s: *out was written on failure\n", __FILE__, line, what);
        exit(1);
    }
}
#define EXPECT_INVALID(init, data, len, what) expect_invalid(init, data, len, what, __LINE__)

/* Creation succeeds; returns the frame's info. */
static MstVideoFrameInfo expect_ok(const MstVideoFrameInit *init, const uint8_t *data, size_t len, const char *what) {
    MstFrame *f = NULL;
    MstStatus s = mst_frame_create_video(init, data, len, &f);
    if (s != MST_OK) MST_TEST_FAIL_("%s: %s (%s)", what, mst_status_str(s), mst_last_error_message());
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_OK(mst_frame_free(f));
    return info;
}

static void check_visible_rect_alignment(const uint8_t *big, size_t big_len) {
    struct {
        int32_t format;
        MstRect rect;
        int valid;
        const char *what;
    } cases[] = {
        {MST_VIDEO_PIXEL_FORMAT_I420, {1, 0, 10, 10}, 0, "I420 visible x=1"},
        {MST_VIDEO_PIXEL_FORMAT_I420, {0, 1, 10, 10}, 0, "I420 visible y=1"},
        {MST_VIDEO_PIXEL_FORMAT_I420A, {1, 0, 10, 10}, 0, "I420A visible x=1"},
        {MST_VIDEO_PIXEL_FORMAT_I420A, {0, 1, 10, 10}, 0, "I420A visible y=1"},
        {MST_VIDEO_PIXEL_FORMAT_NV12, {0, 1, 10, 10}, 0, "NV12 visible y=1"},
        {MST_VIDEO_PIXEL_FORMAT_NV12, {1, 0, 10, 10}, 0, "NV12 visible x=1"},
        {MST_VIDEO_PIXEL_FORMAT_I422, {1, 0, 10, 10}, 0, "I422 visible x=1"},
        {MST_VIDEO_PIXEL_FORMAT_I422, {0, 1, 10, 9}, 1, "I422 visible y=1"},
        {MST_VIDEO_PIXEL_FORMAT_I444, {1, 1, 9, 9}, 1, "I444 visible (1,1)"},
        {MST_VIDEO_PIXEL_FORMAT_RGBA, {1, 1, 9, 9}, 1, "RGBA visible (1,1)"},
        {MST_VIDEO_PIXEL_FORMAT_I420, {2, 4, 11, 7}, 1, "I420 visible (2,4) odd size"},
        {MST_VIDEO_PIXEL_FORMAT_NV12, {2, 2, 10, 10}, 1, "NV12 visible (2,2)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        MstVideoFrameInit init = mst_test_video_init(cases[i].format, W, H, 0);
        init.visible_rect = cases[i].rect;
        if (!cases[i].valid) {
            EXPECT_INVALID(&init, big, big_len, cases[i].what);
            continue;
        }
        MstVideoFrameInfo info = expect_ok(&init, big, big_len, cases[i].what);
        if (info.visible_rect.x != cases[i].rect.x || info.visible_rect.y != cases[i].rect.y ||
            info.visible_rect.width != cases[i].rect.width || info.visible_rect.height != cases[i].rect.height)
            MST_TEST_FAIL_("%s: info has visible rect (%u,%u %ux%u)", cases[i].what, info.visible_rect.x,
                           info.visible_rect.y, info.visible_rect.width, info.visible_rect.height);
        /* The display size defaults to the visible size, not the coded size. */
        CHECK_EQ_INT(info.display_width, cases[i].rect.width);
        CHECK_EQ_INT(info.display_height, cases[i].rect.height);
        CHECK_EQ_INT(info.coded_width, W);
        CHECK_EQ_INT(info.coded_height, H);
    }
}

int main(void) {
    for (size_t i = 0; i < NUM_FORMATS; i++) check_round_trip(&formats[i]);

    /* Enough bytes for any format at any size used below. */
    size_t big_len = (size_t)64 * 64 * 4 + 4096;
    uint8_t *big = calloc(1, big_len);
    CHECK(big != NULL);

    /* Set duration and display size show up in the info. */
    {
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 0);
        init.timestamp = -5;
        init.duration = 40000;
        init.display_width = 66;
        init.display_height = 20;
        MstVideoFrameInfo info = expect_ok(&init, big, big_len, "duration and display size");
        CHECK_EQ_INT(info.timestamp, -5);
        CHECK_EQ_INT(info.duration, 40000);
        CHECK_EQ_INT(info.display_width, 66);
        CHECK_EQ_INT(info.display_height, 20);
        CHECK_EQ_INT(info.visible_rect.width, W);
    }

    /* Coded size. */
    {
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 0, H, 0);
        EXPECT_INVALID(&init, big, big_len, "coded width 0");
        init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, 0, 0);
        EXPECT_INVALID(&init, big, big_len, "coded height 0");
        init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_RGBA, 16385, 1, 0);
        EXPECT_INVALID(&init, big, big_len, "coded width 16385");
        init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_RGBA, 1, 16385, 0);
        EXPECT_INVALID(&init, big, big_len, "coded height 16385");
        /* 1x1 is the smallest frame, even subsampled (chroma rounds up to 1x1). */
        init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 1, 1, 0);
        (void)expect_ok(&init, big, 3, "I420 1x1");
        init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 1, 1, 0);
        EXPECT_INVALID(&init, big, 2, "I420 1x1 from 2 bytes");
    }

    /* Format. */
    {
        const int32_t bad_formats[] = {0, 10, -1, 42};
        for (size_t i = 0; i < sizeof bad_formats / sizeof bad_formats[0]; i++) {
            MstVideoFrameInit init = mst_test_video_init(bad_formats[i], W, H, 0);
            char what[64];
            snprintf(what, sizeof what, "format %d", (int)bad_formats[i]);
            EXPECT_INVALID(&init, big, big_len, what);
        }
    }

    /* Visible rect. */
    {
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I444, W, H, 0);
        init.visible_rect = (MstRect){0, 0, W + 1, H};
        EXPECT_INVALID(&init, big, big_len, "visible rect wider than coded");
        init.visible_rect = (MstRect){2, 0, W - 1, H};
        EXPECT_INVALID(&init, big, big_len, "visible rect past the right edge");
        init.visible_rect = (MstRect){0, 2, W, H - 1};
        EXPECT_INVALID(&init, big, big_len, "visible rect past the bottom edge");
        init.visible_rect = (MstRect){0, 0, 4, 0};
        EXPECT_INVALID(&init, big, big_len, "visible rect of height 0");
        init.visible_rect = (MstRect){W, 0, 1, 1};
        EXPECT_INVALID(&init, big, big_len, "visible rect starting at the coded width");
        check_visible_rect_alignment(big, big_len);
    }

    /* Display size: both or neither. */
    {
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 0);
        init.display_width = 40;
        EXPECT_INVALID(&init, big, big_len, "display width without height");
        init.display_width = 0;
        init.display_height = 40;
        EXPECT_INVALID(&init, big, big_len, "display height without width");
    }

    /* Layouts. */
    const struct format_desc *i420 = find_format(MST_VIDEO_PIXEL_FORMAT_I420);
    {
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 0);
        init.num_planes = 3;
        (void)padded_layout(i420, W, H, init.layout);
        (void)expect_ok(&init, big, big_len, "I420 padded layout");

        MstVideoFrameInit bad = init;
        bad.layout[1].stride = row_bytes(i420, 1, W) - 1;
        EXPECT_INVALID(&bad, big, big_len, "chroma stride one less than its row");
        bad = init;
        bad.layout[0].stride = W - 1;
        EXPECT_INVALID(&bad, big, big_len, "luma stride one less than its row");

        bad = init; /* plane 1 starts inside plane 2's last row */
        bad.layout[1].offset = init.layout[2].offset + init.layout[2].stride * (rows(i420, 2, H) - 1) + 1;
        EXPECT_INVALID(&bad, big, big_len, "overlapping planes");
        bad = init; /* two planes at the same offset */
        bad.layout[0].offset = init.layout[1].offset;
        EXPECT_INVALID(&bad, big, big_len, "planes at the same offset");

        bad = init;
        bad.num_planes = 2;
        EXPECT_INVALID(&bad, big, big_len, "num_planes 2 for I420");
        bad.num_planes = 4;
        EXPECT_INVALID(&bad, big, big_len, "num_planes 4 for I420");
        bad.num_planes = 5;
        EXPECT_INVALID(&bad, big, big_len, "num_planes 5");
        MstVideoFrameInit rgba = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_RGBA, W, H, 0);
        rgba.num_planes = 2;
        rgba.layout[0] = (MstPlaneLayout){0, W * 4};
        rgba.layout[1] = (MstPlaneLayout){W * 4 * H, W * 4};
        EXPECT_INVALID(&rgba, big, big_len, "num_planes 2 for RGBA");
    }

    /* Too few bytes: one less than the packed size, for every format. */
    for (size_t i = 0; i < NUM_FORMATS; i++) {
        MstVideoFrameInit init = mst_test_video_init(formats[i].format, W, H, 0);
        size_t need = packed_size(&formats[i], W, H);
        uint8_t *exact = malloc(need);
        CHECK(exact != NULL);
        memset(exact, 0x40, need);
        char what[64];
        snprintf(what, sizeof what, "%s packed, data_len one short", formats[i].name);
        EXPECT_INVALID(&init, exact, need - 1, what);
        snprintf(what, sizeof what, "%s packed, data_len exact", formats[i].name);
        (void)expect_ok(&init, exact, need, what);
        free(exact);
    }

    /* Too few bytes for a padded layout. WebCodecs ("compute layout and allocation size") needs
     * offset + stride x rows for each plane, the last row's padding included. */
    {
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 0);
        init.num_planes = 3;
        size_t need = padded_layout(i420, W, H, init.layout);
        EXPECT_INVALID(&init, big, need - 1, "I420 padded layout, data_len one short of offset + stride x rows");
    }

    free(big);
    printf("test_video_frame: ok\n");
    return 0;
}
