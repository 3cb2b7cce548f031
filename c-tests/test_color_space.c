/* A VideoFrame's colour space (WebCodecs' VideoFrame.colorSpace, mst_frame_get_color_space,
 * since 1.2): the default per format (sRGB for RGB, BT.709 limited for YUV); the colour space
 * a generator's frame is given in MstVideoFrameInit reaches a processor's reader unchanged,
 * through a track whose constraints scale it; an RGBA copy of a full-range BT.601 (JFIF)
 * frame is JFIF's conversion within 1, not BT.709 limited range's; bad values and sizes are
 * refused. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

static MstVideoColorSpace color_space_of(const MstFrame *f) {
    MstVideoColorSpace cs = MST_STRUCT_INIT(MstVideoColorSpace);
    CHECK_OK(mst_frame_get_color_space(f, &cs));
    CHECK_EQ_INT(cs.struct_size, sizeof cs);
    return cs;
}

static void check_color_space(const MstFrame *f, int primaries, int transfer, int matrix, int range) {
    MstVideoColorSpace cs = color_space_of(f);
    CHECK_EQ_INT(cs.primaries, primaries);
    CHECK_EQ_INT(cs.transfer, transfer);
    CHECK_EQ_INT(cs.matrix, matrix);
    CHECK_EQ_INT(cs.range, range);
}

/* A frame of `format`, 4x2, every byte `fill`, made with `init`'s colour fields. */
static MstFrame *frame_with(MstVideoFrameInit init, uint8_t fill) {
    uint8_t data[4 * 2 * 4];
    memset(data, fill, sizeof data);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, data, sizeof data, &f));
    return f;
}

static void defaults_per_format(void) {
    const int32_t yuv[] = {MST_VIDEO_PIXEL_FORMAT_I420, MST_VIDEO_PIXEL_FORMAT_I420A, MST_VIDEO_PIXEL_FORMAT_I422,
                           MST_VIDEO_PIXEL_FORMAT_I444, MST_VIDEO_PIXEL_FORMAT_NV12};
    const int32_t rgb[] = {MST_VIDEO_PIXEL_FORMAT_RGBA, MST_VIDEO_PIXEL_FORMAT_RGBX, MST_VIDEO_PIXEL_FORMAT_BGRA,
                           MST_VIDEO_PIXEL_FORMAT_BGRX};
    for (size_t i = 0; i < sizeof yuv / sizeof yuv[0]; i++) {
        MstFrame *f = frame_with(mst_test_video_init(yuv[i], 4, 2, 0), 128);
        check_color_space(f, MST_VIDEO_COLOR_PRIMARIES_BT709, MST_VIDEO_TRANSFER_BT709, MST_VIDEO_MATRIX_BT709,
                          MST_VIDEO_COLOR_RANGE_LIMITED);
        mst_frame_free(f);
    }
    for (size_t i = 0; i < sizeof rgb / sizeof rgb[0]; i++) {
        MstFrame *f = frame_with(mst_test_video_init(rgb[i], 4, 2, 0), 128);
        check_color_space(f, MST_VIDEO_COLOR_PRIMARIES_BT709, MST_VIDEO_TRANSFER_IEC61966_2_1, MST_VIDEO_MATRIX_RGB,
                          MST_VIDEO_COLOR_RANGE_FULL);
        mst_frame_free(f);
    }
    /* One member given: the others are unknown, as WebCodecs' VideoColorSpace members are. */
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 4, 2, 0);
    init.color_range = MST_VIDEO_COLOR_RANGE_FULL;
    MstFrame *f = frame_with(init, 128);
    check_color_space(f, MST_VIDEO_COLOR_PRIMARIES_UNSET, MST_VIDEO_TRANSFER_UNSET, MST_VIDEO_MATRIX_UNSET,
                      MST_VIDEO_COLOR_RANGE_FULL);
    mst_frame_free(f);
}

