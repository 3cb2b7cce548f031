/* VideoFrame.allocationSize() and copyTo(): packed sizes, copying a sub-rect, rect validation,
 * short destinations (nothing written), padded destination layouts (padding untouched, layout
 * returned), and conversion of YUV to RGBA/BGRA/RGBX/BGRX (BT.709 limited range) on copy. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define FW 64
#define FH 48

static MstVideoCopyOptions no_options(void) {
    MstVideoCopyOptions o = MST_STRUCT_INIT(MstVideoCopyOptions);
    return o;
}

static uint8_t y_at(size_t x, size_t y) { return (uint8_t)(x * 3 + y * 5); }
static uint8_t u_at(size_t x, size_t y) { return (uint8_t)(100 + x * 7 + y * 11); }
static uint8_t v_at(size_t x, size_t y) { return (uint8_t)(200 + x * 13 + y * 3); }

/* A FW x FH I420 frame whose samples are y_at/u_at/v_at. */
static MstFrame *make_i420(void) {
    static uint8_t buf[FW * FH * 3 / 2];
    uint8_t *yp = buf, *up = buf + FW * FH, *vp = up + (FW / 2) * (FH / 2);
    for (size_t y = 0; y < FH; y++)
        for (size_t x = 0; x < FW; x++) yp[y * FW + x] = y_at(x, y);
    for (size_t y = 0; y < FH / 2; y++)
        for (size_t x = 0; x < FW / 2; x++) {
            up[y * (FW / 2) + x] = u_at(x, y);
            vp[y * (FW / 2) + x] = v_at(x, y);
        }
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, FW, FH, 0);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &f));
    return f;
}

/* A FW x FH NV12 frame with the same samples. */
static MstFrame *make_nv12(void) {
    static uint8_t buf[FW * FH * 3 / 2];
    uint8_t *yp = buf, *uv = buf + FW * FH;
    for (size_t y = 0; y < FH; y++)
        for (size_t x = 0; x < FW; x++) yp[y * FW + x] = y_at(x, y);
    for (size_t y = 0; y < FH / 2; y++)
        for (size_t x = 0; x < FW / 2; x++) {
            uv[y * FW + 2 * x] = u_at(x, y);
            uv[y * FW + 2 * x + 1] = v_at(x, y);
        }
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_NV12, FW, FH, 0);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &f));
    return f;
}

static uint8_t rgba_at(size_t x, size_t y, size_t c) { return (uint8_t)(x * 4 + y * 9 + c * 50); }

static MstFrame *make_rgba(void) {
    static uint8_t buf[FW * FH * 4];
    for (size_t y = 0; y < FH; y++)
        for (size_t x = 0; x < FW; x++)
            for (size_t c = 0; c < 4; c++) buf[(y * FW + x) * 4 + c] = rgba_at(x, y, c);
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_RGBA, FW, FH, 0);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &f));
    return f;
}

static void check_allocation_sizes(void) {
    const struct {
        int32_t format;
        unsigned w, h;
        size_t size;
    } cases[] = {
        {MST_VIDEO_PIXEL_FORMAT_I420, 640, 480, 460800},
        {MST_VIDEO_PIXEL_FORMAT_RGBA, 640, 480, 1228800},
        {MST_VIDEO_PIXEL_FORMAT_I420A, 640, 480, 768000},
        {MST_VIDEO_PIXEL_FORMAT_I422, 640, 480, 614400},
        {MST_VIDEO_PIXEL_FORMAT_I444, 640, 480, 921600},
        {MST_VIDEO_PIXEL_FORMAT_NV12, 640, 480, 460800},
        {MST_VIDEO_PIXEL_FORMAT_I420, 11, 7, 11 * 7 + 2 * 6 * 4},
    };
    static uint8_t zeros[640 * 480 * 4];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        MstVideoFrameInit init = mst_test_video_init(cases[i].format, cases[i].w, cases[i].h, 0);
        MstFrame *f = NULL;
        CHECK_OK(mst_frame_create_video(&init, zeros, sizeof zeros, &f));
        size_t size = 0;
        CHECK_OK(mst_frame_video_allocation_size(f, NULL, &size));
        if (size != cases[i].size)
            MST_TEST_FAIL_("format %d %ux%u: allocation size %zu, expected %zu", (int)cases[i].format, cases[i].w,
                           cases[i].h, size, cases[i].size);
        MstVideoCopyOptions o = no_options();
        CHECK_OK(mst_frame_video_allocation_size(f, &o, &size)); /* all zero = no options */
        CHECK_EQ_INT(size, cases[i].size);
        if (cases[i].format == MST_VIDEO_PIXEL_FORMAT_I420 && cases[i].w == 640) {
            o.format = MST_VIDEO_PIXEL_FORMAT_RGBA; /* converting changes the size */
            CHECK_OK(mst_frame_video_allocation_size(f, &o, &size));
            CHECK_EQ_INT(size, 1228800);
            o.format = MST_VIDEO_PIXEL_FORMAT_BGRX;
            o.rect = (MstRect){0, 0, 320, 240};
            CHECK_OK(mst_frame_video_allocation_size(f, &o, &size));
            CHECK_EQ_INT(size, 320 * 240 * 4);
        }
        CHECK_OK(mst_frame_free(f));
    }
}

