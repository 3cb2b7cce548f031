/* Error reporting: mst_status_str() names every status, mst_last_error_message() is per thread
 * and explains the failure, NULL pointers give MST_ERR_NULL_ARG, handles of the wrong type,
 * freed handles, garbage values and lengths above PTRDIFF_MAX give errors (never a crash).
 * (Out-parameters untouched on failure: test_out_params.c; a failed callback registration's
 * destroy: test_destroy_notify.c.) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/* A pointer value no successful call ever writes: out-pointers preset to it must keep it. */
#define SENTINEL_PTR ((void *)(uintptr_t)0x5e5e5e5eu)

static int release_calls;
static void count_release(void *user_data) {
    (void)user_data;
    release_calls++;
}

/* The message contains `needle`. */
static void check_message_has(const char *needle, int line) {
    const char *m = mst_last_error_message();
    if (m == NULL || strstr(m, needle) == NULL) {
        fprintf(stderr, "%s:%d: last error message \"%s\" does not mention \"%s\"\n", __FILE__, line,
                m ? m : "(NULL)", needle);
        exit(1);
    }
}
#define CHECK_MESSAGE_HAS(needle) check_message_has(needle, __LINE__)

struct status_name {
    MstStatus status;
    const char *name;
};
#define STATUS(s) {s, #s}
static const struct status_name all_statuses[] = {
    STATUS(MST_OK),
    STATUS(MST_ERR_AGAIN),
    STATUS(MST_ERR_TIMEOUT),
    STATUS(MST_ERR_ENDED),
    STATUS(MST_ERR_INTERRUPTED),
    STATUS(MST_ERR_NULL_ARG),
    STATUS(MST_ERR_INVALID_ARG),
    STATUS(MST_ERR_TYPE),
    STATUS(MST_ERR_INVALID_STATE),
    STATUS(MST_ERR_RANGE),
    STATUS(MST_ERR_NO_DEVICE),
    STATUS(MST_ERR_BUSY),
    STATUS(MST_ERR_IO),
    STATUS(MST_ERR_OVERCONSTRAINED),
    STATUS(MST_ERR_UNSUPPORTED),
    STATUS(MST_ERR_NO_MEMORY),
    STATUS(MST_ERR_PANIC),
};
#define NUM_STATUSES (sizeof all_statuses / sizeof all_statuses[0])

/* `s` starts with the identifier `name`, not merely with a longer identifier's prefix. */
static int starts_with_name(const char *s, const char *name) {
    size_t n = strlen(name);
    if (strncmp(s, name, n) != 0) return 0;
    char next = s[n];
    return !((next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9') || next == '_');
}

static void check_status_strings(void) {
    for (size_t i = 0; i < NUM_STATUSES; i++) {
        const char *s = mst_status_str(all_statuses[i].status);
        if (s == NULL) MST_TEST_FAIL_("mst_status_str(%s) is NULL", all_statuses[i].name);
        if (!starts_with_name(s, all_statuses[i].name))
            MST_TEST_FAIL_("mst_status_str(%s) = \"%s\" does not start with the constant's name",
                           all_statuses[i].name, s);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s, mst_status_str(all_statuses[j].status)) == 0)
                MST_TEST_FAIL_("mst_status_str(%s) and mst_status_str(%s) are both \"%s\"",
                               all_statuses[i].name, all_statuses[j].name, s);
        }
    }
    const int32_t unknown[] = {1, 2, -5, -9, -15, -19, -26, -29, -31, 1000, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = mst_status_str(unknown[i]);
        if (s == NULL) MST_TEST_FAIL_("mst_status_str(%d) is NULL", (int)unknown[i]);
        if (strncmp(s, "MST_ERR_UNKNOWN", strlen("MST_ERR_UNKNOWN")) != 0)
            MST_TEST_FAIL_("mst_status_str(%d) = \"%s\", expected \"MST_ERR_UNKNOWN...\"",
                           (int)unknown[i], s);
    }
}

/* A thread's own failure: its message starts as "no error", becomes its own, and does not
 * touch the main thread's. */
struct thread_result {
    char before[128];
    char after[256];
    MstStatus status;
};

