/* Out-parameters are written only on MST_OK: on every error they are left exactly as they were
 * (the header's promise). Each call below fails for a different reason (NULL, foreign and freed
 * handles, closed frames, flow outcomes, range and type errors, a missing device or
 * directory), with its out-parameter filled with a canary pattern that must survive byte for
 * byte (a size-prefixed struct keeps the struct_size its caller set). */
#include <stdio.h>
#include <string.h>

#include "common.h"

#define CANARY 0xA5

/* Fills `size` bytes at `p` with the canary, keeping a struct_size of `struct_size` if not 0. */
static void fill(void *p, size_t size, uint32_t struct_size) {
    memset(p, CANARY, size);
    if (struct_size) memcpy(p, &struct_size, sizeof struct_size);
}

static void expect_untouched(const void *p, size_t size, uint32_t struct_size, const char *call, int line) {
    const unsigned char *b = p;
    size_t start = struct_size ? sizeof(uint32_t) : 0;
    if (struct_size) {
        uint32_t kept;
        memcpy(&kept, p, sizeof kept);
        if (kept != struct_size) {
            fprintf(stderr, "%s:%d: %s failed but changed struct_size to %u\n", __FILE__, line, call, (unsigned)kept);
            exit(1);
        }
    }
    for (size_t i = start; i < size; i++) {
        if (b[i] != CANARY) {
            fprintf(stderr, "%s:%d: %s failed but wrote byte %zu of its out-parameter\n", __FILE__, line, call, i);
            exit(1);
        }
    }
}

