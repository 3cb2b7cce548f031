/* MediaStreamTrackProcessor constructor (spec 2.1.3): an invalid track is a TypeError and
 * nothing is returned; maxBufferSize is an `[EnforceRange] unsigned short`: 0 means "no value"
 * (the UA's default), 1 and 5 are kept, larger values up to 65535 are capped by the UA
 * (MST_PROCESSOR_MAX_*_BUFFER, as documented), and 65536 and above are EnforceRange's
 * TypeError (MST_ERR_TYPE), nothing created; a processor on an ended track exists but ends at
 * once; the queue starts empty. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

/* The default and the cap that mst_processor_create() documents, from the header. */
#define DEFAULT_VIDEO MST_PROCESSOR_DEFAULT_VIDEO_BUFFER
#define MAX_VIDEO MST_PROCESSOR_MAX_VIDEO_BUFFER
#define DEFAULT_AUDIO MST_PROCESSOR_DEFAULT_AUDIO_BUFFER
#define MAX_AUDIO MST_PROCESSOR_MAX_AUDIO_BUFFER

/* The capacity a processor created on `track` with `requested` reports. */
static uint32_t capacity_for(const MstTrack *track, uint32_t requested) {
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(track, MST_TEST_BUFFER(requested), &p));
    CHECK(p != NULL);
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p, &st));
    CHECK_OK(mst_processor_free(p));
    return st.max_buffer_size;
}

static void check_sizes(int32_t kind, uint32_t dflt, uint32_t cap) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(kind, &g));
    CHECK_OK(mst_generator_get_track(g, &t));

    CHECK_EQ_INT(capacity_for(t, 0), dflt);
    CHECK_EQ_INT(capacity_for(t, 1), 1);
    CHECK_EQ_INT(capacity_for(t, 5), 5);
    CHECK_EQ_INT(capacity_for(t, cap), cap);
    CHECK_EQ_INT(capacity_for(t, cap + 1), cap);
    CHECK_EQ_INT(capacity_for(t, 65535), cap);
    /* NULL options are the defaults too. */
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, NULL, &p));
    CHECK_EQ_INT(mst_test_stats(p).max_buffer_size, dflt);
    CHECK_OK(mst_processor_free(p));

    /* Outside unsigned short: TypeError, nothing created, *out untouched; with the latest-only
     * flag too (its queue of 1 does not make the value valid). */
    const uint32_t out_of_range[] = {65536, 65537, 100000, UINT32_MAX};
    for (size_t i = 0; i < sizeof out_of_range / sizeof out_of_range[0]; i++) {
        for (uint32_t flags = 0; flags <= MST_PROCESSOR_LATEST_ONLY; flags++) {
            MstProcessorOptions o = MST_STRUCT_INIT(MstProcessorOptions);
            o.max_buffer_size = out_of_range[i];
            o.flags = flags;
            MstProcessor *const canary = (MstProcessor *)(uintptr_t)0x5a5a5a5a;
            p = canary;
            MstStatus got = mst_processor_create(t, &o, &p);
            if (got != MST_ERR_TYPE)
                MST_TEST_FAIL_("maxBufferSize %u (flags %u) returned %s, expected MST_ERR_TYPE",
                               (unsigned)out_of_range[i], (unsigned)flags, mst_status_str(got));
            CHECK(p == canary);
            char value[16];
            snprintf(value, sizeof value, "%u", (unsigned)out_of_range[i]);
            CHECK(strstr(mst_last_error_message(), value) != NULL);
        }
    }
    /* A flag next to the one libmst knows is refused. */
    MstProcessorOptions o = MST_STRUCT_INIT(MstProcessorOptions);
    o.flags = MST_PROCESSOR_LATEST_ONLY | 2u;
    p = NULL;
    CHECK_STATUS(mst_processor_create(t, &o, &p), MST_ERR_INVALID_ARG);
    CHECK(p == NULL);

    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