/* Copies `rect` of the I420 test frame, packed, and compares every byte. */
static void check_i420_rect(MstFrame *f, MstRect r) {
    size_t cw = (r.width + 1) / 2, ch = (r.height + 1) / 2;
    size_t need = (size_t)r.width * r.height + 2 * cw * ch;
    MstVideoCopyOptions o = no_options();
    o.rect = r;
    size_t size = 0;
    CHECK_OK(mst_frame_video_allocation_size(f, &o, &size));
    CHECK_EQ_INT(size, need);
    uint8_t *dst = malloc(need);
    CHECK(dst != NULL);
    MstPlaneLayouts out = MST_STRUCT_INIT(MstPlaneLayouts);
    CHECK_OK(mst_frame_video_copy_to(f, dst, need, &o, &out));
    CHECK_EQ_INT(out.count, 3);
    CHECK_EQ_INT(out.planes[0].offset, 0);
    CHECK_EQ_INT(out.planes[0].stride, r.width);
    CHECK_EQ_INT(out.planes[1].offset, (size_t)r.width * r.height);
    CHECK_EQ_INT(out.planes[1].stride, cw);
    CHECK_EQ_INT(out.planes[2].offset, (size_t)r.width * r.height + cw * ch);
    CHECK_EQ_INT(out.planes[2].stride, cw);
    for (size_t y = 0; y < r.height; y++)
        for (size_t x = 0; x < r.width; x++)
            if (dst[y * r.width + x] != y_at(r.x + x, r.y + y))
                MST_TEST_FAIL_("rect (%u,%u %ux%u): Y(%zu,%zu) = %u, expected %u", r.x, r.y, r.width, r.height, x, y,
                               dst[y * r.width + x], y_at(r.x + x, r.y + y));
    const uint8_t *u = dst + out.planes[1].offset, *v = dst + out.planes[2].offset;
    for (size_t y = 0; y < ch; y++)
        for (size_t x = 0; x < cw; x++) {
            if (u[y * cw + x] != u_at(r.x / 2 + x, r.y / 2 + y) || v[y * cw + x] != v_at(r.x / 2 + x, r.y / 2 + y))
                MST_TEST_FAIL_("rect (%u,%u %ux%u): chroma (%zu,%zu) = %u/%u, expected %u/%u", r.x, r.y, r.width,
                               r.height, x, y, u[y * cw + x], v[y * cw + x], u_at(r.x / 2 + x, r.y / 2 + y),
                               v_at(r.x / 2 + x, r.y / 2 + y));
        }
    free(dst);
}

