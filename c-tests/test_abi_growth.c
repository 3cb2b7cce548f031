/* Structs that grow (the 1.0 ABI's size-prefixed structs): every struct passed in or filled
 * starts with struct_size, the size the caller was compiled with.
 *
 * A binary built against libmst 1.0 passes the 1.0 structs: they are declared below as they
 * were in 1.0 (each a prefix of today's, which the static asserts hold), so once libmst's
 * structs grow, these are the smaller structs of an older binary. They must be accepted, the
 * fields they lack must read as zero (the default), and out-structs must be written only up to
 * their size: the canary after them survives. A binary built against a newer libmst passes
 * larger structs: a zero tail is accepted (it asks for nothing new), a nonzero one refused with
 * MST_ERR_UNSUPPORTED naming the offset; out-structs are written only up to libmst's size.
 * A size below the 1.0 size, or an implausible one, is MST_ERR_INVALID_ARG, and nothing is
 * created or written. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

/* ---- The 1.0 structs, as an older binary has them ----------------------------------------- */

struct tone_options_1_0 {
    uint32_t struct_size;
    uint32_t sample_rate;
    uint32_t channels;
    double frequency;
    double amplitude;
    int32_t format;
    uint32_t chunk_frames;
    bool unpaced;
    uint64_t chunk_count;
};

struct processor_options_1_0 {
    uint32_t struct_size;
    uint32_t max_buffer_size;
    uint32_t flags;
};

struct processor_stats_1_0 {
    uint32_t struct_size;
    uint32_t max_buffer_size;
    uint64_t total;
    uint64_t delivered;
    uint64_t discarded;
    uint64_t queued;
    bool ended;
    uint32_t pending_reads;
    uint64_t discarded_queue_full;
    uint64_t discarded_superseded;
    uint64_t discarded_closed;
    uint64_t discarded_muted;
    uint64_t discarded_disabled;
    uint64_t discarded_decimated;
    uint64_t discarded_failed;
};

struct video_frame_info_1_0 {
    uint32_t struct_size;
    MstVideoPixelFormat format;
    uint32_t coded_width;
    uint32_t coded_height;
    MstRect visible_rect;
    uint32_t display_width;
    uint32_t display_height;
    int64_t timestamp;
    int64_t duration;
    uint32_t num_planes;
    uint64_t sequence;
    int64_t capture_sequence;
    uint64_t discarded_before;
};

#define SAME_FIELD(old, new, f)                                                                    \
    _Static_assert(offsetof(old, f) == offsetof(new, f) && sizeof(((old *)0)->f) == sizeof(((new *)0)->f), \
                   #new "." #f " moved: the 1.0 struct is no longer a prefix")
SAME_FIELD(struct tone_options_1_0, MstToneOptions, sample_rate);
SAME_FIELD(struct tone_options_1_0, MstToneOptions, channels);
SAME_FIELD(struct tone_options_1_0, MstToneOptions, frequency);
SAME_FIELD(struct tone_options_1_0, MstToneOptions, amplitude);
SAME_FIELD(struct tone_options_1_0, MstToneOptions, format);
SAME_FIELD(struct tone_options_1_0, MstToneOptions, chunk_frames);
SAME_FIELD(struct tone_options_1_0, MstToneOptions, unpaced);
SAME_FIELD(struct tone_options_1_0, MstToneOptions, chunk_count);
SAME_FIELD(struct processor_options_1_0, MstProcessorOptions, max_buffer_size);
SAME_FIELD(struct processor_options_1_0, MstProcessorOptions, flags);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, max_buffer_size);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, total);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, delivered);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, discarded);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, queued);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, ended);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, pending_reads);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, discarded_queue_full);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, discarded_superseded);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, discarded_closed);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, discarded_muted);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, discarded_disabled);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, discarded_decimated);
SAME_FIELD(struct processor_stats_1_0, MstProcessorStats, discarded_failed);
SAME_FIELD(struct video_frame_info_1_0, MstVideoFrameInfo, format);
SAME_FIELD(struct video_frame_info_1_0, MstVideoFrameInfo, visible_rect);
SAME_FIELD(struct video_frame_info_1_0, MstVideoFrameInfo, timestamp);
SAME_FIELD(struct video_frame_info_1_0, MstVideoFrameInfo, num_planes);
SAME_FIELD(struct video_frame_info_1_0, MstVideoFrameInfo, sequence);
SAME_FIELD(struct video_frame_info_1_0, MstVideoFrameInfo, capture_sequence);
SAME_FIELD(struct video_frame_info_1_0, MstVideoFrameInfo, discarded_before);

enum { CANARY = 0x5a, TAIL = 64 };

static void check_canary(const uint8_t *p, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != CANARY) MST_TEST_FAIL_("%s: byte %zu past the caller's struct was written", what, i);
}

static void check_message_has(const char *needle) {
    if (strstr(mst_last_error_message(), needle) == NULL)
        MST_TEST_FAIL_("the last error \"%s\" does not mention \"%s\"", mst_last_error_message(), needle);
}

