/* A GStreamer pipeline as a libmst track: the samples of
 *
 *   videotestsrc num-buffers=30 ! video/x-raw,format=I420,width=320,height=240 ! appsink
 *
 * are written to a generator, whose track any libmst consumer can read (a processor here; a
 * file sink, a video output...). Any GStreamer source works the same way: an RTP receiver, a
 * decoder, a network camera. Build, with libmst installed where pkg-config finds it and
 * GStreamer's development packages (libgstreamer-plugins-base1.0-dev):
 *
 *   cc -std=c11 gst_appsink.c -o gst_appsink $(pkg-config --cflags --libs mst) $(pkg-config --cflags --libs gstreamer-app-1.0 gstreamer-video-1.0)
 *
 * Zero-copy: each sample's buffer is mapped and its memory wrapped as a libmst frame
 * (mst_frame_wrap_video), whose release callback unmaps and unrefs the buffer once libmst is
 * done with the media: GStreamer's pixels reach the processor's reader without a copy.
 *
 * The check: a reader thread gets every frame, in order and with nothing discarded, with the
 * size and format of the caps and the buffers' timestamps; its planes are GStreamer's memory
 * itself; a buffer is never released while its frame is still being read; and every buffer was
 * released, once, before the example ends. */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <stdlib.h>

#include "mst.h"

#define WIDTH 320
#define HEIGHT 240
#define FRAME_RATE 30
/* At most MST_PROCESSOR_MAX_VIDEO_BUFFER: the processor's queue holds the whole run, so a write
 * never evicts a frame the reader was slow to take (valgrind, a busy CPU). */
#define FRAMES 30
#define READ_TIMEOUT_MS 20000 /* a lost frame fails instead of hanging */

