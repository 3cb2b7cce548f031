/* Settings and capabilities of generator tracks (spec 2.2.4.3): video settings describe the
 * latest frame the track delivered (width, height, aspectRatio rounded to 10 decimals, a frame
 * rate estimate, resizeMode), after the track's own adaptation; audio settings (sampleRate,
 * channelCount, sampleSize) describe the latest AudioData. Video capabilities span what a
 * VideoFrame can be and offer both resize modes; audio capabilities are empty. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "common.h"

#define VIDEO_MEMBERS                                                                              \
    (MST_SETTING_WIDTH | MST_SETTING_HEIGHT | MST_SETTING_FRAME_RATE | MST_SETTING_ASPECT_RATIO |  \
     MST_SETTING_RESIZE_MODE)
#define AUDIO_MEMBERS (MST_SETTING_SAMPLE_RATE | MST_SETTING_CHANNEL_COUNT | MST_SETTING_SAMPLE_SIZE)

static void check_near(const char *what, double got, double expected, double tolerance) {
    if (!(fabs(got - expected) <= tolerance)) {
        fprintf(stderr, "%s: %s is %.12f, expected %.12f +- %g\n", __FILE__, what, got, expected, tolerance);
        exit(1);
    }
}

static MstSettings settings(const MstTrack *t) {
    MstSettings s = MST_STRUCT_INIT(MstSettings);
    CHECK_OK(mst_track_get_settings(t, &s));
    return s;
}

static void video_settings(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL, *scaled = NULL, *square = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_clone(t, &scaled));
    CHECK_OK(mst_track_clone(t, &square));
    MstVideoConstraints c_scaled = {.struct_size = sizeof(MstVideoConstraints), .width = {.present = MST_CONSTRAIN_EXACT, .exact = 320},
                                    .height = {.present = MST_CONSTRAIN_EXACT, .exact = 240}};
    CHECK_OK(mst_track_apply_constraints(scaled, &c_scaled));
    MstVideoConstraints c_square = {.struct_size = sizeof(MstVideoConstraints), .aspect_ratio = {.present = MST_CONSTRAIN_EXACT, .exact = 1.0}};
    CHECK_OK(mst_track_apply_constraints(square, &c_square));

    /* Before any frame: nothing to report. */
    MstSettings s = settings(t);
    CHECK_EQ_INT(s.present & (MST_SETTING_WIDTH | MST_SETTING_HEIGHT), 0);
    CHECK_EQ_INT(s.present, 0);

    /* After a 640x480 frame. */
    mst_test_write(g, mst_test_video_frame(640, 480, 0));
    s = settings(t);
    CHECK(s.present & MST_SETTING_WIDTH);
    CHECK(s.present & MST_SETTING_HEIGHT);
    CHECK(s.present & MST_SETTING_ASPECT_RATIO);
    CHECK(s.present & MST_SETTING_RESIZE_MODE);
    CHECK_EQ_INT(s.present & AUDIO_MEMBERS, 0);
    CHECK_EQ_INT(s.width, 640);
    CHECK_EQ_INT(s.height, 480);
    check_near("aspectRatio of 640x480", s.aspect_ratio, 1.3333333333, 1e-12);
    CHECK(s.resize_mode == MST_RESIZE_MODE_NONE || s.resize_mode == MST_RESIZE_MODE_CROP_AND_SCALE);

    /* The tracks' own adaptation is what they report. */
    s = settings(scaled);
    CHECK_EQ_INT(s.width, 320);
    CHECK_EQ_INT(s.height, 240);
    check_near("aspectRatio of 320x240", s.aspect_ratio, 1.3333333333, 1e-12);
    CHECK(s.present & MST_SETTING_RESIZE_MODE);
    CHECK_EQ_INT(s.resize_mode, MST_RESIZE_MODE_CROP_AND_SCALE);
    s = settings(square);
    CHECK_EQ_INT(s.width, 480);
    CHECK_EQ_INT(s.height, 480);
    check_near("aspectRatio of 480x480", s.aspect_ratio, 1.0, 1e-12);
    CHECK_EQ_INT(s.resize_mode, MST_RESIZE_MODE_CROP_AND_SCALE);

    /* Frames 40 ms apart: about 25 frames per second. */
    for (int i = 1; i < 20; i++) mst_test_write(g, mst_test_video_frame(640, 480, (int64_t)i * 40000));
    s = settings(t);
    CHECK(s.present & MST_SETTING_FRAME_RATE);
    check_near("frameRate", s.frame_rate, 25.0, 0.5);

    /* The latest frame counts: a 1280x720 one changes size and aspect ratio. */
    mst_test_write(g, mst_test_video_frame(1280, 720, 20 * 40000));
    s = settings(t);
    CHECK_EQ_INT(s.width, 1280);
    CHECK_EQ_INT(s.height, 720);
    check_near("aspectRatio of 1280x720", s.aspect_ratio, 1.7777777778, 1e-12);
    s = settings(scaled); /* 320x240 from a 16:9 source: cropped to 4:3, then scaled */
    CHECK_EQ_INT(s.width, 320);
    CHECK_EQ_INT(s.height, 240);
    s = settings(square);
    CHECK_EQ_INT(s.width, 720);
    CHECK_EQ_INT(s.height, 720);

    CHECK_OK(mst_track_free(square));
    CHECK_OK(mst_track_free(scaled));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