/* A generator's video track with a processor (queue `max`), and one 16x16 frame written. */
struct pipe {
    MstGenerator *g;
    MstTrack *t;
    MstProcessor *p;
};

static struct pipe pipe_with_frame(const MstProcessorOptions *options) {
    struct pipe s = {NULL, NULL, NULL};
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &s.g));
    CHECK_OK(mst_generator_get_track(s.g, &s.t));
    CHECK_OK(mst_processor_create(s.t, options, &s.p));
    mst_test_write_video_frame(s.g, 16, 16, 4242);
    return s;
}

static void pipe_free(struct pipe *s) {
    CHECK_OK(mst_processor_free(s->p));
    CHECK_OK(mst_track_free(s->t));
    CHECK_OK(mst_generator_free(s->g));
}

/* ---- An older binary ---------------------------------------------------------------------- */

static void older_binary_in_structs(void) {
    /* Options: every 1.0 field is honoured, whatever libmst added since reads as default. */
    struct tone_options_1_0 tone;
    memset(&tone, 0, sizeof tone);
    tone.struct_size = sizeof tone;
    tone.sample_rate = 8000;
    tone.channels = 2;
    tone.unpaced = true;
    tone.chunk_count = 2;
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_tone((const MstToneOptions *)(const void *)&tone, &t));
    struct processor_options_1_0 popts = {sizeof popts, 5, 0};
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, (const MstProcessorOptions *)(const void *)&popts, &p));
    MstFrame *a = NULL;
    CHECK_OK(mst_processor_read(p, 60000, &a));
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    CHECK_OK(mst_frame_get_audio_info(a, &info));
    CHECK(info.sample_rate == 8000.0f);
    CHECK_EQ_INT(info.number_of_channels, 2);
    CHECK_EQ_INT(info.number_of_frames, 80); /* chunk_frames 0: the default, 10 ms */
    CHECK_OK(mst_frame_free(a));
    CHECK_EQ_INT(mst_test_stats(p).max_buffer_size, 5);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
}

static void older_binary_out_structs(void) {
    struct pipe s = pipe_with_frame(MST_TEST_BUFFER(3));
    struct {
        struct processor_stats_1_0 stats;
        uint8_t after[TAIL];
    } out;
    memset(&out, CANARY, sizeof out);
    out.stats.struct_size = sizeof out.stats;
    CHECK_OK(mst_processor_get_stats(s.p, (MstProcessorStats *)(void *)&out.stats));
    CHECK_EQ_INT(out.stats.struct_size, sizeof out.stats); /* left as the caller set it */
    CHECK_EQ_INT(out.stats.total, 1);
    CHECK_EQ_INT(out.stats.queued, 1);
    CHECK_EQ_INT(out.stats.max_buffer_size, 3);
    CHECK(!out.stats.ended);
    /* Every field of the caller's struct is written, up to its last byte, and none after it. */
    CHECK_EQ_INT(out.stats.pending_reads, 0);
    CHECK_EQ_INT(out.stats.discarded, 0);
    CHECK_EQ_INT(out.stats.discarded_failed, 0);
    check_canary(out.after, sizeof out.after, "MstProcessorStats (1.0)");

    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(s.p, 0, &f));
    struct {
        struct video_frame_info_1_0 info;
        uint8_t after[TAIL];
    } vout;
    memset(&vout, CANARY, sizeof vout);
    vout.info.struct_size = sizeof vout.info;
    CHECK_OK(mst_frame_get_video_info(f, (MstVideoFrameInfo *)(void *)&vout.info));
    CHECK_EQ_INT(vout.info.timestamp, 4242);
    CHECK_EQ_INT(vout.info.sequence, 1);
    CHECK_EQ_INT(vout.info.capture_sequence, -1);
    CHECK_EQ_INT(vout.info.visible_rect.width, 16);
    CHECK_EQ_INT(vout.info.discarded_before, 0);
    check_canary(vout.after, sizeof vout.after, "MstVideoFrameInfo (1.0)");
    CHECK_OK(mst_frame_free(f));
    pipe_free(&s);
}

/* ---- Sizes below 1.0, and implausible ones ------------------------------------------------ */