static void check_rects(void) {
    MstFrame *f = make_i420();
    check_i420_rect(f, (MstRect){8, 6, 20, 10});
    check_i420_rect(f, (MstRect){0, 0, FW, FH});
    check_i420_rect(f, (MstRect){FW - 2, FH - 2, 2, 2});
    check_i420_rect(f, (MstRect){4, 2, 11, 7}); /* odd size: chroma rounds up */

    /* NV12 rect: interleaved chroma at x/2 pairs. */
    {
        MstFrame *nv = make_nv12();
        MstRect r = {8, 6, 20, 10};
        MstVideoCopyOptions o = no_options();
        o.rect = r;
        size_t need = 20 * 10 + 20 * 5;
        uint8_t dst[20 * 10 + 20 * 5];
        MstPlaneLayouts out = MST_STRUCT_INIT(MstPlaneLayouts);
        CHECK_OK(mst_frame_video_copy_to(nv, dst, sizeof dst, &o, &out));
        CHECK_EQ_INT(out.count, 2);
        CHECK_EQ_INT(out.planes[1].offset, 200);
        CHECK_EQ_INT(out.planes[1].stride, 20);
        (void)need;
        for (size_t y = 0; y < 10; y++)
            for (size_t x = 0; x < 20; x++) CHECK_EQ_INT(dst[y * 20 + x], y_at(8 + x, 6 + y));
        for (size_t y = 0; y < 5; y++)
            for (size_t x = 0; x < 10; x++) {
                CHECK_EQ_INT(dst[200 + y * 20 + 2 * x], u_at(4 + x, 3 + y));
                CHECK_EQ_INT(dst[200 + y * 20 + 2 * x + 1], v_at(4 + x, 3 + y));
            }
        CHECK_OK(mst_frame_free(nv));
    }

    /* RGBA rect: odd offsets are fine for RGB. */
    {
        MstFrame *rgba = make_rgba();
        MstVideoCopyOptions o = no_options();
        o.rect = (MstRect){3, 5, 7, 9};
        uint8_t dst[7 * 9 * 4];
        size_t size = 0;
        CHECK_OK(mst_frame_video_allocation_size(rgba, &o, &size));
        CHECK_EQ_INT(size, sizeof dst);
        CHECK_OK(mst_frame_video_copy_to(rgba, dst, sizeof dst, &o, NULL));
        for (size_t y = 0; y < 9; y++)
            for (size_t x = 0; x < 7; x++)
                for (size_t c = 0; c < 4; c++) CHECK_EQ_INT(dst[(y * 7 + x) * 4 + c], rgba_at(3 + x, 5 + y, c));
        CHECK_OK(mst_frame_free(rgba));
    }

    /* Invalid rects: misaligned for 4:2:0, outside the coded size, empty. */
    const MstRect bad[] = {
        {1, 0, 8, 8}, {0, 1, 8, 8}, {3, 3, 8, 8},                  /* misaligned */
        {FW - 6, 0, 8, 8}, {0, FH - 6, 8, 8}, {0, 0, FW + 2, FH}, /* outside */
        {FW, 0, 2, 2},                                             /* starts at the edge */
        {0, 0, 8, 0},                                              /* empty */
    };
    static uint8_t dst[FW * FH * 4];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        MstVideoCopyOptions o = no_options();
        o.rect = bad[i];
        size_t size = 777;
        MstStatus s = mst_frame_video_allocation_size(f, &o, &size);
        if (s != MST_ERR_INVALID_ARG)
            MST_TEST_FAIL_("allocation size for rect (%u,%u %ux%u): %s, expected MST_ERR_INVALID_ARG", bad[i].x,
                           bad[i].y, bad[i].width, bad[i].height, mst_status_str(s));
        CHECK_EQ_INT(size, 777);
        memset(dst, 0x3c, sizeof dst);
        s = mst_frame_video_copy_to(f, dst, sizeof dst, &o, NULL);
        if (s != MST_ERR_INVALID_ARG)
            MST_TEST_FAIL_("copy_to rect (%u,%u %ux%u): %s, expected MST_ERR_INVALID_ARG", bad[i].x, bad[i].y,
                           bad[i].width, bad[i].height, mst_status_str(s));
        for (size_t k = 0; k < sizeof dst; k++)
            if (dst[k] != 0x3c) MST_TEST_FAIL_("a failed copy_to wrote byte %zu", k);
    }
    /* The same misaligned rect is fine for I444. */
    {
        static uint8_t planes[FW * FH * 3];
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I444, FW, FH, 0);
        MstFrame *i444 = NULL;
        CHECK_OK(mst_frame_create_video(&init, planes, sizeof planes, &i444));
        MstVideoCopyOptions o = no_options();
        o.rect = (MstRect){3, 3, 8, 8};
        size_t size = 0;
        CHECK_OK(mst_frame_video_allocation_size(i444, &o, &size));
        CHECK_EQ_INT(size, 8 * 8 * 3);
        CHECK_OK(mst_frame_free(i444));
    }
    CHECK_OK(mst_frame_free(f));
}

