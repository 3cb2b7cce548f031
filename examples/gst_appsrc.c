/* A libmst track leaving the machine through GStreamer: the test pattern is read through a
 * processor and pushed into
 *
 *   appsrc ! videoconvert ! jpegenc ! rtpjpegpay ! appsink
 *
 * that is, encoded as JPEG and packetized as RTP (RFC 2435). In a real sender the appsink is a
 * udpsink (or webrtcbin, rtspclientsink...); here it counts the packets, so the example checks
 * itself. Build, with libmst installed where pkg-config finds it and GStreamer's development
 * packages (libgstreamer-plugins-base1.0-dev):
 *
 *   cc -std=c11 gst_appsrc.c -o gst_appsrc $(pkg-config --cflags --libs mst) $(pkg-config --cflags --libs gstreamer-app-1.0 gstreamer-video-1.0)
 *
 * Zero-copy: each plane of a libmst frame becomes a GstMemory over libmst's own pixels (a
 * GstVideoMeta carries the offsets and strides), and the frame handle lives exactly as long as
 * GStreamer holds any of those memories: the last one it drops frees the handle.
 *
 * The check: every frame became RTP packets (one frame = the packets that share its RTP
 * timestamp, the last with the marker bit), the RTP timestamps are the frames' timestamps on
 * the 90 kHz clock, the sequence numbers have no gap, the pipeline reached EOS without an error,
 * and every frame handle lent to GStreamer was freed when the pipeline was torn down. */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <stdlib.h>

#include "mst.h"

#define WIDTH 320
#define HEIGHT 240
#define FRAME_RATE 30
/* At most MST_PROCESSOR_MAX_VIDEO_BUFFER: the processor's queue holds the whole run, so the
 * unpaced source never has to drop a frame for a reader that is slow (valgrind, a busy CPU). */
#define FRAMES 30
#define READ_TIMEOUT_MS 20000 /* a stuck source fails instead of hanging */
#define EOS_TIMEOUT (120 * GST_SECOND)
#define RTP_HEADER_LEN 12
#define RTP_JPEG_PAYLOAD_TYPE 26 /* RFC 3551's static type for JPEG */
#define RTP_JPEG_CLOCK_RATE 90000