static void sizes_below_1_0_are_refused(void) {
    MstToneOptions tone = MST_STRUCT_INIT(MstToneOptions);
    tone.struct_size = 4;
    MstTrack *t = (MstTrack *)(uintptr_t)0x5e5e;
    CHECK_STATUS(mst_track_create_tone(&tone, &t), MST_ERR_INVALID_ARG);
    CHECK(t == (MstTrack *)(uintptr_t)0x5e5e);
    check_message_has("MstToneOptions");
    check_message_has("struct_size is 4");
    char size[32];
    snprintf(size, sizeof size, "(%zu)", sizeof(struct tone_options_1_0));
    check_message_has(size);
    tone.struct_size = 0; /* a struct nobody initialized with MST_STRUCT_INIT */
    CHECK_STATUS(mst_track_create_tone(&tone, &t), MST_ERR_INVALID_ARG);
    check_message_has("MST_STRUCT_INIT");
    tone.struct_size = UINT32_MAX; /* garbage: never read that far */
    CHECK_STATUS(mst_track_create_tone(&tone, &t), MST_ERR_INVALID_ARG);
    CHECK(t == (MstTrack *)(uintptr_t)0x5e5e);

    struct pipe s = pipe_with_frame(NULL);
    MstProcessorStats stats;
    memset(&stats, CANARY, sizeof stats);
    stats.struct_size = (uint32_t)sizeof(struct processor_stats_1_0) - 8;
    MstProcessorStats before = stats;
    CHECK_STATUS(mst_processor_get_stats(s.p, &stats), MST_ERR_INVALID_ARG);
    CHECK(memcmp(&stats, &before, sizeof stats) == 0);
    check_message_has("MstProcessorStats");

    /* An optional out-struct too, checked before anything is copied. */
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(s.p, 0, &f));
    uint8_t dst[16 * 16 * 3 / 2];
    memset(dst, CANARY, sizeof dst);
    MstPlaneLayouts layouts = MST_STRUCT_INIT(MstPlaneLayouts);
    layouts.struct_size = 8;
    CHECK_STATUS(mst_frame_video_copy_to(f, dst, sizeof dst, NULL, &layouts), MST_ERR_INVALID_ARG);
    check_canary(dst, sizeof dst, "a refused copy_to's destination");
    CHECK_OK(mst_frame_free(f));

    MstProcessor *p = (MstProcessor *)(uintptr_t)0x5e5e;
    MstProcessorOptions popts = MST_STRUCT_INIT(MstProcessorOptions);
    popts.struct_size = 2;
    CHECK_STATUS(mst_processor_create(s.t, &popts, &p), MST_ERR_INVALID_ARG);
    CHECK(p == (MstProcessor *)(uintptr_t)0x5e5e);
    pipe_free(&s);
}

/* ---- A newer binary ----------------------------------------------------------------------- */

static void newer_binary_structs(void) {
    /* In: a larger struct whose tail is zero asks for nothing new. */
    struct tone_newer {
        MstToneOptions o;
        uint8_t tail[TAIL];
    } tone;
    memset(&tone, 0, sizeof tone);
    tone.o.struct_size = sizeof tone;
    tone.o.unpaced = true;
    tone.o.chunk_count = 1;
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_tone(&tone.o, &t));
    CHECK_OK(mst_track_free(t));
    /* ...a nonzero byte in it asks for what this libmst does not have. */
    tone.tail[5] = 1;
    t = (MstTrack *)(uintptr_t)0x5e5e;
    CHECK_STATUS(mst_track_create_tone(&tone.o, &t), MST_ERR_UNSUPPORTED);
    CHECK(t == (MstTrack *)(uintptr_t)0x5e5e);
    char offset[64];
    snprintf(offset, sizeof offset, "offset %zu", offsetof(struct tone_newer, tail) + 5);
    check_message_has(offset);

    struct {
        MstProcessorOptions o;
        uint8_t tail[TAIL];
    } popts;
    memset(&popts, 0, sizeof popts);
    popts.o.struct_size = sizeof popts;
    popts.o.max_buffer_size = 2;
    struct pipe s = pipe_with_frame(&popts.o);
    CHECK_EQ_INT(mst_test_stats(s.p).max_buffer_size, 2);
    popts.tail[TAIL - 1] = 0x80;
    MstProcessor *p = (MstProcessor *)(uintptr_t)0x5e5e;
    CHECK_STATUS(mst_processor_create(s.t, &popts.o, &p), MST_ERR_UNSUPPORTED);
    CHECK(p == (MstProcessor *)(uintptr_t)0x5e5e);

    /* Out: libmst writes what it knows and not a byte more. */
    struct {
        MstProcessorStats stats;
        uint8_t tail[TAIL];
    } out;
    memset(&out, CANARY, sizeof out);
    out.stats.struct_size = sizeof out;
    CHECK_OK(mst_processor_get_stats(s.p, &out.stats));
    CHECK_EQ_INT(out.stats.struct_size, sizeof out);
    CHECK_EQ_INT(out.stats.total, 1);
    check_canary(out.tail, sizeof out.tail, "a newer caller's MstProcessorStats");
    pipe_free(&s);
}

static void struct_init_sets_the_size_and_zeroes_the_rest(void) {
    MstVideoCopyOptions o = MST_STRUCT_INIT(MstVideoCopyOptions);
    CHECK_EQ_INT(o.struct_size, sizeof o);
    CHECK(o.format == 0 && o.num_planes == 0 && o.rect.width == 0 && o.layout[3].stride == 0);
    MstProcessorOptions p = MST_STRUCT_INIT(MstProcessorOptions);
    CHECK_EQ_INT(p.struct_size, sizeof p);
    CHECK(p.max_buffer_size == 0 && p.flags == 0);
}

int main(void) {
    struct_init_sets_the_size_and_zeroes_the_rest();
    older_binary_in_structs();
    older_binary_out_structs();
    sizes_below_1_0_are_refused();
    newer_binary_structs();
    printf("test_abi_growth: ok\n");
    return 0;
}
