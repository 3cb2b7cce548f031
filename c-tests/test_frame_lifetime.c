/* Frame handles and media lifetime: clone shares the media; handles close independently (a
 * closed handle answers MST_ERR_INVALID_STATE until mst_frame_free releases it, exactly once);
 * wrapped caller memory is used in place and released exactly once after the last clone is
 * closed (never when wrapping fails), and processor sequence numbers survive cloning. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define W 32
#define H 16
#define I420_SIZE (W * H * 3 / 2)

struct release_log {
    int calls;
    void *last_user_data;
};
static struct release_log release_log;

static void on_release(void *user_data) {
    release_log.calls++;
    release_log.last_user_data = user_data;
}

static const uint8_t *plane0(const MstFrame *f, size_t *stride) {
    const uint8_t *d = NULL;
    size_t s = 0, len = 0;
    CHECK_OK(mst_frame_get_video_plane(f, 0, &d, &s, &len));
    CHECK(d != NULL);
    CHECK(len >= (size_t)s * (H - 1) + W);
    if (stride) *stride = s;
    return d;
}

static void check_clone_and_close(void) {
    uint8_t buf[I420_SIZE];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7);
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 777);
    MstFrame *orig = NULL;
    CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &orig));
    MstFrame *clone = NULL;
    CHECK_OK(mst_frame_clone(orig, &clone));
    CHECK(clone != orig);
    CHECK(plane0(orig, NULL) == plane0(clone, NULL)); /* the same media, not a copy */

    CHECK_OK(mst_frame_close(orig));
    /* The original's handle is closed (WebCodecs' close: its media reference is gone)... */
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_STATUS(mst_frame_get_video_info(orig, &info), MST_ERR_INVALID_STATE);
    MstKind kind;
    CHECK_STATUS(mst_frame_get_kind(orig, &kind), MST_ERR_INVALID_STATE);
    MstFrame *again = NULL;
    CHECK_STATUS(mst_frame_clone(orig, &again), MST_ERR_INVALID_STATE);
    uint8_t dst[I420_SIZE];
    CHECK_STATUS(mst_frame_video_copy_to(orig, dst, sizeof dst, NULL, NULL), MST_ERR_INVALID_STATE);
    size_t size = 0;
    CHECK_STATUS(mst_frame_video_allocation_size(orig, NULL, &size), MST_ERR_INVALID_STATE);
    const uint8_t *d = NULL;
    size_t stride = 0, len = 0;
    CHECK_STATUS(mst_frame_get_video_plane(orig, 0, &d, &stride, &len), MST_ERR_INVALID_STATE);
    CHECK_OK(mst_frame_close(orig)); /* closing a closed frame does nothing */
    /* ...but still a handle until freed, once... */
    CHECK_OK(mst_frame_free(orig));
    CHECK_STATUS(mst_frame_free(orig), MST_ERR_INVALID_STATE);
    CHECK_STATUS(mst_frame_close(orig), MST_ERR_INVALID_STATE);
    CHECK_STATUS(mst_frame_get_video_info(orig, &info), MST_ERR_INVALID_STATE);
    /* ...and the clone still reads the media. */
    CHECK_OK(mst_frame_get_video_info(clone, &info));
    CHECK_EQ_INT(info.timestamp, 777);
    CHECK_EQ_INT(info.coded_width, W);
    CHECK_OK(mst_frame_video_copy_to(clone, dst, sizeof dst, NULL, NULL));
    CHECK(memcmp(dst, buf, sizeof buf) == 0);

    /* Free alone closes too. */
    CHECK_OK(mst_frame_free(clone));
    CHECK_STATUS(mst_frame_free(clone), MST_ERR_INVALID_STATE);
    CHECK_STATUS(mst_frame_get_video_info(clone, &info), MST_ERR_INVALID_STATE);
    CHECK_OK(mst_frame_free(NULL));
    CHECK_STATUS(mst_frame_close(NULL), MST_ERR_NULL_ARG);

    /* Audio frames too. */
    const int16_t samples[4] = {1, 2, 3, 4};
    MstAudioDataInit ainit = {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_S16, 8000.0f, 4, 1, 5};
    MstFrame *a = NULL, *a2 = NULL;
    CHECK_OK(mst_frame_create_audio(&ainit, (const uint8_t *)samples, sizeof samples, &a));
    CHECK_OK(mst_frame_clone(a, &a2));
    CHECK_OK(mst_frame_close(a));
    MstAudioDataInfo ainfo = MST_STRUCT_INIT(MstAudioDataInfo);
    CHECK_STATUS(mst_frame_get_audio_info(a, &ainfo), MST_ERR_INVALID_STATE);
    CHECK_STATUS(mst_frame_audio_copy_to(a, (uint8_t *)&ainfo, sizeof ainfo, NULL), MST_ERR_INVALID_STATE);
    CHECK_OK(mst_frame_free(a));
    CHECK_OK(mst_frame_get_audio_info(a2, &ainfo));
    int16_t out[4];
    CHECK_OK(mst_frame_audio_copy_to(a2, (uint8_t *)out, sizeof out, NULL));
    CHECK(memcmp(out, samples, sizeof out) == 0);
    CHECK_OK(mst_frame_free(a2));
    CHECK_STATUS(mst_frame_free(a2), MST_ERR_INVALID_STATE);
}