static void *fail_on_other_thread(void *arg) {
    struct thread_result *r = arg;
    snprintf(r->before, sizeof r->before, "%s", mst_last_error_message());
    MstGenerator *g = SENTINEL_PTR;
    r->status = mst_generator_create(7, &g); /* neither audio nor video: MST_ERR_TYPE */
    snprintf(r->after, sizeof r->after, "%s", mst_last_error_message());
    return NULL;
}

int main(void) {
    /* Before anything failed on this thread. */
    const char *first = mst_last_error_message();
    CHECK(first != NULL);
    if (strcmp(first, "no error") != 0) MST_TEST_FAIL_("initial message is \"%s\", expected \"no error\"", first);

    check_status_strings();
    CHECK(strcmp(mst_last_error_message(), "no error") == 0); /* mst_status_str is no failure */

    /* A failure names the problem. */
    static uint8_t pixels[16 * 16 * 3 / 2];
    MstVideoFrameInit bad = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 0, 16, 0);
    MstFrame *out = SENTINEL_PTR;
    CHECK_STATUS(mst_frame_create_video(&bad, pixels, sizeof pixels, &out), MST_ERR_INVALID_ARG);
    CHECK(out == SENTINEL_PTR);
    CHECK_MESSAGE_HAS("coded size");
    char main_message[256];
    snprintf(main_message, sizeof main_message, "%s", mst_last_error_message());

    /* Successful calls leave it unchanged. */
    MstVideoFrameInit good = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 16, 16, 0);
    MstFrame *vf = NULL;
    CHECK_OK(mst_frame_create_video(&good, pixels, sizeof pixels, &vf));
    CHECK(strcmp(mst_last_error_message(), main_message) == 0);

    /* Per thread. */
    pthread_t th;
    struct thread_result tr;
    memset(&tr, 0, sizeof tr);
    CHECK_EQ_INT(pthread_create(&th, NULL, fail_on_other_thread, &tr), 0);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    CHECK_STATUS(tr.status, MST_ERR_TYPE);
    if (strcmp(tr.before, "no error") != 0)
        MST_TEST_FAIL_("a new thread's message is \"%s\", expected \"no error\"", tr.before);
    if (strcmp(tr.after, "no error") == 0 || strcmp(tr.after, main_message) == 0)
        MST_TEST_FAIL_("the other thread's message after its failure is \"%s\"", tr.after);
    if (strcmp(mst_last_error_message(), main_message) != 0)
        MST_TEST_FAIL_("another thread's failure changed this thread's message from \"%s\" to \"%s\"",
                       main_message, mst_last_error_message());

    /* Objects for the rest. */
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &p));
    static const float samples[2 * 8];
    MstAudioDataInit ainit = {sizeof(MstAudioDataInit), MST_AUDIO_SAMPLE_FORMAT_F32, 48000.0f, 8, 2, 0};
    MstFrame *af = NULL;
    CHECK_OK(mst_frame_create_audio(&ainit, (const uint8_t *)samples, sizeof samples, &af));

    /* NULL out-pointers. */
    CHECK_STATUS(mst_generator_create(MST_KIND_VIDEO, NULL), MST_ERR_NULL_ARG);
    CHECK_MESSAGE_HAS("NULL");
    CHECK_STATUS(mst_generator_get_track(g, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_generator_get_state(g, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_generator_get_muted(g, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_create_video(&good, pixels, sizeof pixels, NULL), MST_ERR_NULL_ARG);
    release_calls = 0;
    CHECK_STATUS(mst_frame_wrap_video(&good, pixels, sizeof pixels, count_release, NULL, NULL), MST_ERR_NULL_ARG);
    CHECK_EQ_INT(release_calls, 0);
    CHECK_STATUS(mst_frame_create_audio(&ainit, (const uint8_t *)samples, sizeof samples, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_wrap_audio(&ainit, (const uint8_t *)samples, sizeof samples, count_release, NULL, NULL),
                 MST_ERR_NULL_ARG);
    CHECK_EQ_INT(release_calls, 0);
    CHECK_STATUS(mst_frame_clone(vf, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_get_kind(vf, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_get_video_info(vf, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_get_audio_info(af, NULL), MST_ERR_NULL_ARG);
    {
        const uint8_t *d = SENTINEL_PTR;
        size_t stride = 4242, len = 4343;
        CHECK_STATUS(mst_frame_get_video_plane(vf, 0, NULL, &stride, &len), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_frame_get_video_plane(vf, 0, &d, NULL, &len), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_frame_get_video_plane(vf, 0, &d, &stride, NULL), MST_ERR_NULL_ARG);
        CHECK(d == SENTINEL_PTR);
        CHECK_EQ_INT(stride, 4242);
        CHECK_EQ_INT(len, 4343);
    }
    CHECK_STATUS(mst_frame_video_allocation_size(vf, NULL, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_audio_allocation_size(af, NULL, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_kind(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_id(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_label(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_enabled(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_muted(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_ready_state(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_end_reason(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_clone(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_constraints(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_settings(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_capabilities(t, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_processor_create(t, NULL, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_processor_read(p, 0, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_processor_get_fd(p, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_processor_get_stats(p, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_create_test_pattern(NULL, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_create_tone(NULL, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_file_sink_open(t, "test_errors_null_out.y4m", NULL), MST_ERR_NULL_ARG);
    unlink("test_errors_null_out.y4m");

    /* NULL inputs and handles. */
    out = SENTINEL_PTR;
    CHECK_STATUS(mst_frame_create_video(NULL, pixels, sizeof pixels, &out), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_create_video(&good, NULL, sizeof pixels, &out), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_create_audio(NULL, (const uint8_t *)samples, sizeof samples, &out), MST_ERR_NULL_ARG);
    CHECK(out == SENTINEL_PTR);
    CHECK_STATUS(mst_frame_video_copy_to(vf, NULL, 1000, NULL, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_frame_audio_copy_to(af, NULL, 1000, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_generator_write(g, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_generator_write(NULL, vf), MST_ERR_NULL_ARG);
    {
        MstFileSink *sink = SENTINEL_PTR;
        CHECK_STATUS(mst_file_sink_open(t, NULL, &sink), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_file_sink_open(NULL, "test_errors_null_track.y4m", &sink), MST_ERR_NULL_ARG);
        unlink("test_errors_null_track.y4m");
        CHECK(sink == SENTINEL_PTR);
    }
    {
        MstFileStats fs = MST_STRUCT_INIT(MstFileStats);
        CHECK_STATUS(mst_file_sink_stop(NULL), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_file_sink_get_stats(NULL, &fs), MST_ERR_NULL_ARG);
    }
    {
        MstKind k = (MstKind)77;
        CHECK_STATUS(mst_track_get_kind(NULL, &k), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_frame_get_kind(NULL, &k), MST_ERR_NULL_ARG);
        CHECK_EQ_INT(k, 77);
        MstVideoFrameInfo vi = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHECK_STATUS(mst_frame_get_video_info(NULL, &vi), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_processor_read(NULL, 0, &out), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_processor_wakeup(NULL), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_processor_set_callback(NULL, NULL, NULL, NULL), MST_ERR_NULL_ARG);
        MstProcessor *p2 = SENTINEL_PTR;
        CHECK_STATUS(mst_processor_create(NULL, NULL, &p2), MST_ERR_NULL_ARG);
        CHECK(p2 == SENTINEL_PTR);
        CHECK_STATUS(mst_generator_close(NULL), MST_ERR_NULL_ARG);
        CHECK_STATUS(mst_track_stop(NULL), MST_ERR_NULL_ARG);
        CHECK(out == SENTINEL_PTR);
    }
    /* NULL is a no-op for the releasing functions. */
    CHECK_OK(mst_frame_free(NULL));
    CHECK_OK(mst_track_free(NULL));
    CHECK_OK(mst_processor_free(NULL));
    CHECK_OK(mst_generator_free(NULL));

    /* Handles of the wrong type. */
    {
        MstVideoFrameInfo info;
        memset(&info, 0xa5, sizeof info);
        info.struct_size = sizeof info;
        MstVideoFrameInfo info_before = info;
        CHECK_STATUS(mst_frame_get_video_info((const MstFrame *)t, &info), MST_ERR_INVALID_ARG);
        CHECK(memcmp(&info, &info_before, sizeof info) == 0);
        out = SENTINEL_PTR;
        CHECK_STATUS(mst_frame_clone((const MstFrame *)t, &out), MST_ERR_INVALID_ARG);
        CHECK(out == SENTINEL_PTR);
        CHECK_STATUS(mst_frame_free((MstFrame *)t), MST_ERR_INVALID_ARG);
        MstKind k = (MstKind)0;
        CHECK_OK(mst_track_get_kind(t, &k)); /* the track survived being passed as a frame */
        CHECK_EQ_INT(k, MST_KIND_VIDEO);

        MstFrame *rf = SENTINEL_PTR;
        CHECK_STATUS(mst_processor_read((MstProcessor *)vf, 0, &rf), MST_ERR_INVALID_ARG);
        CHECK(rf == SENTINEL_PTR);
        int fd = -77;
        CHECK_STATUS(mst_processor_get_fd((MstProcessor *)vf, &fd), MST_ERR_INVALID_ARG);
        CHECK_EQ_INT(fd, -77);
        CHECK_STATUS(mst_processor_free((MstProcessor *)vf), MST_ERR_INVALID_ARG);
        CHECK_OK(mst_frame_get_video_info(vf, &info)); /* the frame survived being freed as a processor */
        CHECK_EQ_INT(info.coded_width, 16);

        MstProcessor *p2 = SENTINEL_PTR;
        CHECK_STATUS(mst_processor_create((const MstTrack *)vf, NULL, &p2), MST_ERR_TYPE); /* spec TypeError */
        CHECK(p2 == SENTINEL_PTR);
        CHECK_STATUS(mst_track_get_kind((const MstTrack *)g, &k), MST_ERR_INVALID_ARG);
        CHECK_STATUS(mst_generator_write(g, (MstFrame *)t), MST_ERR_TYPE); /* not a frame: TypeError */
        CHECK_STATUS(mst_generator_write((MstGenerator *)t, vf), MST_ERR_INVALID_ARG);
        CHECK_OK(mst_frame_get_kind(vf, &k)); /* still the caller's after the failed writes */
        CHECK_EQ_INT(k, MST_KIND_VIDEO);

        /* The other kind of frame. */
        memset(&info, 0xa5, sizeof info);
        info.struct_size = sizeof info;
        CHECK_STATUS(mst_frame_get_video_info(af, &info), MST_ERR_TYPE);
        CHECK(memcmp(&info, &info_before, sizeof info) == 0);
        MstAudioDataInfo ainfo;
        memset(&ainfo, 0xa5, sizeof ainfo);
        ainfo.struct_size = sizeof ainfo;
        MstAudioDataInfo ainfo_before = ainfo;
        CHECK_STATUS(mst_frame_get_audio_info(vf, &ainfo), MST_ERR_TYPE);
        CHECK(memcmp(&ainfo, &ainfo_before, sizeof ainfo) == 0);
        CHECK_STATUS(mst_generator_write(g, af), MST_ERR_TYPE);
        CHECK_OK(mst_frame_get_audio_info(af, &ainfo)); /* not consumed */
        MstGenerator *g2 = SENTINEL_PTR;
        CHECK_STATUS(mst_generator_create(0, &g2), MST_ERR_TYPE);
        CHECK_STATUS(mst_generator_create(3, &g2), MST_ERR_TYPE);
        CHECK(g2 == SENTINEL_PTR);
    }

    /* A freed track handle. */
    {
        MstTrack *t2 = NULL;
        CHECK_OK(mst_track_clone(t, &t2));
        CHECK_OK(mst_track_free(t2));
        MstKind k = (MstKind)77;
        CHECK_STATUS(mst_track_get_kind(t2, &k), MST_ERR_INVALID_STATE);
        CHECK_EQ_INT(k, 77);
        const char *id = SENTINEL_PTR;
        CHECK_STATUS(mst_track_get_id(t2, &id), MST_ERR_INVALID_STATE);
        CHECK(id == SENTINEL_PTR);
        CHECK_STATUS(mst_track_stop(t2), MST_ERR_INVALID_STATE);
        CHECK_STATUS(mst_track_set_enabled(t2, false), MST_ERR_INVALID_STATE);
        CHECK_STATUS(mst_track_free(t2), MST_ERR_INVALID_STATE); /* a double free is reported */
        MstProcessor *p2 = SENTINEL_PTR;
        CHECK_STATUS(mst_processor_create(t2, NULL, &p2), MST_ERR_TYPE); /* documented TypeError */
        CHECK(p2 == SENTINEL_PTR);
        MstFileSink *sink = SENTINEL_PTR;
        CHECK_STATUS(mst_file_sink_open(t2, "test_errors_freed.y4m", &sink), MST_ERR_INVALID_STATE);
        CHECK(sink == SENTINEL_PTR);
        unlink("test_errors_freed.y4m");
        /* A new track may reuse the freed one's slot; the old handle still does not work. */
        MstTrack *t3 = NULL;
        CHECK_OK(mst_track_clone(t, &t3));
        CHECK_STATUS(mst_track_get_kind(t2, &k), MST_ERR_INVALID_STATE);
        CHECK_OK(mst_track_get_kind(t3, &k));
        CHECK_OK(mst_track_free(t3));
    }

    /* A freed frame handle, whose slot a new frame then reuses. */
    {
        MstFrame *f2 = NULL;
        CHECK_OK(mst_frame_clone(vf, &f2));
        CHECK_OK(mst_frame_free(f2));
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHECK_STATUS(mst_frame_get_video_info(f2, &info), MST_ERR_INVALID_STATE);
        CHECK_STATUS(mst_frame_free(f2), MST_ERR_INVALID_STATE);
        MstFrame *f3 = NULL;
        CHECK_OK(mst_frame_create_video(&good, pixels, sizeof pixels, &f3));
        CHECK_STATUS(mst_frame_get_video_info(f2, &info), MST_ERR_INVALID_STATE);
        CHECK_STATUS(mst_generator_write(g, f2), MST_ERR_TYPE); /* not a frame any more: TypeError */
        CHECK_OK(mst_frame_free(f3));
    }

    /* Garbage pointer values: an error, not a crash. */
    {
        const uintptr_t garbage[] = {
            0x1234,
            0xdeadbeef,
            (uintptr_t)-8,
            /* a frame-looking value: the top byte of a real frame handle, a slot far beyond use */
            ((uintptr_t)vf & ~(uintptr_t)0xffffffu) | 0xfffff0u,
        };
        for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
            MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
            MstKind k;
            MstFrame *rf = SENTINEL_PTR;
            CHECK(mst_frame_get_video_info((const MstFrame *)garbage[i], &info) < 0);
            CHECK(mst_frame_get_kind((const MstFrame *)garbage[i], &k) < 0);
            CHECK(mst_frame_free((MstFrame *)garbage[i]) < 0);
            CHECK(mst_frame_clone((const MstFrame *)garbage[i], &rf) < 0);
            CHECK(mst_track_get_kind((const MstTrack *)garbage[i], &k) < 0);
            CHECK(mst_track_free((MstTrack *)garbage[i]) < 0);
            CHECK(mst_processor_read((MstProcessor *)garbage[i], 0, &rf) < 0);
            CHECK(mst_processor_free((MstProcessor *)garbage[i]) < 0);
            CHECK(mst_generator_write((MstGenerator *)garbage[i], vf) < 0);
            CHECK(mst_generator_write(g, (MstFrame *)garbage[i]) < 0);
            CHECK(rf == SENTINEL_PTR);
            CHECK(strcmp(mst_last_error_message(), "no error") != 0);
        }
    }

    /* A buffer length above PTRDIFF_MAX is an invalid argument, never a crash: no buffer is that
     * large (and nothing is read or written). */
    {
        const size_t huge[] = {SIZE_MAX, SIZE_MAX / 2 + 1};
        for (size_t i = 0; i < 2; i++) {
            out = SENTINEL_PTR;
            release_calls = 0;
            CHECK_STATUS(mst_frame_create_video(&good, pixels, huge[i], &out), MST_ERR_INVALID_ARG);
            CHECK_MESSAGE_HAS("PTRDIFF_MAX");
            CHECK_STATUS(mst_frame_wrap_video(&good, pixels, huge[i], count_release, NULL, &out), MST_ERR_INVALID_ARG);
            CHECK_STATUS(mst_frame_create_audio(&ainit, (const uint8_t *)samples, huge[i], &out), MST_ERR_INVALID_ARG);
            CHECK_STATUS(mst_frame_wrap_audio(&ainit, (const uint8_t *)samples, huge[i], count_release, NULL, &out),
                         MST_ERR_INVALID_ARG);
            CHECK(out == SENTINEL_PTR);
            CHECK_EQ_INT(release_calls, 0);
            uint8_t dst[16];
            MstPlaneLayouts layouts = MST_STRUCT_INIT(MstPlaneLayouts);
            layouts.count = 77;
            CHECK_STATUS(mst_frame_video_copy_to(vf, dst, huge[i], NULL, &layouts), MST_ERR_INVALID_ARG);
            CHECK_EQ_INT(layouts.count, 77);
            CHECK_STATUS(mst_frame_audio_copy_to(af, dst, huge[i], NULL), MST_ERR_INVALID_ARG);
        }
        /* The frames are untouched and still copy with honest lengths. */
        uint8_t dst[sizeof pixels];
        MstPlaneLayouts layouts = MST_STRUCT_INIT(MstPlaneLayouts);
        CHECK_OK(mst_frame_video_copy_to(vf, dst, sizeof dst, NULL, &layouts));
        CHECK_EQ_INT(layouts.count, 3);
        CHECK_OK(mst_frame_audio_copy_to(af, dst, sizeof samples, NULL));
    }

    /* The sinks', devices' and library's functions on foreign and freed handles. */
    {
        MstFileStats fs = MST_STRUCT_INIT(MstFileStats);
        CHECK_STATUS(mst_file_sink_get_stats((const MstFileSink *)t, &fs), MST_ERR_INVALID_ARG);
        MstFileSink *sink = NULL;
        CHECK_OK(mst_file_sink_open(t, "test_errors_sink.y4m", &sink));
        CHECK_OK(mst_file_sink_free(sink));
        unlink("test_errors_sink.y4m");
        CHECK_STATUS(mst_file_sink_get_stats(sink, &fs), MST_ERR_INVALID_STATE);
        CHECK_STATUS(mst_file_sink_stop(sink), MST_ERR_INVALID_STATE);
        CHECK_STATUS(mst_file_sink_free(sink), MST_ERR_INVALID_STATE);

        CHECK_STATUS(mst_audio_playback_stop((MstAudioPlayback *)t), MST_ERR_INVALID_ARG);
        CHECK_STATUS(mst_audio_playback_free((MstAudioPlayback *)t), MST_ERR_INVALID_ARG);
        CHECK_STATUS(mst_video_output_stop((MstVideoOutput *)g), MST_ERR_INVALID_ARG);
        CHECK_STATUS(mst_video_output_free((MstVideoOutput *)g), MST_ERR_INVALID_ARG);
        CHECK_OK(mst_audio_playback_free(NULL));
        CHECK_OK(mst_video_output_free(NULL));
        CHECK_OK(mst_file_sink_free(NULL));
        CHECK_OK(mst_device_list_free(NULL));
        CHECK_STATUS(mst_get_kernel_threads(NULL), MST_ERR_NULL_ARG);
        MstProcessorOptions bad_flags = MST_STRUCT_INIT(MstProcessorOptions);
        bad_flags.flags = 1u << 31;
        MstProcessor *p2 = SENTINEL_PTR;
        CHECK_STATUS(mst_processor_create(t, &bad_flags, &p2), MST_ERR_INVALID_ARG);
        CHECK_MESSAGE_HAS("unknown flag");
        CHECK(p2 == SENTINEL_PTR);
    }

    CHECK_OK(mst_frame_free(vf));
    CHECK_OK(mst_frame_free(af));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_errors: ok\n");
    return 0;
}
