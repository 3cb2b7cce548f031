/* The frame ledger through the ABI (1.3): MstProcessorStats.held counts the frame handles
 * delivered to a processor that are open (queued, read, and their mst_frame_clone() clones,
 * until mst_frame_close() or mst_frame_free()), each processor its own; a caller that knows only the 1.0 struct
 * gets nothing past it; freeing a processor with frames open logs one warning naming it (its
 * track's id) and the count, and freeing one with none open logs nothing. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

enum { W = 16, H = 8 };

struct log {
    char last[512];
    int warnings;
};

static void on_log(void *user_data, MstLogLevel level, const char *origin, const char *message) {
    struct log *log = user_data;
    if (level != MST_LOG_WARNING || strcmp(origin, "libmst") != 0 || strstr(message, "processor #") == NULL) return;
    log->warnings++;
    snprintf(log->last, sizeof log->last, "%s", message);
}

static uint64_t held(const MstProcessor *p) { return mst_test_stats(p).held; }

int main(void) {
    static struct log log;
    CHECK_OK(mst_set_log_callback(on_log, &log, NULL));

    MstGenerator *g = NULL;
    MstTrack *track = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &track));
    const char *id = NULL;
    CHECK_OK(mst_track_get_id(track, &id));

    MstProcessor *a = NULL, *b = NULL;
    CHECK_OK(mst_processor_create(track, MST_TEST_BUFFER(4), &a));
    CHECK_OK(mst_processor_create(track, MST_TEST_BUFFER(1), &b));
    for (int i = 1; i <= 3; i++) mst_test_write_video_frame(g, W, H, i);
    /* Queued frames count for their processor; b's queue of one closed those it evicted. */
    CHECK_EQ_INT(held(a), 3);
    CHECK_EQ_INT(held(b), 1);

    MstFrame *f = NULL, *clone = NULL;
    CHECK_OK(mst_processor_read(a, 0, &f));
    CHECK_EQ_INT(held(a), 3); /* two queued, one read */
    CHECK_OK(mst_frame_clone(f, &clone));
    CHECK_EQ_INT(held(a), 4); /* the clone keeps the same buffer: a's too */
    CHECK_OK(mst_frame_close(clone));
    CHECK_EQ_INT(held(a), 3); /* closed, though the handle is not freed yet */
    CHECK_OK(mst_frame_free(clone));
    CHECK_EQ_INT(held(a), 3);
    CHECK_EQ_INT(held(b), 1);

    /* A caller built against 1.0 knows 104 bytes: nothing is written past them. */
    unsigned char bytes[sizeof(MstProcessorStats)];
    memset(bytes, 0xA5, sizeof bytes);
    MstProcessorStats *old = (MstProcessorStats *)bytes;
    old->struct_size = 104;
    CHECK_OK(mst_processor_get_stats(a, old));
    CHECK_EQ_INT(old->total, 3);
    for (size_t i = 104; i < sizeof bytes; i++) CHECK(bytes[i] == 0xA5);

    /* Closing empties the queue; the read frame is still open: reported once, naming a. */
    CHECK_OK(mst_processor_close(a));
    CHECK_EQ_INT(held(a), 1);
    CHECK_EQ_INT(log.warnings, 1);
    CHECK(strstr(log.last, " closed with 1 of its frames still open") != NULL);
    CHECK(strstr(log.last, id) != NULL);
    CHECK_OK(mst_frame_clone(f, &clone));
    CHECK_OK(mst_processor_free(a));
    CHECK_EQ_INT(log.warnings, 2);
    CHECK(strstr(log.last, " freed with 2 of its frames still open") != NULL);
    CHECK(strstr(log.last, id) != NULL);
    CHECK_OK(mst_frame_free(f));
    CHECK_OK(mst_frame_free(clone));

    /* b's queued frame goes with it: nothing open, nothing said. */
    CHECK_OK(mst_processor_free(b));
    CHECK_EQ_INT(log.warnings, 2);

    CHECK_OK(mst_set_log_callback(NULL, NULL, NULL));
    CHECK_OK(mst_track_free(track));
    CHECK_OK(mst_generator_free(g));
    printf("ok: ledger\n");
    return 0;
}
