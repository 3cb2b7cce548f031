/* The generator's writable follows the Streams standard when a write is rejected:
 * - a write the sink rejects (a frame of the other kind, a closed frame, a freed frame handle,
 *   a handle that is not a frame) returns MST_ERR_TYPE and errors the writable:
 *   mst_generator_get_state() says MST_WRITABLE_STATE_ERRORED, and every later write, of any
 *   frame, returns the stored error (MST_ERR_TYPE, the message naming the first error); close
 *   does nothing and returns it; the abort algorithm is not run, so connected tracks stay live
 *   until the generator is freed;
 * - a write to a closed writable returns MST_ERR_TYPE (the Streams TypeError) and leaves it
 *   closed, not errored;
 * - in every failure the caller keeps the frame, untouched and still readable, and nothing
 *   reaches the tracks;
 * - NULL arguments are MST_ERR_NULL_ARG and error nothing (the call never reached the stream). */
#include <stdio.h>
#include <string.h>

#include "common.h"

enum { W = 16, H = 16, AUDIO_FRAMES = 480 };

static MstWritableState state(const MstGenerator *g) {
    MstWritableState s = 0;
    CHECK_OK(mst_generator_get_state(g, &s));
    return s;
}

/* A frame of `kind`, every video byte 0x80, every audio byte 0. */
static MstFrame *frame_of(int32_t kind, int64_t ts) {
    if (kind == MST_KIND_VIDEO) return mst_test_video_frame(W, H, ts);
    return mst_test_audio_data(MST_AUDIO_SAMPLE_FORMAT_S16, sizeof(int16_t), 48000.0f, AUDIO_FRAMES, 2, ts);
}

/* `f` is still open, its timestamp `ts` and its media as frame_of() made it. */
static void expect_frame_intact(const MstFrame *f, int64_t ts) {
    MstKind kind = 0;
    CHECK_OK(mst_frame_get_kind(f, &kind));
    const uint8_t *data = NULL;
    size_t stride = 0, len = 0;
    if (kind == MST_KIND_VIDEO) {
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHECK_OK(mst_frame_get_video_info(f, &info));
        CHECK_EQ_INT(info.timestamp, ts);
        CHECK_EQ_INT(info.coded_width, W);
        CHECK_OK(mst_frame_get_video_plane(f, 0, &data, &stride, &len));
        CHECK(data != NULL && len >= (size_t)W * H && data[0] == 0x80 && data[W * H - 1] == 0x80);
    } else {
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(f, &info));
        CHECK_EQ_INT(info.timestamp, ts);
        CHECK_EQ_INT(info.number_of_frames, AUDIO_FRAMES);
        CHECK_OK(mst_frame_get_audio_plane(f, 0, &data, &len));
        CHECK(data != NULL && len == AUDIO_FRAMES * 2 * sizeof(int16_t) && data[0] == 0);
    }
}

/* A rejected write: how a case makes it, on a generator of `kind`. Returns the write's status. */
typedef MstStatus (*reject_fn)(MstGenerator *g, int32_t kind);

