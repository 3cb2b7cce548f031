/* Constrainable properties of generator tracks (spec 2.2.4.3) and writeFrame's "each track
 * may receive a different version of the media data depending on its constraints": width,
 * height, aspectRatio (crop-and-scale), resizeMode none, frameRate; applyConstraints fails with
 * OverconstrainedError only outside the capabilities and then changes nothing; tracks with
 * equal constraints share one adapted buffer; audio generator tracks have no constrainable
 * properties; a test-pattern track is capped by its own size and rate. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

enum { SW = 1280, SH = 720, SOURCE_BYTES = SW * SH * 3 / 2 };

static uint8_t source[SOURCE_BYTES]; /* left half Y=50, right half Y=200, chroma 128 */

static void fill_source(void) {
    for (int y = 0; y < SH; y++) {
        memset(source + (size_t)y * SW, 50, SW / 2);
        memset(source + (size_t)y * SW + SW / 2, 200, SW / 2);
    }
    memset(source + (size_t)SW * SH, 128, SOURCE_BYTES - (size_t)SW * SH);
}

/* A 1280x720 frame over `source` (no copy). */
static MstFrame *source_frame(int64_t timestamp) {
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, SW, SH, timestamp);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_wrap_video(&init, source, sizeof source, NULL, NULL, &f));
    return f;
}

static MstFrame *read_frame(MstProcessor *p) {
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 0, &f));
    return f;
}

static MstVideoFrameInfo info_of(const MstFrame *f) {
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    return info;
}

static const uint8_t *luma_plane(const MstFrame *f, size_t *stride) {
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(mst_frame_get_video_plane(f, 0, &data, stride, &len));
    return data;
}

/* The luma sample at (x, y) of the frame's visible rect. */
static int luma_at(const MstFrame *f, uint32_t x, uint32_t y) {
    MstVideoFrameInfo info = info_of(f);
    CHECK(x < info.visible_rect.width && y < info.visible_rect.height);
    size_t stride = 0;
    const uint8_t *plane = luma_plane(f, &stride);
    return plane[(size_t)(info.visible_rect.y + y) * stride + info.visible_rect.x + x];
}

static void check_luma_near(const MstFrame *f, uint32_t x, uint32_t y, int expected) {
    int got = luma_at(f, x, y);
    if (abs(got - expected) > 3) {
        fprintf(stderr, "%s: luma at (%u, %u) is %d, expected %d +- 3\n", __FILE__, x, y, got, expected);
        exit(1);
    }
}

static void expect_size(const MstFrame *f, uint32_t width, uint32_t height) {
    MstVideoFrameInfo info = info_of(f);
    if (info.visible_rect.width != width || info.visible_rect.height != height) {
        fprintf(stderr, "%s: delivered frame is %ux%u, expected %ux%u\n", __FILE__,
                info.visible_rect.width, info.visible_rect.height, width, height);
        exit(1);
    }
}

static MstConstrainRange exact(double v) {
    MstConstrainRange r = {.present = MST_CONSTRAIN_EXACT, .exact = v};
    return r;
}

static void expect_overconstrained(MstTrack *t, const MstVideoConstraints *c, const char *property) {
    CHECK_STATUS(mst_track_apply_constraints(t, c), MST_ERR_OVERCONSTRAINED);
    const char *name = mst_last_error_constraint();
    if (name == NULL || (property != NULL && strcmp(name, property) != 0)) {
        fprintf(stderr, "%s: mst_last_error_constraint() is \"%s\", expected \"%s\"\n", __FILE__,
                name ? name : "(null)", property ? property : "(any)");
        exit(1);
    }
}

static MstTrack *clone_with(MstTrack *original, const MstVideoConstraints *c) {
    MstTrack *t = NULL;
    CHECK_OK(mst_track_clone(original, &t));
    CHECK_OK(mst_track_apply_constraints(t, c));
    return t;
}