static void check_short_destination(void) {
    MstFrame *f = make_i420();
    size_t size = 0;
    CHECK_OK(mst_frame_video_allocation_size(f, NULL, &size));
    CHECK_EQ_INT(size, FW * FH * 3 / 2);
    uint8_t *dst = malloc(size);
    CHECK(dst != NULL);
    const size_t lens[] = {size - 1, size / 2, 1};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(dst, 0xa7, size);
        MstPlaneLayouts out;
        memset(&out, 0x5a, sizeof out);
        out.struct_size = sizeof out;
        MstPlaneLayouts out_before = out;
        CHECK_STATUS(mst_frame_video_copy_to(f, dst, lens[i], NULL, &out), MST_ERR_INVALID_ARG);
        for (size_t k = 0; k < size; k++)
            if (dst[k] != 0xa7) MST_TEST_FAIL_("copy_to into %zu of %zu bytes wrote byte %zu", lens[i], size, k);
        CHECK(memcmp(&out, &out_before, sizeof out) == 0);
    }
    /* The same with conversion. */
    MstVideoCopyOptions o = no_options();
    o.format = MST_VIDEO_PIXEL_FORMAT_RGBA;
    memset(dst, 0xa7, size);
    CHECK_STATUS(mst_frame_video_copy_to(f, dst, size, &o, NULL), MST_ERR_INVALID_ARG); /* needs FW*FH*4 */
    for (size_t k = 0; k < size; k++)
        if (dst[k] != 0xa7) MST_TEST_FAIL_("a short converting copy_to wrote byte %zu", k);
    free(dst);
    CHECK_OK(mst_frame_free(f));
}

/* A destination layout with padding and the planes out of order. */
static void fill_padded_i420_options(MstVideoCopyOptions *o, MstRect r, size_t *webcodecs_size) {
    size_t cw = (r.width + 1) / 2, ch = (r.height + 1) / 2;
    *o = no_options();
    o->rect = r;
    o->num_planes = 3;
    o->layout[2] = (MstPlaneLayout){5, cw + 3};
    o->layout[1] = (MstPlaneLayout){5 + (cw + 3) * ch + 7, cw + 6};
    o->layout[0] = (MstPlaneLayout){o->layout[1].offset + (cw + 6) * ch + 1, r.width + 9};
    *webcodecs_size = o->layout[0].offset + o->layout[0].stride * r.height;
}