#define MST_TRY(call)                                                                          \
    do {                                                                                       \
        MstStatus try_status_ = (call);                                                        \
        if (try_status_ != MST_OK) {                                                           \
            fprintf(stderr, "gst_appsrc: %s failed: %s (%s)\n", #call,                         \
                    mst_status_str(try_status_), mst_last_error_message());                    \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "gst_appsrc: CHECK FAILED (%s): ", #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* ---- libmst frames lent to GStreamer --------------------------------------------------------- */

/* One frame handle shared by the GstMemory of each of its planes. */
struct lent_frame {
    MstFrame *frame;
    gint refs;
};

static gint frames_released; /* lent frames whose last memory GStreamer dropped */

static void lent_frame_unref(gpointer data) {
    struct lent_frame *lent = data;
    if (!g_atomic_int_dec_and_test(&lent->refs)) return;
    /* Any thread may free a frame handle; this is often a GStreamer streaming thread. */
    MST_TRY(mst_frame_free(lent->frame));
    g_free(lent);
    g_atomic_int_inc(&frames_released);
}

/* A GstBuffer over `frame`'s planes, which takes over the frame handle. */
static GstBuffer *buffer_from_frame(MstFrame *frame, const GstVideoInfo *video_info) {
    guint planes = GST_VIDEO_INFO_N_PLANES(video_info);
    struct lent_frame *lent = g_new(struct lent_frame, 1);
    lent->frame = frame;
    lent->refs = 1; /* this function's, dropped at its end */
    GstBuffer *buffer = gst_buffer_new();
    gsize offsets[GST_VIDEO_MAX_PLANES] = {0};
    gint strides[GST_VIDEO_MAX_PLANES] = {0};
    gsize buffer_size = 0;
    for (guint p = 0; p < planes; p++) {
        const uint8_t *data;
        size_t stride, len;
        MST_TRY(mst_frame_get_video_plane(frame, p, &data, &stride, &len));
        /* I420's planes are its components, so the plane's rows are component p's. */
        size_t rows = (size_t)GST_VIDEO_INFO_COMP_HEIGHT(video_info, p);
        size_t row_bytes = (size_t)GST_VIDEO_INFO_COMP_WIDTH(video_info, p);
        CHECK(stride >= row_bytes && stride <= G_MAXINT && len >= stride * (rows - 1) + row_bytes,
              "plane %u: stride %zu and %zu bytes cannot hold %zu rows of %zu bytes", p, stride,
              len, rows, row_bytes);
        g_atomic_int_inc(&lent->refs);
        /* GStreamer never writes to a read-only memory, as libmst's planes require. */
        gst_buffer_append_memory(buffer, gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY,
                                                                (gpointer)data, len, 0, len, lent,
                                                                lent_frame_unref));
        offsets[p] = buffer_size;
        strides[p] = (gint)stride;
        buffer_size += len;
    }
    gst_buffer_add_video_meta_full(buffer, GST_VIDEO_FRAME_FLAG_NONE,
                                   GST_VIDEO_INFO_FORMAT(video_info),
                                   (guint)GST_VIDEO_INFO_WIDTH(video_info),
                                   (guint)GST_VIDEO_INFO_HEIGHT(video_info), planes, offsets,
                                   strides);
    lent_frame_unref(lent);
    return buffer;
}

/* ---- the receiving end: RTP packets at the appsink ------------------------------------------ */

struct rtp_log {
    GMutex lock;
    GstClockTime pts[FRAMES]; /* each pushed frame's PTS, set before it is pushed */
    guint pushed;
    guint packets[FRAMES]; /* per frame */
    guint markers[FRAMES];
    guint total;
    guint16 next_seq;
    guint bad; /* packets that are not what they should be (the first reported on stderr) */
};

static void bad_packet(struct rtp_log *log, const char *why, guint number) {
    if (log->bad++ == 0) fprintf(stderr, "gst_appsrc: RTP packet %u: %s\n", number, why);
}

static void log_packet(struct rtp_log *log, GstBuffer *buffer) {
    guint number = log->total++;
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) {
        bad_packet(log, "cannot be mapped", number);
        return;
    }
    const guint8 *h = map.data;
    if (map.size <= RTP_HEADER_LEN) {
        bad_packet(log, "shorter than an RTP header and payload", number);
    } else if (h[0] >> 6 != 2 || (h[1] & 0x7f) != RTP_JPEG_PAYLOAD_TYPE) {
        bad_packet(log, "not RTP version 2 with the JPEG payload type", number);
    } else {
        guint16 seq = (guint16)(h[2] << 8 | h[3]);
        guint32 rtp_time = (guint32)h[4] << 24 | (guint32)h[5] << 16 | (guint32)h[6] << 8 | h[7];
        gboolean marker = (h[1] & 0x80) != 0;
        GstClockTime pts = GST_BUFFER_PTS(buffer);
        /* rtpjpegpay's timestamp-offset=0: the RTP time is the running time at 90 kHz. */
        guint32 want_rtp_time =
            (guint32)gst_util_uint64_scale_int(pts, RTP_JPEG_CLOCK_RATE, GST_SECOND);
        guint frame = 0;
        while (frame < log->pushed && log->pts[frame] != pts) frame++;
        if (number > 0 && seq != log->next_seq) {
            bad_packet(log, "its sequence number leaves a gap", number);
        } else if (frame == log->pushed) {
            bad_packet(log, "its PTS is no pushed frame's", number);
        } else if (rtp_time != want_rtp_time) {
            bad_packet(log, "its RTP timestamp is not its frame's PTS at 90 kHz", number);
        } else if (log->markers[frame] > 0) {
            bad_packet(log, "comes after its frame's last (marker) packet", number);
        } else {
            log->packets[frame]++;
            log->markers[frame] += marker;
        }
        log->next_seq = (guint16)(seq + 1);
    }
    gst_buffer_unmap(buffer, &map);
}