static void video_generator_tracks(void) {
    MstGenerator *g = NULL;
    MstTrack *own = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &own));

    MstVideoConstraints scale = {.struct_size = sizeof(MstVideoConstraints), .width = exact(640), .height = exact(360)};
    MstVideoConstraints square = {.struct_size = sizeof(MstVideoConstraints), .aspect_ratio = exact(1.0)};
    MstVideoConstraints none = {.struct_size = sizeof(MstVideoConstraints), .width = exact(640), .resize_mode = MST_RESIZE_MODE_NONE};
    MstVideoConstraints narrow = {.struct_size = sizeof(MstVideoConstraints), .width = exact(320), .height = exact(180)};
    MstTrack *t_scale = clone_with(own, &scale);
    MstTrack *t_scale2 = clone_with(own, &scale);
    MstTrack *t_square = clone_with(own, &square);
    MstTrack *t_none = clone_with(own, &none);
    MstTrack *t_narrow = clone_with(own, &narrow);

    MstVideoConstraints got = MST_STRUCT_INIT(MstVideoConstraints);
    CHECK_OK(mst_track_get_constraints(t_scale, &got));
    CHECK_EQ_INT(got.width.present, MST_CONSTRAIN_EXACT);
    CHECK(got.width.exact == 640);
    CHECK_EQ_INT(got.height.present, MST_CONSTRAIN_EXACT);
    CHECK(got.height.exact == 360);

    MstTrack *tracks[] = {own, t_scale, t_scale2, t_square, t_none, t_narrow};
    enum { N = sizeof tracks / sizeof tracks[0] };
    MstProcessor *p[N];
    for (int i = 0; i < N; i++) CHECK_OK(mst_processor_create(tracks[i], MST_TEST_BUFFER(4), &p[i]));

    mst_test_write(g, source_frame(1000));
    MstFrame *f[N];
    for (int i = 0; i < N; i++) {
        f[i] = read_frame(p[i]);
        CHECK_EQ_INT(info_of(f[i]).timestamp, 1000);
    }
    size_t stride = 0;

    /* No constraints: the source frame itself. */
    expect_size(f[0], SW, SH);
    CHECK(luma_plane(f[0], &stride) == source);

    /* width 640 + height 360: scaled, content preserved away from the seam at x = 320. */
    expect_size(f[1], 640, 360);
    CHECK(luma_plane(f[1], &stride) != source);
    for (uint32_t y = 10; y < 360; y += 170) {
        check_luma_near(f[1], 10, y, 50);
        check_luma_near(f[1], 300, y, 50);
        check_luma_near(f[1], 340, y, 200);
        check_luma_near(f[1], 630, y, 200);
    }

    /* Equal constraints: one adapted buffer for both tracks. */
    expect_size(f[2], 640, 360);
    size_t stride2 = 0;
    CHECK(luma_plane(f[2], &stride2) == luma_plane(f[1], &stride));

    /* aspectRatio 1: the centred 720x720 square, as a view of the source's buffer. */
    MstVideoFrameInfo sq = info_of(f[3]);
    CHECK_EQ_INT(sq.visible_rect.x, 280);
    CHECK_EQ_INT(sq.visible_rect.y, 0);
    CHECK_EQ_INT(sq.visible_rect.width, 720);
    CHECK_EQ_INT(sq.visible_rect.height, 720);
    CHECK(luma_plane(f[3], &stride) == source);
    check_luma_near(f[3], 10, 360, 50);   /* source x 290 */
    check_luma_near(f[3], 710, 360, 200); /* source x 990 */

    /* resizeMode none: unmodified, whatever width asks. */
    expect_size(f[4], SW, SH);
    CHECK(luma_plane(f[4], &stride) == source);

    /* Different constraints: different sizes and buffers. */
    expect_size(f[5], 320, 180);
    CHECK(luma_plane(f[5], &stride) != luma_plane(f[1], &stride2));
    check_luma_near(f[5], 20, 90, 50);
    check_luma_near(f[5], 300, 90, 200);
    for (int i = 0; i < N; i++) CHECK_OK(mst_frame_free(f[i]));

    /* Out of the capabilities: OverconstrainedError naming the property; nothing changes. */
    MstVideoConstraints too_wide = {.struct_size = sizeof(MstVideoConstraints), .width = exact(20000)};
    expect_overconstrained(t_scale, &too_wide, "width");
    MstVideoConstraints min_over_max = {
        .struct_size = sizeof(MstVideoConstraints),
        .width = {.present = MST_CONSTRAIN_MIN | MST_CONSTRAIN_MAX, .min = 300, .max = 200}};
    expect_overconstrained(t_scale, &min_over_max, "width");
    MstVideoConstraints too_tall = {.struct_size = sizeof(MstVideoConstraints), .height = exact(20000)};
    expect_overconstrained(t_scale, &too_tall, "height");
    MstCapabilities caps = MST_STRUCT_INIT(MstCapabilities);
    CHECK_OK(mst_track_get_capabilities(t_scale, &caps));
    CHECK(caps.present & MST_SETTING_FRAME_RATE);
    MstVideoConstraints too_fast = {.struct_size = sizeof(MstVideoConstraints), .frame_rate = {.present = MST_CONSTRAIN_MIN, .min = caps.frame_rate_max * 2 + 1}};
    expect_overconstrained(t_scale, &too_fast, "frameRate");
    /* ideal never fails. */
    MstVideoConstraints ideal_huge = {.struct_size = sizeof(MstVideoConstraints), .width = {.present = MST_CONSTRAIN_IDEAL, .ideal = 20000}};
    CHECK_OK(mst_track_apply_constraints(t_narrow, &ideal_huge));
    /* Another failure is not an OverconstrainedError: no property named. */
    CHECK_STATUS(mst_track_apply_constraints(t_scale, NULL), MST_ERR_NULL_ARG);
    CHECK(mst_last_error_constraint() == NULL);

    CHECK_OK(mst_track_get_constraints(t_scale, &got));
    CHECK_EQ_INT(got.width.present, MST_CONSTRAIN_EXACT);
    CHECK(got.width.exact == 640);
    CHECK_EQ_INT(got.height.present, MST_CONSTRAIN_EXACT);
    CHECK(got.height.exact == 360);
    CHECK_EQ_INT(got.frame_rate.present, 0);
    mst_test_write(g, source_frame(2000));
    MstFrame *still = read_frame(p[1]);
    expect_size(still, 640, 360);
    CHECK_OK(mst_frame_free(still));

    for (int i = 0; i < N; i++) {
        CHECK_OK(mst_processor_free(p[i]));
        CHECK_OK(mst_track_free(tracks[i]));
    }
    CHECK_OK(mst_generator_free(g));
}