static MstVideoFrameInit jfif_init(uint32_t width, uint32_t height, int64_t timestamp) {
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, width, height, timestamp);
    init.color_primaries = MST_VIDEO_COLOR_PRIMARIES_BT709;
    init.color_transfer = MST_VIDEO_TRANSFER_IEC61966_2_1;
    init.color_matrix = MST_VIDEO_MATRIX_SMPTE170M;
    init.color_range = MST_VIDEO_COLOR_RANGE_FULL;
    return init;
}

static void a_generator_frame_keeps_its_colour_space_through_a_processor(void) {
    enum { W = 64, H = 32 };
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    /* Half the size: the track scales every frame. */
    MstVideoConstraints half = MST_STRUCT_INIT(MstVideoConstraints);
    half.width.present = MST_CONSTRAIN_EXACT;
    half.width.exact = W / 2;
    half.height.present = MST_CONSTRAIN_EXACT;
    half.height.exact = H / 2;
    CHECK_OK(mst_track_apply_constraints(t, &half));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(2), &p));

    static uint8_t pixels[W * H * 3 / 2];
    memset(pixels, 100, sizeof pixels);
    MstVideoFrameInit init = jfif_init(W, H, 5);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, pixels, sizeof pixels, &f));
    mst_test_write(g, f);

    MstFrame *got = NULL;
    CHECK_OK(mst_processor_read(p, 0, &got));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(got, &info));
    CHECK_EQ_INT(info.visible_rect.width, W / 2);
    check_color_space(got, MST_VIDEO_COLOR_PRIMARIES_BT709, MST_VIDEO_TRANSFER_IEC61966_2_1,
                      MST_VIDEO_MATRIX_SMPTE170M, MST_VIDEO_COLOR_RANGE_FULL);
    /* A clone is the same frame. */
    MstFrame *clone = NULL;
    CHECK_OK(mst_frame_clone(got, &clone));
    check_color_space(clone, MST_VIDEO_COLOR_PRIMARIES_BT709, MST_VIDEO_TRANSFER_IEC61966_2_1,
                      MST_VIDEO_MATRIX_SMPTE170M, MST_VIDEO_COLOR_RANGE_FULL);
    mst_frame_free(clone);
    mst_frame_free(got);
    mst_processor_free(p);
    mst_track_free(t);
    mst_generator_free(g);
}

static double clamp255(double v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

static void rgba_of_a_full_range_bt601_frame_is_jfifs(void) {
    /* One (Y, U, V) per 2x2 block, 8x2: four blocks of different colours. */
    enum { W = 8, H = 2 };
    const uint8_t ys[4] = {20, 100, 180, 240}, us[4] = {40, 90, 200, 128}, vs[4] = {220, 60, 128, 30};
    uint8_t data[W * H + 2 * (W / 2) * (H / 2)];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) data[y * W + x] = ys[x / 2];
    for (int b = 0; b < 4; b++) {
        data[W * H + b] = us[b];
        data[W * H + W / 2 + b] = vs[b];
    }
    MstVideoFrameInit init = jfif_init(W, H, 0);
    MstFrame *jfif = NULL, *rec709 = NULL;
    CHECK_OK(mst_frame_create_video(&init, data, sizeof data, &jfif));
    MstVideoFrameInit plain = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 0);
    CHECK_OK(mst_frame_create_video(&plain, data, sizeof data, &rec709));

    MstVideoCopyOptions to_rgba = MST_STRUCT_INIT(MstVideoCopyOptions);
    to_rgba.format = MST_VIDEO_PIXEL_FORMAT_RGBA;
    uint8_t rgba[W * H * 4], other[W * H * 4];
    CHECK_OK(mst_frame_video_copy_to(jfif, rgba, sizeof rgba, &to_rgba, NULL));
    CHECK_OK(mst_frame_video_copy_to(rec709, other, sizeof other, &to_rgba, NULL));
    int differs = 0;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            /* JFIF (ITU-T T.871): R = Y + 1.402 (V-128), G = Y - 0.344136 (U-128) - 0.714136 (V-128),
             * B = Y + 1.772 (U-128), on full-range samples. */
            double Y = ys[x / 2], U = us[x / 2] - 128.0, V = vs[x / 2] - 128.0;
            double want[3] = {clamp255(Y + 1.402 * V), clamp255(Y - 0.344136 * U - 0.714136 * V),
                              clamp255(Y + 1.772 * U)};
            const uint8_t *px = rgba + (y * W + x) * 4;
            for (int c = 0; c < 3; c++) {
                if (fabs(px[c] - round(want[c])) > 1.0)
                    MST_TEST_FAIL_("(%d,%d) channel %d: %d, JFIF says %.2f", x, y, c, px[c], want[c]);
                differs |= abs(px[c] - other[(y * W + x) * 4 + c]) > 2;
            }
            CHECK_EQ_INT(px[3], 255);
        }
    }
    /* The same bytes read as BT.709 limited range are other colours: the tag matters. */
    CHECK(differs);
    mst_frame_free(jfif);
    mst_frame_free(rec709);
}