static void check_padded_destination(void) {
    MstFrame *f = make_i420();
    MstRect r = {8, 6, 20, 10};
    MstVideoCopyOptions o = MST_STRUCT_INIT(MstVideoCopyOptions);
    size_t webcodecs_size = 0;
    fill_padded_i420_options(&o, r, &webcodecs_size);
    size_t len = webcodecs_size + 32;
    uint8_t *dst = malloc(len);
    CHECK(dst != NULL);
    memset(dst, 0x77, len);
    MstPlaneLayouts out = MST_STRUCT_INIT(MstPlaneLayouts);
    CHECK_OK(mst_frame_video_copy_to(f, dst, len, &o, &out));
    CHECK_EQ_INT(out.count, 3);
    for (unsigned p = 0; p < 3; p++) {
        CHECK_EQ_INT(out.planes[p].offset, o.layout[p].offset);
        CHECK_EQ_INT(out.planes[p].stride, o.layout[p].stride);
    }
    /* Every byte is a sample where the layout puts one, and untouched elsewhere. */
    uint8_t *expected = malloc(len);
    CHECK(expected != NULL);
    memset(expected, 0x77, len);
    for (size_t y = 0; y < r.height; y++)
        for (size_t x = 0; x < r.width; x++)
            expected[o.layout[0].offset + y * o.layout[0].stride + x] = y_at(r.x + x, r.y + y);
    for (size_t y = 0; y < r.height / 2; y++)
        for (size_t x = 0; x < r.width / 2; x++) {
            expected[o.layout[1].offset + y * o.layout[1].stride + x] = u_at(r.x / 2 + x, r.y / 2 + y);
            expected[o.layout[2].offset + y * o.layout[2].stride + x] = v_at(r.x / 2 + x, r.y / 2 + y);
        }
    for (size_t k = 0; k < len; k++)
        if (dst[k] != expected[k])
            MST_TEST_FAIL_("padded destination byte %zu = 0x%02x, expected 0x%02x (0x77 = untouched padding)", k,
                           dst[k], expected[k]);

    /* Exactly the WebCodecs size is enough. */
    CHECK_OK(mst_frame_video_copy_to(f, dst, webcodecs_size, &o, NULL));

    /* Invalid destination layouts. */
    MstVideoCopyOptions bad = o;
    bad.layout[0].stride = r.width - 1;
    CHECK_STATUS(mst_frame_video_copy_to(f, dst, len, &bad, NULL), MST_ERR_INVALID_ARG);
    bad = o;
    bad.layout[1].offset = o.layout[2].offset + 1;
    CHECK_STATUS(mst_frame_video_copy_to(f, dst, len, &bad, NULL), MST_ERR_INVALID_ARG);
    bad = o;
    bad.num_planes = 2;
    CHECK_STATUS(mst_frame_video_copy_to(f, dst, len, &bad, NULL), MST_ERR_INVALID_ARG);
    size_t size = 0;
    CHECK_STATUS(mst_frame_video_allocation_size(f, &bad, &size), MST_ERR_INVALID_ARG);

    free(expected);
    free(dst);
    CHECK_OK(mst_frame_free(f));
}

/* A flat FW x FH I420 (or NV12, or I420A with alpha `a`) frame of one colour. */
static MstFrame *flat_frame(int32_t format, uint8_t y, uint8_t u, uint8_t v, uint8_t a) {
    static uint8_t buf[FW * FH * 5 / 2];
    size_t luma = FW * FH, chroma = luma / 4;
    memset(buf, y, luma);
    if (format == MST_VIDEO_PIXEL_FORMAT_NV12) {
        for (size_t i = 0; i < chroma; i++) {
            buf[luma + 2 * i] = u;
            buf[luma + 2 * i + 1] = v;
        }
    } else {
        memset(buf + luma, u, chroma);
        memset(buf + luma + chroma, v, chroma);
        memset(buf + luma + 2 * chroma, a, luma); /* I420A's alpha plane; ignored otherwise */
    }
    MstVideoFrameInit init = mst_test_video_init(format, FW, FH, 0);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &f));
    return f;
}

struct rgb_target {
    int32_t format;
    const char *name;
    int r, g, b, a; /* byte index of each channel */
};

static const struct rgb_target rgb_targets[] = {
    {MST_VIDEO_PIXEL_FORMAT_RGBA, "RGBA", 0, 1, 2, 3},
    {MST_VIDEO_PIXEL_FORMAT_RGBX, "RGBX", 0, 1, 2, 3},
    {MST_VIDEO_PIXEL_FORMAT_BGRA, "BGRA", 2, 1, 0, 3},
    {MST_VIDEO_PIXEL_FORMAT_BGRX, "BGRX", 2, 1, 0, 3},
};