/* `call` returns `want` and leaves `out` (a plain out-parameter) untouched. */
#define FAILS_UNTOUCHED(call, want, out)                                                                             \
    do {                                                                                                            \
        fill(&(out), sizeof(out), 0);                                                                               \
        CHECK_STATUS(call, want);                                                                                   \
        expect_untouched(&(out), sizeof(out), 0, #call, __LINE__);                                                  \
    } while (0)

/* As FAILS_UNTOUCHED, for a size-prefixed struct `out` whose struct_size is set first. */
#define FAILS_UNTOUCHED_STRUCT(call, want, out)                                                                      \
    do {                                                                                                            \
        fill(&(out), sizeof(out), (uint32_t)sizeof(out));                                                           \
        CHECK_STATUS(call, want);                                                                                   \
        expect_untouched(&(out), sizeof(out), (uint32_t)sizeof(out), #call, __LINE__);                              \
    } while (0)

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL, *stale = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_clone(t, &stale));
    CHECK_OK(mst_track_free(stale));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, NULL, &p));
    MstFrame *video = mst_test_video_frame(16, 16, 0);
    MstFrame *audio = mst_test_audio_data(MST_AUDIO_SAMPLE_FORMAT_F32, sizeof(float), 48000.0f, 8, 2, 0);
    MstFrame *closed = mst_test_video_frame(16, 16, 0);
    CHECK_OK(mst_frame_close(closed));
    const MstTrack *foreign_track = (const MstTrack *)(const void *)p;

    /* Processors: flow outcomes and bad handles. */
    MstFrame *frame;
    FAILS_UNTOUCHED(mst_processor_read(p, 0, &frame), MST_ERR_AGAIN, frame);
    FAILS_UNTOUCHED(mst_processor_read(p, 10, &frame), MST_ERR_TIMEOUT, frame);
    MstProcessorStats pstats;
    FAILS_UNTOUCHED_STRUCT(mst_processor_get_stats(NULL, &pstats), MST_ERR_NULL_ARG, pstats);
    FAILS_UNTOUCHED_STRUCT(mst_processor_get_stats((const MstProcessor *)(const void *)t, &pstats),
                           MST_ERR_INVALID_ARG, pstats);
    int fd;
    FAILS_UNTOUCHED(mst_processor_get_fd(NULL, &fd), MST_ERR_NULL_ARG, fd);
    MstProcessor *proc;
    FAILS_UNTOUCHED(mst_processor_create(stale, NULL, &proc), MST_ERR_TYPE, proc);

    /* Frames: closed, the other kind, out of range, invalid options. */
    FAILS_UNTOUCHED(mst_frame_clone(closed, &frame), MST_ERR_INVALID_STATE, frame);
    MstVideoFrameInfo vinfo;
    FAILS_UNTOUCHED_STRUCT(mst_frame_get_video_info(closed, &vinfo), MST_ERR_INVALID_STATE, vinfo);
    FAILS_UNTOUCHED_STRUCT(mst_frame_get_video_info(audio, &vinfo), MST_ERR_TYPE, vinfo);
    MstAudioDataInfo ainfo;
    FAILS_UNTOUCHED_STRUCT(mst_frame_get_audio_info(closed, &ainfo), MST_ERR_INVALID_STATE, ainfo);
    FAILS_UNTOUCHED_STRUCT(mst_frame_get_audio_info(video, &ainfo), MST_ERR_TYPE, ainfo);
    MstKind kind;
    FAILS_UNTOUCHED(mst_frame_get_kind(closed, &kind), MST_ERR_INVALID_STATE, kind);
    {
        const uint8_t *data;
        size_t stride, len;
        fill(&stride, sizeof stride, 0);
        fill(&len, sizeof len, 0);
        FAILS_UNTOUCHED(mst_frame_get_video_plane(video, 3, &data, &stride, &len), MST_ERR_RANGE, data);
        expect_untouched(&stride, sizeof stride, 0, "mst_frame_get_video_plane (stride)", __LINE__);
        expect_untouched(&len, sizeof len, 0, "mst_frame_get_video_plane (len)", __LINE__);
    }
    size_t size;
    MstVideoCopyOptions vo = MST_STRUCT_INIT(MstVideoCopyOptions);
    vo.rect = (MstRect){1, 0, 4, 4}; /* misaligned for I420 */
    FAILS_UNTOUCHED(mst_frame_video_allocation_size(video, &vo, &size), MST_ERR_INVALID_ARG, size);
    MstAudioCopyOptions ao = MST_STRUCT_INIT(MstAudioCopyOptions);
    ao.plane_index = 2; /* an interleaved copy has one plane */
    FAILS_UNTOUCHED(mst_frame_audio_allocation_size(audio, &ao, &size), MST_ERR_RANGE, size);
    {
        /* A refused copy writes neither the layouts nor the destination. */
        uint8_t dst[16 * 16 * 3 / 2];
        MstPlaneLayouts layouts;
        fill(dst, sizeof dst, 0);
        FAILS_UNTOUCHED_STRUCT(mst_frame_video_copy_to(video, dst, 10, NULL, &layouts), MST_ERR_INVALID_ARG, layouts);
        expect_untouched(dst, sizeof dst, 0, "mst_frame_video_copy_to (destination)", __LINE__);
        FAILS_UNTOUCHED_STRUCT(mst_frame_video_copy_to(video, dst, SIZE_MAX, NULL, &layouts), MST_ERR_INVALID_ARG,
                               layouts);
        FAILS_UNTOUCHED_STRUCT(mst_frame_video_copy_to(closed, dst, sizeof dst, NULL, &layouts),
                               MST_ERR_INVALID_STATE, layouts);
        expect_untouched(dst, sizeof dst, 0, "mst_frame_video_copy_to (destination)", __LINE__);
    }

    /* Tracks: freed and foreign handles, sources that are not cameras or microphones. */
    MstSettings settings;
    FAILS_UNTOUCHED_STRUCT(mst_track_get_settings(stale, &settings), MST_ERR_INVALID_STATE, settings);
    MstCapabilities caps;
    FAILS_UNTOUCHED_STRUCT(mst_track_get_capabilities(stale, &caps), MST_ERR_INVALID_STATE, caps);
    MstVideoConstraints constraints;
    FAILS_UNTOUCHED_STRUCT(mst_track_get_constraints(stale, &constraints), MST_ERR_INVALID_STATE, constraints);
    MstCameraStats camera;
    FAILS_UNTOUCHED_STRUCT(mst_track_get_camera_stats(t, &camera), MST_ERR_TYPE, camera);
    MstCaptureStats capture;
    FAILS_UNTOUCHED_STRUCT(mst_track_get_capture_stats(t, &capture), MST_ERR_TYPE, capture);
    const char *text;
    FAILS_UNTOUCHED(mst_track_get_id(stale, &text), MST_ERR_INVALID_STATE, text);
    FAILS_UNTOUCHED(mst_track_get_label(foreign_track, &text), MST_ERR_INVALID_ARG, text);
    FAILS_UNTOUCHED(mst_track_get_content_hint(stale, &text), MST_ERR_INVALID_STATE, text);
    bool flag;
    FAILS_UNTOUCHED(mst_track_get_enabled(foreign_track, &flag), MST_ERR_INVALID_ARG, flag);
    FAILS_UNTOUCHED(mst_track_get_muted(stale, &flag), MST_ERR_INVALID_STATE, flag);
    MstReadyState ready;
    FAILS_UNTOUCHED(mst_track_get_ready_state(stale, &ready), MST_ERR_INVALID_STATE, ready);
    MstEndReason reason;
    FAILS_UNTOUCHED(mst_track_get_end_reason(NULL, &reason), MST_ERR_NULL_ARG, reason);
    MstTrack *track;
    FAILS_UNTOUCHED(mst_track_clone(stale, &track), MST_ERR_INVALID_STATE, track);

    /* Generators. */
    MstWritableState ws;
    FAILS_UNTOUCHED(mst_generator_get_state(NULL, &ws), MST_ERR_NULL_ARG, ws);
    FAILS_UNTOUCHED(mst_generator_get_state((const MstGenerator *)(const void *)t, &ws), MST_ERR_INVALID_ARG, ws);
    FAILS_UNTOUCHED(mst_generator_get_muted((const MstGenerator *)(const void *)t, &flag), MST_ERR_INVALID_ARG,
                    flag);
    FAILS_UNTOUCHED(mst_generator_get_track(NULL, &track), MST_ERR_NULL_ARG, track);

    /* Sinks: foreign and freed handles, a video track where audio is needed, a missing
     * directory. */
    MstAudioPlaybackStats pbstats;
    FAILS_UNTOUCHED_STRUCT(mst_audio_playback_get_stats(NULL, &pbstats), MST_ERR_NULL_ARG, pbstats);
    FAILS_UNTOUCHED_STRUCT(mst_audio_playback_get_stats((const MstAudioPlayback *)(const void *)t, &pbstats),
                           MST_ERR_INVALID_ARG, pbstats);
    MstAudioPlayback *pb;
    FAILS_UNTOUCHED(mst_audio_playback_open(t, NULL, &pb), MST_ERR_TYPE, pb);
    MstVideoOutputStats vostats;
    FAILS_UNTOUCHED_STRUCT(mst_video_output_get_stats((const MstVideoOutput *)(const void *)g, &vostats),
                           MST_ERR_INVALID_ARG, vostats);
    MstFileStats fstats;
    FAILS_UNTOUCHED_STRUCT(mst_file_sink_get_stats(NULL, &fstats), MST_ERR_NULL_ARG, fstats);
    MstFileSink *sink;
    FAILS_UNTOUCHED(mst_file_sink_open(t, "/nonexistent-dir/test_out_params.y4m", &sink), MST_ERR_IO, sink);
    {
        MstFileSink *freed = NULL;
        CHECK_OK(mst_file_sink_open(t, "test_out_params.y4m", &freed));
        CHECK_OK(mst_file_sink_free(freed));
        remove("test_out_params.y4m");
        FAILS_UNTOUCHED_STRUCT(mst_file_sink_get_stats(freed, &fstats), MST_ERR_INVALID_STATE, fstats);
    }

    /* Devices and the library. */
    MstDeviceList *list = NULL;
    CHECK_OK(mst_devices_enumerate(&list));
    size_t count = 0;
    CHECK_OK(mst_device_list_get_count(list, &count));
    MstDeviceInfo dev;
    FAILS_UNTOUCHED_STRUCT(mst_device_list_get_device(list, count, &dev), MST_ERR_RANGE, dev);
    FAILS_UNTOUCHED_STRUCT(mst_device_list_get_device((const MstDeviceList *)(const void *)t, 0, &dev),
                           MST_ERR_INVALID_ARG, dev);
    FAILS_UNTOUCHED(mst_device_list_get_count((const MstDeviceList *)(const void *)t, &count), MST_ERR_INVALID_ARG,
                    count);
    CHECK_OK(mst_device_list_free(list));

    CHECK_OK(mst_frame_free(closed));
    CHECK_OK(mst_frame_free(video));
    CHECK_OK(mst_frame_free(audio));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_out_params: ok\n");
    return 0;
}
