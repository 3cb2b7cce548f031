/* Constraint values are checked before any device is opened, whether or not the device exists
 * (so a typo in a value is never reported as a missing device), with a message naming the
 * property, and nothing is created: NaN or infinite values and unknown `present` bits are
 * MST_ERR_INVALID_ARG (WebIDL's double refuses non-finite values); required members that
 * exclude each other (min above max) are MST_ERR_OVERCONSTRAINED naming the property, as
 * SelectSettings finds no settings for them, whatever the device offers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static MstConstrainRange range(uint32_t present, double min, double max, double exact, double ideal) {
    MstConstrainRange r = {.present = present, .min = min, .max = max, .exact = exact, .ideal = ideal};
    return r;
}

static void expect_refused(MstStatus got, MstStatus want, const char *what, const char *property) {
    if (got != want) {
        fprintf(stderr, "%s returned %s, expected %s (last error: %s)\n", what, mst_status_str(got),
                mst_status_str(want), mst_last_error_message());
        exit(1);
    }
    if (!strstr(mst_last_error_message(), property)) {
        fprintf(stderr, "%s: the message \"%s\" does not name %s\n", what, mst_last_error_message(), property);
        exit(1);
    }
    const char *constraint = mst_last_error_constraint();
    if (want == MST_ERR_OVERCONSTRAINED ? constraint == NULL || strcmp(constraint, property) != 0 : constraint != NULL) {
        fprintf(stderr, "%s: mst_last_error_constraint() is %s\n", what, constraint ? constraint : "NULL");
        exit(1);
    }
}

static void expect_invalid(MstStatus got, const char *what, const char *property) {
    expect_refused(got, MST_ERR_INVALID_ARG, what, property);
}

int main(void) {
    const char *missing_mics[] = {"hw:CARD=NoSuchCardAtAll,DEV=0", NULL};
    MstTrack *const canary = (MstTrack *)(uintptr_t)0x5a5a5a5a;
    for (size_t i = 0; i < sizeof missing_mics / sizeof missing_mics[0]; i++) {
        const char *id = missing_mics[i];
        MstAudioConstraints c = MST_STRUCT_INIT(MstAudioConstraints);
        MstTrack *out = canary;
        c.sample_rate = range(MST_CONSTRAIN_EXACT, 0, 0, NAN, 0);
        expect_invalid(mst_track_create_microphone(id, &c, &out), "sampleRate exact NaN", "sampleRate");
        c = (MstAudioConstraints)MST_STRUCT_INIT(MstAudioConstraints);
        c.sample_size = range(MST_CONSTRAIN_MIN, INFINITY, 0, 0, 0);
        expect_invalid(mst_track_create_microphone(id, &c, &out), "sampleSize min +inf", "sampleSize");
        c = (MstAudioConstraints)MST_STRUCT_INIT(MstAudioConstraints);
        c.channel_count = range(MST_CONSTRAIN_MIN | MST_CONSTRAIN_MAX, 4, 2, 0, 0);
        expect_refused(mst_track_create_microphone(id, &c, &out), MST_ERR_OVERCONSTRAINED, "channelCount min > max",
                       "channelCount");
        c = (MstAudioConstraints)MST_STRUCT_INIT(MstAudioConstraints);
        c.sample_rate = range(0x100, 0, 0, 0, 0);
        expect_invalid(mst_track_create_microphone(id, &c, &out), "sampleRate unknown bit", "sampleRate");
        CHECK(out == canary);
    }

    const char *missing_cameras[] = {"v4l2:no-such-bus:0", NULL};
    for (size_t i = 0; i < sizeof missing_cameras / sizeof missing_cameras[0]; i++) {
        const char *id = missing_cameras[i];
        MstVideoConstraints c = MST_STRUCT_INIT(MstVideoConstraints);
        MstTrack *out = canary;
        c.width = range(MST_CONSTRAIN_IDEAL, 0, 0, 0, NAN);
        expect_invalid(mst_track_create_camera(id, &c, NULL, &out), "width ideal NaN", "width");
        c = (MstVideoConstraints)MST_STRUCT_INIT(MstVideoConstraints);
        c.frame_rate = range(MST_CONSTRAIN_MAX, 0, -INFINITY, 0, 0);
        expect_invalid(mst_track_create_camera(id, &c, NULL, &out), "frameRate max -inf", "frameRate");
        c = (MstVideoConstraints)MST_STRUCT_INIT(MstVideoConstraints);
        c.height = range(MST_CONSTRAIN_EXACT, 0, 0, INFINITY, 0);
        expect_invalid(mst_track_create_camera(id, &c, NULL, &out), "height exact +inf", "height");
        c = (MstVideoConstraints)MST_STRUCT_INIT(MstVideoConstraints);
        c.aspect_ratio = range(MST_CONSTRAIN_MIN | MST_CONSTRAIN_MAX, 2, 1, 0, 0);
        expect_refused(mst_track_create_camera(id, &c, NULL, &out), MST_ERR_OVERCONSTRAINED, "aspectRatio min > max",
                       "aspectRatio");
        c = (MstVideoConstraints)MST_STRUCT_INIT(MstVideoConstraints);
        c.width.present = 0x100;
        expect_invalid(mst_track_create_camera(id, &c, NULL, &out), "width unknown bit", "width");
        CHECK(out == canary);
    }
    printf("test_constraint_values: ok\n");
    return 0;
}