/* A generator of `kind` whose writable is errored by `reject`, which must fail with MST_ERR_TYPE. */
static void errored_by(int32_t kind, const char *what, reject_fn reject) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(kind, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, NULL, &p));
    CHECK_EQ_INT(state(g), MST_WRITABLE_STATE_WRITABLE);

    /* NULLs error nothing. */
    CHECK_STATUS(mst_generator_write(g, NULL), MST_ERR_NULL_ARG);
    MstFrame *spare = frame_of(kind, 1);
    CHECK_STATUS(mst_generator_write(NULL, spare), MST_ERR_NULL_ARG);
    CHECK_OK(mst_frame_free(spare));
    CHECK_EQ_INT(state(g), MST_WRITABLE_STATE_WRITABLE);

    MstStatus got = reject(g, kind);
    if (got != MST_ERR_TYPE) {
        fprintf(stderr, "%s: the rejected write returned %s, expected MST_ERR_TYPE\n", what, mst_status_str(got));
        exit(1);
    }
    /* The stored error: the message without the "mst_generator_write: " every message of
     * that call starts with (later calls name themselves). */
    const char *prefix = "mst_generator_write: ";
    const char *message = mst_last_error_message();
    CHECK(strncmp(message, prefix, strlen(prefix)) == 0);
    char first[512];
    snprintf(first, sizeof first, "%s", message + strlen(prefix));
    CHECK_EQ_INT(state(g), MST_WRITABLE_STATE_ERRORED);

    /* A good frame is now refused with the stored error, and stays the caller's. */
    MstFrame *good = frame_of(kind, 42);
    CHECK_STATUS(mst_generator_write(g, good), MST_ERR_TYPE);
    if (!strstr(mst_last_error_message(), first) || !strstr(mst_last_error_message(), "errored")) {
        fprintf(stderr, "%s: a write after the error says \"%s\", not the stored error \"%s\"\n", what,
                mst_last_error_message(), first);
        exit(1);
    }
    expect_frame_intact(good, 42);
    /* Nothing reached the processor, and the track is still live (abort is not run). */
    mst_test_expect_empty(p);
    CHECK_EQ_INT(mst_test_stats(p).total, 0);
    CHECK_EQ_INT(mst_test_ready_state(t), MST_READY_STATE_LIVE);
    /* Closing an errored writable returns the stored error and changes nothing. */
    CHECK_STATUS(mst_generator_close(g), MST_ERR_TYPE);
    CHECK(strstr(mst_last_error_message(), first) != NULL);
    CHECK_EQ_INT(state(g), MST_WRITABLE_STATE_ERRORED);
    CHECK_EQ_INT(mst_test_ready_state(t), MST_READY_STATE_LIVE);
    CHECK_OK(mst_frame_free(good));

    /* Freeing the generator ends its tracks: nothing can ever write to them again. */
    CHECK_OK(mst_generator_free(g));
    CHECK_EQ_INT(mst_test_ready_state(t), MST_READY_STATE_ENDED);
    MstEndReason reason = MST_END_REASON_NONE;
    CHECK_OK(mst_track_get_end_reason(t, &reason));
    CHECK_EQ_INT(reason, MST_END_REASON_WRITABLE_CLOSED);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

static MstStatus write_other_kind(MstGenerator *g, int32_t kind) {
    MstFrame *other = frame_of(kind == MST_KIND_VIDEO ? MST_KIND_AUDIO : MST_KIND_VIDEO, 5);
    MstStatus s = mst_generator_write(g, other);
    expect_frame_intact(other, 5); /* the rejected frame is still the caller's */
    CHECK_OK(mst_frame_free(other));
    return s;
}

static MstStatus write_closed_frame(MstGenerator *g, int32_t kind) {
    MstFrame *f = frame_of(kind, 6);
    CHECK_OK(mst_frame_close(f));
    MstStatus s = mst_generator_write(g, f);
    CHECK_OK(mst_frame_free(f)); /* the handle is still the caller's */
    return s;
}

static MstStatus write_freed_frame(MstGenerator *g, int32_t kind) {
    MstFrame *f = frame_of(kind, 7);
    CHECK_OK(mst_frame_free(f));
    return mst_generator_write(g, f);
}

static MstStatus write_not_a_frame(MstGenerator *g, int32_t kind) {
    (void)kind;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstStatus s = mst_generator_write(g, (MstFrame *)(void *)t);
    CHECK_EQ_INT(mst_test_ready_state(t), MST_READY_STATE_LIVE); /* the track survived */
    CHECK_OK(mst_track_free(t));
    return s;
}

int main(void) {
    const int32_t kinds[] = {MST_KIND_VIDEO, MST_KIND_AUDIO};
    for (int k = 0; k < 2; k++) {
        errored_by(kinds[k], "a frame of the other kind", write_other_kind);
        errored_by(kinds[k], "a closed frame", write_closed_frame);
        errored_by(kinds[k], "a freed frame handle", write_freed_frame);
        errored_by(kinds[k], "a handle that is not a frame", write_not_a_frame);
    }

    /* A write to a closed writable is the Streams TypeError; the frame stays the caller's. */
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_close(g));
    CHECK_EQ_INT(state(g), MST_WRITABLE_STATE_CLOSED);
    MstFrame *f = mst_test_video_frame(W, H, 9);
    CHECK_STATUS(mst_generator_write(g, f), MST_ERR_TYPE);
    expect_frame_intact(f, 9);
    /* ... and does not error it: it stays closed, and closing it again is fine. */
    CHECK_EQ_INT(state(g), MST_WRITABLE_STATE_CLOSED);
    /* Neither does a rejected chunk: the closed writable meets the write first. */
    CHECK_OK(mst_frame_close(f));
    CHECK_STATUS(mst_generator_write(g, f), MST_ERR_TYPE);
    CHECK_EQ_INT(state(g), MST_WRITABLE_STATE_CLOSED);
    CHECK_OK(mst_generator_close(g));
    CHECK_OK(mst_frame_free(f));
    CHECK_OK(mst_generator_free(g));
    printf("test_writable_errors: ok\n");
    return 0;
}