static void check_conversion(MstFrame *f, const char *colour, int r, int g, int b, int a, int tolerance) {
    static uint8_t dst[FW * FH * 4];
    for (size_t t = 0; t < sizeof rgb_targets / sizeof rgb_targets[0]; t++) {
        const struct rgb_target *tg = &rgb_targets[t];
        MstVideoCopyOptions o = no_options();
        o.format = tg->format;
        size_t size = 0;
        CHECK_OK(mst_frame_video_allocation_size(f, &o, &size));
        CHECK_EQ_INT(size, sizeof dst);
        memset(dst, 0x42, sizeof dst);
        MstPlaneLayouts out = MST_STRUCT_INIT(MstPlaneLayouts);
        CHECK_OK(mst_frame_video_copy_to(f, dst, sizeof dst, &o, &out));
        CHECK_EQ_INT(out.count, 1);
        CHECK_EQ_INT(out.planes[0].offset, 0);
        CHECK_EQ_INT(out.planes[0].stride, FW * 4);
        int want_a = (tg->format == MST_VIDEO_PIXEL_FORMAT_RGBA || tg->format == MST_VIDEO_PIXEL_FORMAT_BGRA) ? a : 255;
        for (size_t px = 0; px < (size_t)FW * FH; px++) {
            const uint8_t *p = dst + px * 4;
            int got[4] = {p[tg->r], p[tg->g], p[tg->b], p[tg->a]};
            int want[4] = {r, g, b, want_a};
            for (int c = 0; c < 4; c++) {
                int tol = c == 3 ? 0 : tolerance;
                if (got[c] < want[c] - tol || got[c] > want[c] + tol)
                    MST_TEST_FAIL_("%s to %s: pixel %zu channel %c = %d, expected %d +- %d", colour, tg->name, px,
                                   "RGBA"[c], got[c], want[c], tol);
            }
        }
    }
}

static void check_conversions(void) {
    MstFrame *white = flat_frame(MST_VIDEO_PIXEL_FORMAT_I420, 235, 128, 128, 0);
    check_conversion(white, "I420 white", 255, 255, 255, 255, 1);
    MstFrame *black = flat_frame(MST_VIDEO_PIXEL_FORMAT_I420, 16, 128, 128, 0);
    check_conversion(black, "I420 black", 0, 0, 0, 255, 1);
    MstFrame *red = flat_frame(MST_VIDEO_PIXEL_FORMAT_I420, 63, 102, 240, 0);
    check_conversion(red, "I420 red", 255, 0, 0, 255, 3);
    MstFrame *nv12_red = flat_frame(MST_VIDEO_PIXEL_FORMAT_NV12, 63, 102, 240, 0);
    check_conversion(nv12_red, "NV12 red", 255, 0, 0, 255, 3);
    /* BT.709 limited-range green (0,255,0) and blue (0,0,255). */
    MstFrame *green = flat_frame(MST_VIDEO_PIXEL_FORMAT_I420, 173, 42, 26, 0);
    check_conversion(green, "I420 green", 0, 255, 0, 255, 3);
    MstFrame *blue = flat_frame(MST_VIDEO_PIXEL_FORMAT_I420, 32, 240, 118, 0);
    check_conversion(blue, "I420 blue", 0, 0, 255, 255, 3);
    /* I420A keeps its alpha in RGBA/BGRA. */
    MstFrame *translucent = flat_frame(MST_VIDEO_PIXEL_FORMAT_I420A, 235, 128, 128, 128);
    check_conversion(translucent, "I420A white, alpha 128", 255, 255, 255, 128, 1);

    /* Conversion of a rect. */
    {
        MstVideoCopyOptions o = no_options();
        o.format = MST_VIDEO_PIXEL_FORMAT_BGRA;
        o.rect = (MstRect){10, 10, 6, 4};
        uint8_t dst[6 * 4 * 4];
        CHECK_OK(mst_frame_video_copy_to(red, dst, sizeof dst, &o, NULL));
        for (size_t px = 0; px < 24; px++) {
            CHECK(dst[px * 4 + 2] >= 252); /* R */
            CHECK(dst[px * 4 + 1] <= 3);   /* G */
            CHECK(dst[px * 4 + 0] <= 3);   /* B */
            CHECK_EQ_INT(dst[px * 4 + 3], 255);
        }
    }

    /* RGB to RGB swaps channels and keeps alpha. */
    {
        MstFrame *rgba = make_rgba();
        MstVideoCopyOptions o = no_options();
        o.format = MST_VIDEO_PIXEL_FORMAT_BGRA;
        static uint8_t dst[FW * FH * 4];
        CHECK_OK(mst_frame_video_copy_to(rgba, dst, sizeof dst, &o, NULL));
        for (size_t y = 0; y < FH; y++)
            for (size_t x = 0; x < FW; x++) {
                const uint8_t *p = dst + (y * FW + x) * 4;
                CHECK_EQ_INT(p[0], rgba_at(x, y, 2));
                CHECK_EQ_INT(p[1], rgba_at(x, y, 1));
                CHECK_EQ_INT(p[2], rgba_at(x, y, 0));
                CHECK_EQ_INT(p[3], rgba_at(x, y, 3));
            }
        CHECK_OK(mst_frame_free(rgba));
    }

    /* Only RGB targets convert. */
    {
        static uint8_t dst[FW * FH * 4];
        const int32_t unsupported[] = {MST_VIDEO_PIXEL_FORMAT_I444, MST_VIDEO_PIXEL_FORMAT_NV12,
                                       MST_VIDEO_PIXEL_FORMAT_I422, MST_VIDEO_PIXEL_FORMAT_I420A};
        for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
            MstVideoCopyOptions o = no_options();
            o.format = unsupported[i];
            size_t size = 999;
            CHECK_STATUS(mst_frame_video_allocation_size(red, &o, &size), MST_ERR_UNSUPPORTED);
            CHECK_EQ_INT(size, 999);
            memset(dst, 0x19, sizeof dst);
            CHECK_STATUS(mst_frame_video_copy_to(red, dst, sizeof dst, &o, NULL), MST_ERR_UNSUPPORTED);
            for (size_t k = 0; k < sizeof dst; k++)
                if (dst[k] != 0x19) MST_TEST_FAIL_("an unsupported conversion wrote byte %zu", k);
        }
        MstFrame *rgba = make_rgba();
        MstVideoCopyOptions o = no_options();
        o.format = MST_VIDEO_PIXEL_FORMAT_I420;
        CHECK_STATUS(mst_frame_video_copy_to(rgba, dst, sizeof dst, &o, NULL), MST_ERR_UNSUPPORTED);
        CHECK_OK(mst_frame_free(rgba));
        /* The frame's own format is no conversion. */
        o.format = MST_VIDEO_PIXEL_FORMAT_I420;
        CHECK_OK(mst_frame_video_copy_to(red, dst, sizeof dst, &o, NULL));
        CHECK_EQ_INT(dst[0], 63);
        /* Not a format at all. */
        o.format = 42;
        CHECK(mst_frame_video_copy_to(red, dst, sizeof dst, &o, NULL) < 0);
    }

    CHECK_OK(mst_frame_free(white));
    CHECK_OK(mst_frame_free(black));
    CHECK_OK(mst_frame_free(red));
    CHECK_OK(mst_frame_free(nv12_red));
    CHECK_OK(mst_frame_free(green));
    CHECK_OK(mst_frame_free(blue));
    CHECK_OK(mst_frame_free(translucent));
}

