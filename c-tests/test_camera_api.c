/* The camera's C API where no camera is needed (on a machine without one, as the build and CI
 * hosts; tests/vm_camera.rs and tests/vm_examples.rs cover the device itself in the VM):
 * argument checks that come before any device is touched, the options' pixel format, the
 * camera stats on a track that is not a camera, and capture_sequence on frames that were not
 * captured. */
#include "common.h"

static uint32_t fourcc(char a, char b, char c, char d) {
    return (uint32_t)(uint8_t)a | (uint32_t)(uint8_t)b << 8 | (uint32_t)(uint8_t)c << 16 |
           (uint32_t)(uint8_t)d << 24;
}

int main(void) {
    /* A failing call leaves its out-pointer as it was: a sentinel, so writing NULL would show. */
    MstTrack *const untouched = (MstTrack *)(uintptr_t)0x5a5a5a5a;
    MstTrack *t = untouched;
    CHECK_STATUS(mst_track_create_camera(NULL, NULL, NULL, NULL), MST_ERR_NULL_ARG);

    /* A pixel format libmst does not capture is refused before any device is looked at, and
     * the message names it. */
    MstCameraOptions opts = {sizeof(MstCameraOptions), fourcc('A', 'B', 'C', 'D')};
    CHECK_STATUS(mst_track_create_camera(NULL, NULL, &opts, &t), MST_ERR_INVALID_ARG);
    CHECK(t == untouched);
    CHECK(strstr(mst_last_error_message(), "ABCD") != NULL);

    /* (Bad constraint values likewise: test_constraint_values.c.) */

    /* Known formats get as far as the device: on a machine without cameras, NO_DEVICE with a
     * message; with one (a developer's laptop), a track. Both are fine here; anything else is
     * not. */
    const uint32_t known[] = {fourcc('Y', 'U', 'Y', 'V'), fourcc('R', 'G', 'B', '3'),
                              fourcc('M', 'J', 'P', 'G'), fourcc('J', 'P', 'E', 'G'),
                              fourcc('X', 'R', '2', '4'), 0};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        opts.pixel_format = known[i];
        MstStatus st = mst_track_create_camera("v4l2:no-such-bus:0", NULL, &opts, &t);
        CHECK_EQ_INT(st, MST_ERR_NO_DEVICE);
        CHECK(strstr(mst_last_error_message(), "no-such-bus") != NULL);
        CHECK(t == untouched);
    }

    /* Camera stats on a test pattern: a type error, not zeros. */
    MstTestPatternOptions po = MST_STRUCT_INIT(MstTestPatternOptions);
    po.width = 64;
    po.height = 48;
    po.frame_count = 1;
    po.unpaced = true; /* waits for its first consumer: the frame is not missed */
    CHECK_OK(mst_track_create_test_pattern(&po, &t));
    MstCameraStats cs = MST_STRUCT_INIT(MstCameraStats);
    CHECK_STATUS(mst_track_get_camera_stats(t, &cs), MST_ERR_TYPE);
    CHECK_STATUS(mst_track_get_camera_stats(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_camera_stats(NULL, &cs), MST_ERR_NULL_ARG);

    /* Frames that were not captured from a camera have no capture sequence and no dequeue
     * time (-1). */
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, NULL, &p));
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 5000, &f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_OK(mst_frame_get_video_info(f, &info));
    CHECK_EQ_INT(info.capture_sequence, -1);
    CHECK_EQ_INT(info.received, -1);
    CHECK_EQ_INT(info.sequence, 1);
    CHECK_OK(mst_frame_free(f));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    return 0;
}