static void errors(void) {
    MstVideoColorSpace cs = MST_STRUCT_INIT(MstVideoColorSpace);
    CHECK_STATUS(mst_frame_get_color_space(NULL, &cs), MST_ERR_NULL_ARG);
    MstFrame *f = frame_with(mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 4, 2, 0), 0);
    CHECK_STATUS(mst_frame_get_color_space(f, NULL), MST_ERR_NULL_ARG);
    MstVideoColorSpace small = MST_STRUCT_INIT(MstVideoColorSpace);
    small.struct_size = 8;
    small.primaries = MST_VIDEO_COLOR_PRIMARIES_SMPTE432;
    CHECK_STATUS(mst_frame_get_color_space(f, &small), MST_ERR_INVALID_ARG);
    CHECK_EQ_INT(small.primaries, MST_VIDEO_COLOR_PRIMARIES_SMPTE432); /* untouched on error */
    CHECK_OK(mst_frame_close(f));
    CHECK_STATUS(mst_frame_get_color_space(f, &cs), MST_ERR_INVALID_STATE);
    mst_frame_free(f);

    uint8_t samples[4 * 2 * 2] = {0};
    MstAudioDataInit a = MST_STRUCT_INIT(MstAudioDataInit);
    a.format = MST_AUDIO_SAMPLE_FORMAT_S16;
    a.sample_rate = 48000;
    a.number_of_frames = 4;
    a.number_of_channels = 2;
    MstFrame *audio = NULL;
    CHECK_OK(mst_frame_create_audio(&a, samples, sizeof samples, &audio));
    CHECK_STATUS(mst_frame_get_color_space(audio, &cs), MST_ERR_TYPE);
    mst_frame_free(audio);

    /* A value no enum has is refused, naming the field. */
    MstVideoFrameInit bad = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 4, 2, 0);
    bad.color_matrix = 99;
    uint8_t data[12] = {0};
    MstFrame *none = NULL;
    CHECK_STATUS(mst_frame_create_video(&bad, data, sizeof data, &none), MST_ERR_INVALID_ARG);
    CHECK(none == NULL);
    CHECK(strstr(mst_last_error_message(), "color_matrix") != NULL);
    /* A 1.0 caller's init (128 bytes) has no colour fields: the default. */
    MstVideoFrameInit old = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 4, 2, 0);
    old.struct_size = 128;
    old.color_range = MST_VIDEO_COLOR_RANGE_FULL; /* past the caller's size: not read */
    CHECK_OK(mst_frame_create_video(&old, data, sizeof data, &none));
    check_color_space(none, MST_VIDEO_COLOR_PRIMARIES_BT709, MST_VIDEO_TRANSFER_BT709, MST_VIDEO_MATRIX_BT709,
                      MST_VIDEO_COLOR_RANGE_LIMITED);
    mst_frame_free(none);
}

int main(void) {
    defaults_per_format();
    a_generator_frame_keeps_its_colour_space_through_a_processor();
    rgba_of_a_full_range_bt601_frame_is_jfifs();
    errors();
    printf("test_color_space: ok\n");
    return 0;
}