static GstFlowReturn on_rtp_sample(GstAppSink *sink, gpointer user_data) {
    struct rtp_log *log = user_data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (sample == NULL) return GST_FLOW_EOS;
    g_mutex_lock(&log->lock);
    log_packet(log, gst_sample_get_buffer(sample));
    g_mutex_unlock(&log->lock);
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

/* ---- the sender ------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    gst_init(&argc, &argv);

    GError *error = NULL;
    GstElement *pipeline = gst_parse_launch(
        "appsrc name=src format=time ! videoconvert ! jpegenc ! rtpjpegpay timestamp-offset=0 "
        "! appsink name=sink sync=false",
        &error);
    CHECK(pipeline != NULL && error == NULL, "the pipeline cannot be made: %s",
          error ? error->message : "no element");
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    /* No limit on appsrc's queue: the reader never waits for the encoder, so it keeps up with
     * the unpaced source, which ends (emptying the queues) a second after its last frame. */
    g_object_set(src, "max-bytes", G_GUINT64_CONSTANT(0), NULL);
    struct rtp_log log = {0};
    g_mutex_init(&log.lock);
    GstAppSinkCallbacks callbacks = {.new_sample = on_rtp_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, &log, NULL);
    /* appsrc waits for its caps and first buffer; starting the pipeline (and loading its
     * plugins) before the source exists keeps that slow work out of the reading loop. */
    CHECK(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE,
          "the pipeline does not start");

    MstTestPatternOptions options = MST_STRUCT_INIT(MstTestPatternOptions);
    options.width = WIDTH;
    options.height = HEIGHT;
    options.frame_rate = FRAME_RATE;
    options.unpaced = true;
    options.frame_count = FRAMES;
    MstProcessorOptions processor_options = MST_STRUCT_INIT(MstProcessorOptions);
    processor_options.max_buffer_size = FRAMES;
    MstTrack *track = NULL;
    MstProcessor *processor = NULL;
    MST_TRY(mst_track_create_test_pattern(&options, &track));
    MST_TRY(mst_processor_create(track, &processor_options, &processor));

    GstVideoInfo video_info;
    MstFrame *frame;
    MstStatus status;
    while ((status = mst_processor_read(processor, READ_TIMEOUT_MS, &frame)) == MST_OK) {
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        MST_TRY(mst_frame_get_video_info(frame, &info));
        CHECK(info.format == MST_VIDEO_PIXEL_FORMAT_I420 && info.visible_rect.x == 0 &&
                  info.visible_rect.y == 0 && info.timestamp >= 0,
              "frame %llu: format %d, visible rect at %u,%u, timestamp %lld: not plain I420",
              (unsigned long long)info.sequence, (int)info.format, info.visible_rect.x,
              info.visible_rect.y, (long long)info.timestamp);
        CHECK(log.pushed < FRAMES, "the source sent more than its %d frames", FRAMES);
        if (log.pushed == 0) {
            /* The caps come from the first frame and the track's frame rate. */
            MstSettings settings = MST_STRUCT_INIT(MstSettings);
            MST_TRY(mst_track_get_settings(track, &settings));
            CHECK(settings.present & MST_SETTING_FRAME_RATE, "the track reports no frame rate");
            CHECK(gst_video_info_set_format(&video_info, GST_VIDEO_FORMAT_I420,
                                            info.visible_rect.width, info.visible_rect.height),
                  "GStreamer refuses I420 at %ux%u", info.visible_rect.width,
                  info.visible_rect.height);
            gst_util_double_to_fraction(settings.frame_rate, &video_info.fps_n, &video_info.fps_d);
            GstCaps *caps = gst_video_info_to_caps(&video_info);
            gst_app_src_set_caps(GST_APP_SRC(src), caps);
            gst_caps_unref(caps);
        }
        CHECK(info.visible_rect.width == (guint)GST_VIDEO_INFO_WIDTH(&video_info) &&
                  info.visible_rect.height == (guint)GST_VIDEO_INFO_HEIGHT(&video_info),
              "frame %llu is %ux%u, the caps say %dx%d", (unsigned long long)info.sequence,
              info.visible_rect.width, info.visible_rect.height, GST_VIDEO_INFO_WIDTH(&video_info),
              GST_VIDEO_INFO_HEIGHT(&video_info));
        GstBuffer *buffer = buffer_from_frame(frame, &video_info);
        GST_BUFFER_PTS(buffer) = (GstClockTime)info.timestamp * GST_USECOND;
        if (info.duration > 0) {
            GST_BUFFER_DURATION(buffer) = (GstClockTime)info.duration * GST_USECOND;
        }
        g_mutex_lock(&log.lock);
        log.pts[log.pushed++] = GST_BUFFER_PTS(buffer);
        g_mutex_unlock(&log.lock);
        GstFlowReturn flow = gst_app_src_push_buffer(GST_APP_SRC(src), buffer); /* takes it */
        CHECK(flow == GST_FLOW_OK, "appsrc refused frame %llu: %s",
              (unsigned long long)info.sequence, gst_flow_get_name(flow));
    }
    CHECK(status == MST_ERR_ENDED, "the read ended with %s (%s), not the track's end",
          mst_status_str(status), mst_last_error_message());
    CHECK(log.pushed == FRAMES, "the source sent %u frames, not %d", log.pushed, FRAMES);

    CHECK(gst_app_src_end_of_stream(GST_APP_SRC(src)) == GST_FLOW_OK, "appsrc refused the EOS");
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *message =
        gst_bus_timed_pop_filtered(bus, EOS_TIMEOUT, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    CHECK(message != NULL, "no EOS within %llu s", (unsigned long long)(EOS_TIMEOUT / GST_SECOND));
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        gchar *debug = NULL;
        gst_message_parse_error(message, &error, &debug);
        CHECK(0, "the pipeline failed: %s (%s)", error->message, debug ? debug : "no details");
    }
    gst_message_unref(message);
    gst_object_unref(bus);
    CHECK(gst_element_set_state(pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS,
          "the pipeline does not stop");
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_object_unref(pipeline);

    CHECK(g_atomic_int_get(&frames_released) == FRAMES,
          "GStreamer gave back %d of the %d frames it was lent", g_atomic_int_get(&frames_released),
          FRAMES);
    CHECK(log.bad == 0, "%u of the %u RTP packets are malformed (the first above)", log.bad,
          log.total);
    for (guint i = 0; i < FRAMES; i++) {
        CHECK(log.packets[i] >= 1 && log.markers[i] == 1,
              "frame %u became %u RTP packets, %u of them with the marker bit (want >= 1, 1)", i,
              log.packets[i], log.markers[i]);
    }
    printf("gst_appsrc: %d frames of %dx%d became %u RTP/JPEG packets; GStreamer gave back every "
           "frame\n",
           FRAMES, WIDTH, HEIGHT, log.total);

    g_mutex_clear(&log.lock);
    MST_TRY(mst_processor_free(processor));
    MST_TRY(mst_track_free(track));
    gst_deinit();
    return 0;
}