static void check_wrapped_memory(void) {
    /* Padded layout: planes in order with gaps, the first two with padded strides (the last
     * one packed, so `len` is the size needed under any reading of the rules). */
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 1);
    init.num_planes = 3;
    init.layout[0] = (MstPlaneLayout){64, W + 16};
    init.layout[1] = (MstPlaneLayout){64 + (W + 16) * H + 8, W / 2 + 8};
    init.layout[2] = (MstPlaneLayout){init.layout[1].offset + (W / 2 + 8) * (H / 2) + 8, W / 2};
    size_t len = init.layout[2].offset + (W / 2) * (H / 2);
    uint8_t *mem = malloc(len);
    CHECK(mem != NULL);
    for (size_t i = 0; i < len; i++) mem[i] = (uint8_t)(i * 3 + 1);
    int token = 0;
    void *user_data = &token;

    memset(&release_log, 0, sizeof release_log);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_wrap_video(&init, mem, len, on_release, user_data, &f));
    CHECK_EQ_INT(release_log.calls, 0);
    /* Zero-copy: every plane is the caller's memory, with the caller's stride. */
    for (uint32_t p = 0; p < 3; p++) {
        const uint8_t *d = NULL;
        size_t stride = 0, plen = 0;
        CHECK_OK(mst_frame_get_video_plane(f, p, &d, &stride, &plen));
        if (d != mem + init.layout[p].offset)
            MST_TEST_FAIL_("wrapped plane %u is at %p, the caller's memory at %p", p, (const void *)d,
                           (const void *)(mem + init.layout[p].offset));
        CHECK_EQ_INT(stride, init.layout[p].stride);
    }
    /* A copy_to reads it packed. */
    uint8_t packed[I420_SIZE];
    CHECK_OK(mst_frame_video_copy_to(f, packed, sizeof packed, NULL, NULL));
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) CHECK_EQ_INT(packed[y * W + x], mem[init.layout[0].offset + y * (W + 16) + x]);

    MstFrame *c1 = NULL, *c2 = NULL;
    CHECK_OK(mst_frame_clone(f, &c1));
    CHECK_OK(mst_frame_clone(c1, &c2));
    CHECK(plane0(c2, NULL) == mem + init.layout[0].offset);
    CHECK_OK(mst_frame_free(f));
    CHECK_EQ_INT(release_log.calls, 0); /* not after the first handle goes */
    CHECK_OK(mst_frame_free(c2));
    CHECK_EQ_INT(release_log.calls, 0);
    CHECK_OK(mst_frame_close(c1));
    CHECK_EQ_INT(release_log.calls, 1); /* after the last close */
    CHECK(release_log.last_user_data == user_data);
    CHECK_OK(mst_frame_free(c1));
    CHECK_STATUS(mst_frame_free(c1), MST_ERR_INVALID_STATE);
    CHECK_EQ_INT(release_log.calls, 1); /* exactly once */

    /* A wrap that fails validation keeps nothing and never releases. */
    memset(&release_log, 0, sizeof release_log);
    MstVideoFrameInit bad = init;
    bad.coded_width = 0;
    MstFrame *none = (MstFrame *)(uintptr_t)0x5e5e;
    CHECK_STATUS(mst_frame_wrap_video(&bad, mem, len, on_release, user_data, &none), MST_ERR_INVALID_ARG);
    CHECK_STATUS(mst_frame_wrap_video(&init, mem, len - 1, on_release, user_data, &none), MST_ERR_INVALID_ARG);
    bad = init;
    bad.layout[1].stride = 1;
    CHECK_STATUS(mst_frame_wrap_video(&bad, mem, len, on_release, user_data, &none), MST_ERR_INVALID_ARG);
    CHECK_STATUS(mst_frame_wrap_video(&init, mem, len, on_release, user_data, NULL), MST_ERR_NULL_ARG);
    CHECK(none == (MstFrame *)(uintptr_t)0x5e5e);
    CHECK_EQ_INT(release_log.calls, 0);
    MstAudioDataInit abad = {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_F32, 48000.0f, 0, 1, 0};
    CHECK_STATUS(mst_frame_wrap_audio(&abad, mem, len, on_release, user_data, &none), MST_ERR_INVALID_ARG);
    CHECK_EQ_INT(release_log.calls, 0);
    /* The memory is still ours: write it, and wrap it again with no release callback. */
    memset(mem, 0x10, len);
    CHECK_OK(mst_frame_wrap_video(&init, mem, len, NULL, NULL, &f));
    CHECK_OK(mst_frame_free(f));

    /* Wrapped audio: released once, after the last clone. */
    MstAudioDataInit ainit = {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR, 48000.0f, 4, 2, 0};
    CHECK_OK(mst_frame_wrap_audio(&ainit, mem, 32, on_release, mem, &f));
    CHECK_OK(mst_frame_clone(f, &c1));
    CHECK_OK(mst_frame_free(f));
    CHECK_EQ_INT(release_log.calls, 0);
    CHECK_OK(mst_frame_free(c1));
    CHECK_EQ_INT(release_log.calls, 1);
    CHECK(release_log.last_user_data == mem);

    free(mem);
}