/* frameRate max 10 on a 30 fps stream (by timestamps) delivers 10 of 30 frames. */
static void frame_rate(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL, *unconstrained = NULL;
    MstProcessor *p = NULL, *pu = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_clone(t, &unconstrained));
    MstVideoConstraints c = {.struct_size = sizeof(MstVideoConstraints), .frame_rate = {.present = MST_CONSTRAIN_MAX, .max = 10}};
    CHECK_OK(mst_track_apply_constraints(t, &c));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(32), &p));
    CHECK_OK(mst_processor_create(unconstrained, MST_TEST_BUFFER(32), &pu));
    for (int i = 0; i < 30; i++) mst_test_write(g, mst_test_video_frame(64, 36, (int64_t)i * 33333));
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    MstProcessorStats su = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p, &st));
    CHECK_OK(mst_processor_get_stats(pu, &su));
    if (st.total != 10 || su.total != 30) {
        fprintf(stderr, "%s: frameRate max 10 track got %llu of 30 frames (expected 10); the "
                        "unconstrained clone got %llu (expected 30)\n",
                __FILE__, (unsigned long long)st.total, (unsigned long long)su.total);
        exit(1);
    }
    /* The admitted frames are spread over the second, in order. */
    int64_t last = -1;
    for (int i = 0; i < 10; i++) {
        MstFrame *f = read_frame(p);
        int64_t ts = info_of(f).timestamp;
        CHECK(ts > last);
        if (last >= 0) CHECK(ts - last >= 90000);
        last = ts;
        CHECK_OK(mst_frame_free(f));
    }
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_processor_free(pu));
    CHECK_OK(mst_track_free(unconstrained));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

/* Audio generator tracks: informational settings only, nothing to constrain. */
static void audio_track(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    MstVideoConstraints empty = MST_STRUCT_INIT(MstVideoConstraints);
    CHECK_OK(mst_track_apply_constraints(t, &empty));
    MstVideoConstraints width = {.struct_size = sizeof(MstVideoConstraints), .width = exact(640)};
    expect_overconstrained(t, &width, NULL);
    MstVideoConstraints rate = {.struct_size = sizeof(MstVideoConstraints), .frame_rate = {.present = MST_CONSTRAIN_MAX, .max = 10}};
    expect_overconstrained(t, &rate, NULL);
    MstVideoConstraints mode = {.struct_size = sizeof(MstVideoConstraints), .resize_mode = MST_RESIZE_MODE_NONE};
    expect_overconstrained(t, &mode, NULL);
    MstVideoConstraints got = MST_STRUCT_INIT(MstVideoConstraints);
    CHECK_OK(mst_track_get_constraints(t, &got));
    CHECK_EQ_INT(got.width.present | got.height.present | got.frame_rate.present | got.aspect_ratio.present, 0);
    CHECK_EQ_INT(got.resize_mode, 0);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

/* A test-pattern track: its capabilities are its own size and rate. */
static void test_pattern_track(void) {
    MstTestPatternOptions opts = {.struct_size = sizeof(MstTestPatternOptions), .width = 640, .height = 360, .unpaced = true, .frame_count = 1};
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_test_pattern(&opts, &t));
    MstCapabilities caps = MST_STRUCT_INIT(MstCapabilities);
    CHECK_OK(mst_track_get_capabilities(t, &caps));
    CHECK(caps.present & MST_SETTING_WIDTH);
    CHECK(caps.present & MST_SETTING_HEIGHT);
    CHECK(caps.present & MST_SETTING_FRAME_RATE);
    CHECK_EQ_INT(caps.width_min, 1);
    CHECK_EQ_INT(caps.width_max, 640);
    CHECK_EQ_INT(caps.height_min, 1);
    CHECK_EQ_INT(caps.height_max, 360);
    CHECK(caps.frame_rate_min == 0.0);
    CHECK(fabs(caps.frame_rate_max - 30.0) < 1e-9);
    MstVideoConstraints upscale = {.struct_size = sizeof(MstVideoConstraints), .width = exact(1280)};
    expect_overconstrained(t, &upscale, "width");
    MstVideoConstraints faster = {.struct_size = sizeof(MstVideoConstraints), .frame_rate = exact(60)};
    expect_overconstrained(t, &faster, "frameRate");
    MstVideoConstraints down = {.struct_size = sizeof(MstVideoConstraints), .width = exact(320)};
    CHECK_OK(mst_track_apply_constraints(t, &down));
    CHECK_OK(mst_track_free(t));
}