static void audio_settings(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_EQ_INT(settings(t).present, 0);

    mst_test_write(g, mst_test_audio_data(MST_AUDIO_SAMPLE_FORMAT_S16, 2, 48000.0f, 480, 2, 0));
    MstSettings s = settings(t);
    CHECK_EQ_INT(s.present & AUDIO_MEMBERS, AUDIO_MEMBERS);
    CHECK_EQ_INT(s.present & VIDEO_MEMBERS, 0);
    check_near("sampleRate", s.sample_rate, 48000.0, 0.0);
    CHECK_EQ_INT(s.channel_count, 2);
    CHECK_EQ_INT(s.sample_size, 16);

    /* The latest AudioData counts. */
    mst_test_write(g, mst_test_audio_data(MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR, 4, 44100.0f, 480, 1, 0));
    s = settings(t);
    check_near("sampleRate", s.sample_rate, 44100.0, 0.0);
    CHECK_EQ_INT(s.channel_count, 1);
    CHECK_EQ_INT(s.sample_size, 32);
    CHECK_EQ_INT(s.present & VIDEO_MEMBERS, 0);

    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

static void capabilities(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    MstCapabilities caps = MST_STRUCT_INIT(MstCapabilities);
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_get_capabilities(t, &caps));
    CHECK_EQ_INT(caps.present & VIDEO_MEMBERS, VIDEO_MEMBERS);
    CHECK_EQ_INT(caps.present & AUDIO_MEMBERS, 0);
    CHECK_EQ_INT(caps.width_min, 1);
    CHECK_EQ_INT(caps.width_max, 16384);
    CHECK_EQ_INT(caps.height_min, 1);
    CHECK_EQ_INT(caps.height_max, 16384);
    CHECK(caps.frame_rate_min == 0.0);
    CHECK(caps.frame_rate_max > 0.0);
    /* The smallest and largest aspect ratios a VideoFrame may have: 1/16384 .. 16384. */
    check_near("aspectRatio min", caps.aspect_ratio_min, 1.0 / 16384.0, 1e-9);
    check_near("aspectRatio max", caps.aspect_ratio_max, 16384.0, 1e-6);
    CHECK(caps.resize_mode_none);
    CHECK(caps.resize_mode_crop_and_scale);
    /* A clone reports the same. */
    MstTrack *clone = NULL;
    MstCapabilities clone_caps = MST_STRUCT_INIT(MstCapabilities);
    CHECK_OK(mst_track_clone(t, &clone));
    CHECK_OK(mst_track_get_capabilities(clone, &clone_caps));
    CHECK_EQ_INT(clone_caps.present, caps.present);
    CHECK_EQ_INT(clone_caps.width_max, caps.width_max);
    CHECK_OK(mst_track_free(clone));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));

    /* Audio generator tracks: getCapabilities MUST return an empty object. */
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_get_capabilities(t, &caps));
    CHECK_EQ_INT(caps.present, 0);
    mst_test_write(g, mst_test_audio_data(MST_AUDIO_SAMPLE_FORMAT_S16, 2, 48000.0f, 480, 2, 0));
    CHECK_OK(mst_track_get_capabilities(t, &caps));
    CHECK_EQ_INT(caps.present, 0);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

int main(void) {
    video_settings();
    audio_settings();
    capabilities();
    return 0;
}