int main(void) {
    int sentinel_storage = 0;
    MstProcessor *const sentinel = (MstProcessor *)(void *)&sentinel_storage;

    /* Step 1: init.track is not a valid MediaStreamTrack -> TypeError, *out untouched. */
    MstProcessor *out = sentinel;
    CHECK_STATUS(mst_processor_create(NULL, NULL, &out), MST_ERR_NULL_ARG);
    CHECK(out == sentinel);

    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *freed = NULL;
    CHECK_OK(mst_generator_get_track(g, &freed));
    CHECK_OK(mst_track_free(freed));
    CHECK_STATUS(mst_processor_create(freed, NULL, &out), MST_ERR_TYPE);
    CHECK(out == sentinel);

    MstFrame *frame = mst_test_video_frame(16, 16, 0);
    CHECK_STATUS(mst_processor_create((const MstTrack *)(const void *)frame, NULL, &out), MST_ERR_TYPE);
    CHECK(out == sentinel);
    CHECK_STATUS(mst_processor_create((const MstTrack *)(const void *)g, NULL, &out), MST_ERR_TYPE);
    CHECK(out == sentinel);
    CHECK_OK(mst_frame_free(frame));

    MstTrack *live = NULL;
    CHECK_OK(mst_generator_get_track(g, &live));
    CHECK_STATUS(mst_processor_create(live, NULL, NULL), MST_ERR_NULL_ARG);

    /* Steps 5-7: the queue starts empty and the processor open. */
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(live, MST_TEST_BUFFER(4), &p));
    MstProcessorStats st = MST_STRUCT_INIT(MstProcessorStats);
    CHECK_OK(mst_processor_get_stats(p, &st));
    CHECK_EQ_INT(st.total, 0);
    CHECK_EQ_INT(st.delivered, 0);
    CHECK_EQ_INT(st.discarded, 0);
    CHECK_EQ_INT(st.queued, 0);
    CHECK(!st.ended);
    MstFrame *read = NULL;
    CHECK_STATUS(mst_processor_read(p, 0, &read), MST_ERR_AGAIN);
    CHECK(read == NULL);
    CHECK_OK(mst_processor_free(p));

    /* Step 4: maxBufferSize; 0 leaves it without a value (the UA's default). */
    check_sizes(MST_KIND_VIDEO, DEFAULT_VIDEO, MAX_VIDEO);
    check_sizes(MST_KIND_AUDIO, DEFAULT_AUDIO, MAX_AUDIO);

    /* A processor on an ended track is created, and its first read reports the end (with a
     * 10 s hang guard in case it wrongly waits for frames). */
    MstTrack *clone = NULL;
    CHECK_OK(mst_track_clone(live, &clone));
    CHECK_OK(mst_track_stop(clone));
    MstReadyState state = 0;
    CHECK_OK(mst_track_get_ready_state(clone, &state));
    CHECK_EQ_INT(state, MST_READY_STATE_ENDED);
    p = NULL;
    CHECK_OK(mst_processor_create(clone, NULL, &p));
    CHECK(p != NULL);
    CHECK_STATUS(mst_processor_read(p, 10000, &read), MST_ERR_ENDED);
    CHECK(read == NULL);
    CHECK_OK(mst_processor_get_stats(p, &st));
    CHECK(st.ended);
    CHECK_OK(mst_processor_free(p));

    /* The same after the writable closed: every track of the generator has ended. */
    CHECK_OK(mst_generator_close(g));
    p = NULL;
    CHECK_OK(mst_processor_create(live, NULL, &p));
    CHECK_STATUS(mst_processor_read(p, 0, &read), MST_ERR_ENDED);
    CHECK(read == NULL);
    CHECK_OK(mst_processor_free(p));

    CHECK_OK(mst_track_free(clone));
    CHECK_OK(mst_track_free(live));
    CHECK_OK(mst_generator_free(g));

    return 0;
}