/* WebCodecs' allocationSize() with a layout is the largest offset + stride x rows over the
 * planes: the last row's padding counts. */
static void check_padded_allocation_size(void) {
    MstFrame *f = make_i420();
    MstVideoCopyOptions o = MST_STRUCT_INIT(MstVideoCopyOptions);
    size_t webcodecs_size = 0;
    fill_padded_i420_options(&o, (MstRect){8, 6, 20, 10}, &webcodecs_size);
    size_t size = 0;
    CHECK_OK(mst_frame_video_allocation_size(f, &o, &size));
    if (size != webcodecs_size)
        MST_TEST_FAIL_("allocation size with a padded layout is %zu, expected max(offset + stride x rows) = %zu",
                       size, webcodecs_size);
    uint8_t *dst = malloc(webcodecs_size);
    CHECK(dst != NULL);
    CHECK_STATUS(mst_frame_video_copy_to(f, dst, webcodecs_size - 1, &o, NULL), MST_ERR_INVALID_ARG);
    free(dst);
    CHECK_OK(mst_frame_free(f));
}

int main(void) {
    check_allocation_sizes();
    check_rects();
    check_short_destination();
    check_padded_destination();
    check_conversions();
    check_padded_allocation_size(); /* last: a known deviation would hide the checks above */
    printf("test_video_copy_to: ok\n");
    return 0;
}