/* Camera controls (since 1.3) on a track whose source has none: a required member fails
 * naming the control, an ideal alone is ignored, modes and `reserved` are checked, and what
 * was applied comes back from mst_track_get_constraints(). */
static void camera_controls_without_a_camera(void) {
    MstTestPatternOptions opts = {.struct_size = sizeof(MstTestPatternOptions), .width = 64, .height = 48, .unpaced = true, .frame_count = 1};
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_test_pattern(&opts, &t));
    MstCapabilities caps = MST_STRUCT_INIT(MstCapabilities);
    CHECK_OK(mst_track_get_capabilities(t, &caps));
    CHECK_EQ_INT(caps.present & (MST_SETTING_BRIGHTNESS | MST_SETTING_ZOOM | MST_SETTING_EXPOSURE_MODE), 0);
    MstVideoConstraints zoom = {.struct_size = sizeof(MstVideoConstraints), .zoom = exact(2)};
    expect_overconstrained(t, &zoom, "zoom");
    MstVideoConstraints focus = {.struct_size = sizeof(MstVideoConstraints),
                                 .focus_mode = {.present = MST_CONSTRAIN_EXACT, .exact = MST_METERING_MODE_MANUAL}};
    expect_overconstrained(t, &focus, "focusMode");
    MstVideoConstraints bad = {.struct_size = sizeof(MstVideoConstraints),
                               .exposure_mode = {.present = MST_CONSTRAIN_IDEAL, .ideal = 5}};
    CHECK_STATUS(mst_track_apply_constraints(t, &bad), MST_ERR_INVALID_ARG);
    MstVideoConstraints reserved = {.struct_size = sizeof(MstVideoConstraints), .reserved = 1};
    CHECK_STATUS(mst_track_apply_constraints(t, &reserved), MST_ERR_INVALID_ARG);
    MstVideoConstraints ideal = {.struct_size = sizeof(MstVideoConstraints),
                                 .brightness = {.present = MST_CONSTRAIN_IDEAL, .ideal = 10},
                                 .white_balance_mode = {.present = MST_CONSTRAIN_IDEAL, .ideal = MST_METERING_MODE_CONTINUOUS}};
    CHECK_OK(mst_track_apply_constraints(t, &ideal));
    MstVideoConstraints got = MST_STRUCT_INIT(MstVideoConstraints);
    CHECK_OK(mst_track_get_constraints(t, &got));
    CHECK_EQ_INT(got.brightness.present, MST_CONSTRAIN_IDEAL);
    CHECK(got.brightness.ideal == 10.0);
    CHECK_EQ_INT(got.white_balance_mode.present, MST_CONSTRAIN_IDEAL);
    CHECK_EQ_INT(got.white_balance_mode.ideal, MST_METERING_MODE_CONTINUOUS);
    MstSettings s = MST_STRUCT_INIT(MstSettings);
    CHECK_OK(mst_track_get_settings(t, &s));
    CHECK_EQ_INT(s.present & (MST_SETTING_BRIGHTNESS | MST_SETTING_WHITE_BALANCE_MODE), 0);
    CHECK_OK(mst_track_free(t));
}

int main(void) {
    fill_source();
    camera_controls_without_a_camera();
    video_generator_tracks();
    frame_rate();
    audio_track();
    test_pattern_track();
    return 0;
}