/* A wrapped frame written to a generator reaches the processor without a copy and is
 * released only when the frame read from the processor is closed. */
static void check_wrapped_through_generator(void) {
    uint8_t *mem = malloc(I420_SIZE);
    CHECK(mem != NULL);
    memset(mem, 99, I420_SIZE);
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &p));

    memset(&release_log, 0, sizeof release_log);
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 42);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_wrap_video(&init, mem, I420_SIZE, on_release, g, &f));
    MstFrame *keep = NULL;
    CHECK_OK(mst_frame_clone(f, &keep));
    CHECK_OK(mst_generator_write(g, f));
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHECK_STATUS(mst_frame_get_video_info(f, &info), MST_ERR_INVALID_STATE); /* the write closed f */
    CHECK_OK(mst_frame_free(f));
    CHECK_OK(mst_frame_get_video_info(keep, &info)); /* the clone survives the write */
    CHECK_OK(mst_frame_free(keep));
    CHECK_EQ_INT(release_log.calls, 0); /* still queued in the processor */

    MstFrame *r = NULL;
    CHECK_OK(mst_processor_read(p, 10000, &r));
    CHECK(plane0(r, NULL) == mem);
    CHECK_OK(mst_frame_get_video_info(r, &info));
    CHECK_EQ_INT(info.timestamp, 42);
    CHECK_EQ_INT(release_log.calls, 0);
    CHECK_OK(mst_frame_free(r));
    CHECK_EQ_INT(release_log.calls, 1);
    CHECK(release_log.last_user_data == g);

    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    free(mem);
}

static void check_sequence_survives_clone(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(8), &p));
    static uint8_t buf[I420_SIZE];
    for (int i = 0; i < 3; i++) {
        MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, W, H, 1000 * i);
        MstFrame *f = NULL;
        CHECK_OK(mst_frame_create_video(&init, buf, sizeof buf, &f));
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHECK_OK(mst_frame_get_video_info(f, &info));
        CHECK_EQ_INT(info.sequence, 0); /* not from a processor */
        CHECK_OK(mst_generator_write(g, f));
        CHECK_OK(mst_frame_free(f));
    }
    for (uint64_t want = 1; want <= 3; want++) {
        MstFrame *r = NULL, *c = NULL, *cc = NULL;
        CHECK_OK(mst_processor_read(p, 10000, &r));
        CHECK_OK(mst_frame_clone(r, &c));
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHECK_OK(mst_frame_get_video_info(r, &info));
        CHECK_EQ_INT(info.sequence, want);
        CHECK_OK(mst_frame_free(r));
        CHECK_OK(mst_frame_get_video_info(c, &info));
        CHECK_EQ_INT(info.sequence, want);
        CHECK_EQ_INT(info.timestamp, 1000 * (int64_t)(want - 1));
        CHECK_OK(mst_frame_clone(c, &cc));
        CHECK_OK(mst_frame_free(c));
        CHECK_OK(mst_frame_get_video_info(cc, &info));
        CHECK_EQ_INT(info.sequence, want);
        CHECK_OK(mst_frame_free(cc));
    }
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));

    /* Audio frames as well. */
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(8), &p));
    const float s[2] = {0.5f, -0.5f};
    for (int i = 0; i < 2; i++) {
        MstAudioDataInit init = {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_F32, 48000.0f, 2, 1, i};
        MstFrame *f = NULL;
        CHECK_OK(mst_frame_create_audio(&init, (const uint8_t *)s, sizeof s, &f));
        CHECK_OK(mst_generator_write(g, f));
        CHECK_OK(mst_frame_free(f));
    }
    for (uint64_t want = 1; want <= 2; want++) {
        MstFrame *r = NULL, *c = NULL;
        CHECK_OK(mst_processor_read(p, 10000, &r));
        CHECK_OK(mst_frame_clone(r, &c));
        CHECK_OK(mst_frame_free(r));
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(c, &info));
        CHECK_EQ_INT(info.sequence, want);
        CHECK_OK(mst_frame_free(c));
    }
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

int main(void) {
    check_clone_and_close();
    check_wrapped_memory();
    check_wrapped_through_generator();
    check_sequence_survives_clone();
    printf("test_frame_lifetime: ok\n");
    return 0;
}