#define MST_TRY(call)                                                                          \
    do {                                                                                       \
        MstStatus try_status_ = (call);                                                        \
        if (try_status_ != MST_OK) {                                                           \
            fprintf(stderr, "gst_appsink: %s failed: %s (%s)\n", #call,                        \
                    mst_status_str(try_status_), mst_last_error_message());                    \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "gst_appsink: CHECK FAILED (%s): ", #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* ---- GStreamer buffers lent to libmst -------------------------------------------------------- */

struct lent_buffer {
    GstBuffer *buffer;
    GstMapInfo map;
};

static gint buffers_released;

/* MstReleaseFn: libmst is done with the media (on the thread that dropped it last). */
static void release_buffer(void *user_data) {
    struct lent_buffer *lent = user_data;
    gst_buffer_unmap(lent->buffer, &lent->map);
    gst_buffer_unref(lent->buffer);
    g_free(lent);
    g_atomic_int_inc(&buffers_released);
}

/* What the reader must find in frame n, written before frame n is written to the generator. */
struct expected {
    const guint8 *planes[GST_VIDEO_MAX_PLANES];
    gint64 timestamp, duration;
};

static struct expected expected[FRAMES];

/* A libmst frame over `buffer`'s memory (laid out as `video_info` says, or its GstVideoMeta). */
static MstFrame *frame_from_buffer(GstBuffer *buffer, const GstVideoInfo *video_info,
                                   struct expected *expect) {
    struct lent_buffer *lent = g_new(struct lent_buffer, 1);
    lent->buffer = gst_buffer_ref(buffer);
    /* One mapping of the whole buffer: zero-copy when the buffer is one memory, as a video
     * source's are; GStreamer merges (copies) several memories into one. */
    CHECK(gst_buffer_map(lent->buffer, &lent->map, GST_MAP_READ), "a buffer cannot be mapped");
    MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
    init.format = MST_VIDEO_PIXEL_FORMAT_I420;
    init.coded_width = (uint32_t)GST_VIDEO_INFO_WIDTH(video_info);
    init.coded_height = (uint32_t)GST_VIDEO_INFO_HEIGHT(video_info);
    CHECK(GST_BUFFER_PTS_IS_VALID(buffer) && GST_BUFFER_DURATION_IS_VALID(buffer),
          "a buffer without PTS or duration");
    init.timestamp = (int64_t)(GST_BUFFER_PTS(buffer) / GST_USECOND);
    init.duration = (int64_t)(GST_BUFFER_DURATION(buffer) / GST_USECOND);
    init.num_planes = GST_VIDEO_INFO_N_PLANES(video_info);
    GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
    for (guint p = 0; p < init.num_planes; p++) {
        init.layout[p].offset = meta ? meta->offset[p] : GST_VIDEO_INFO_PLANE_OFFSET(video_info, p);
        init.layout[p].stride =
            (size_t)(meta ? meta->stride[p] : GST_VIDEO_INFO_PLANE_STRIDE(video_info, p));
        expect->planes[p] = lent->map.data + init.layout[p].offset;
    }
    expect->timestamp = init.timestamp;
    expect->duration = init.duration;
    MstFrame *frame = NULL;
    MstStatus status = mst_frame_wrap_video(&init, lent->map.data, lent->map.size, release_buffer,
                                            lent, &frame);
    if (status != MST_OK) release_buffer(lent); /* on an error libmst keeps nothing */
    MST_TRY(status);
    return frame;
}

/* ---- the libmst consumer -------------------------------------------------------------------- */

struct reader {
    MstProcessor *processor;
    guint frames; /* read and checked */
};

static gpointer reader_main(gpointer data) {
    struct reader *reader = data;
    for (guint n = 0; n < FRAMES; n++) {
        MstFrame *frame;
        MST_TRY(mst_processor_read(reader->processor, READ_TIMEOUT_MS, &frame));
        /* Only the frames this thread freed may have been released so far: frame n's buffer
         * is held while the frame is read. */
        gint released = g_atomic_int_get(&buffers_released);
        CHECK(released <= (gint)n, "%d buffers released while frame %u is still being read",
              released, n);
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        MST_TRY(mst_frame_get_video_info(frame, &info));
        CHECK(info.sequence == n + 1 && info.discarded_before == 0,
              "frame %u came as number %llu after %llu discarded", n,
              (unsigned long long)info.sequence, (unsigned long long)info.discarded_before);
        CHECK(info.format == MST_VIDEO_PIXEL_FORMAT_I420 && info.coded_width == WIDTH &&
                  info.coded_height == HEIGHT && info.visible_rect.width == WIDTH &&
                  info.visible_rect.height == HEIGHT && info.num_planes == 3,
              "frame %u: format %d, %ux%u (visible %ux%u), %u planes", n, (int)info.format,
              info.coded_width, info.coded_height, info.visible_rect.width,
              info.visible_rect.height, info.num_planes);
        /* videotestsrc stamps buffer n with n/30 s, and lasts until the next one. */
        gint64 want = (gint64)(gst_util_uint64_scale(n, GST_SECOND, FRAME_RATE) / GST_USECOND);
        gint64 want_next =
            (gint64)(gst_util_uint64_scale(n + 1, GST_SECOND, FRAME_RATE) / GST_USECOND);
        CHECK(info.timestamp == want && info.timestamp == expected[n].timestamp &&
                  info.duration == expected[n].duration && info.duration >= want_next - want - 1 &&
                  info.duration <= want_next - want,
              "frame %u: timestamp %lld us, duration %lld us; the buffer said %lld, %lld", n,
              (long long)info.timestamp, (long long)info.duration,
              (long long)expected[n].timestamp, (long long)expected[n].duration);
        for (uint32_t p = 0; p < 3; p++) {
            const uint8_t *data;
            size_t stride, len;
            MST_TRY(mst_frame_get_video_plane(frame, p, &data, &stride, &len));
            CHECK(data == expected[n].planes[p], "frame %u plane %u is a copy, not the buffer's", n,
                  p);
        }
        MST_TRY(mst_frame_free(frame));
        reader->frames++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    gst_init(&argc, &argv);

    MstGenerator *generator = NULL;
    MstTrack *track = NULL;
    MstProcessor *processor = NULL;
    MstProcessorOptions processor_options = MST_STRUCT_INIT(MstProcessorOptions);
    processor_options.max_buffer_size = FRAMES;
    MST_TRY(mst_generator_create(MST_KIND_VIDEO, &generator));
    MST_TRY(mst_generator_get_track(generator, &track));
    MST_TRY(mst_processor_create(track, &processor_options, &processor));
    struct reader reader = {processor, 0};
    GThread *reader_thread = g_thread_new("reader", reader_main, &reader);

    gchar *description = g_strdup_printf(
        "videotestsrc num-buffers=%d ! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 "
        "! appsink name=sink sync=false",
        FRAMES, WIDTH, HEIGHT, FRAME_RATE);
    GError *error = NULL;
    GstElement *pipeline = gst_parse_launch(description, &error);
    g_free(description);
    CHECK(pipeline != NULL && error == NULL, "the pipeline cannot be made: %s",
          error ? error->message : "no element");
    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    CHECK(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE,
          "the pipeline does not start");

    guint written = 0;
    GstSample *sample;
    while ((sample = gst_app_sink_pull_sample(GST_APP_SINK(sink))) != NULL) {
        CHECK(written < FRAMES, "videotestsrc made more than %d buffers", FRAMES);
        GstVideoInfo video_info;
        CHECK(gst_video_info_from_caps(&video_info, gst_sample_get_caps(sample)) &&
                  GST_VIDEO_INFO_FORMAT(&video_info) == GST_VIDEO_FORMAT_I420,
              "the sample's caps are not I420 video");
        MstFrame *frame =
            frame_from_buffer(gst_sample_get_buffer(sample), &video_info, &expected[written]);
        gst_sample_unref(sample); /* the frame holds its own reference to the buffer */
        MST_TRY(mst_generator_write(generator, frame));
        MST_TRY(mst_frame_free(frame));
        written++;
    }
    CHECK(gst_app_sink_is_eos(GST_APP_SINK(sink)), "the appsink stopped before EOS");
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    CHECK(message == NULL, "the pipeline posted an error");
    gst_object_unref(bus);
    CHECK(written == FRAMES, "the appsink gave %u samples, not %d", written, FRAMES);

    /* Closing the writable ends the track and empties its processors' queues: the reader
     * must have every frame first. */
    g_thread_join(reader_thread);
    CHECK(reader.frames == FRAMES, "the reader checked %u frames", reader.frames);
    MST_TRY(mst_generator_close(generator));
    MstFrame *frame;
    MstStatus status = mst_processor_read(processor, 0, &frame);
    CHECK(status == MST_ERR_ENDED, "a read after the writable closed gave %s, not the end",
          mst_status_str(status));
    MST_TRY(mst_processor_free(processor));
    MST_TRY(mst_track_free(track));
    MST_TRY(mst_generator_free(generator));
    CHECK(g_atomic_int_get(&buffers_released) == FRAMES,
          "libmst released %d of the %d buffers it was lent", g_atomic_int_get(&buffers_released),
          FRAMES);
    printf("gst_appsink: %d GStreamer buffers of %dx%d went through a libmst track without a copy; "
           "libmst released every one\n",
           FRAMES, WIDTH, HEIGHT);

    CHECK(gst_element_set_state(pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS,
          "the pipeline does not stop");
    gst_object_unref(sink);
    gst_object_unref(pipeline);
    gst_deinit();
    return 0;
}
