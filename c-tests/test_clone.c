/* clone (spec 2.2.4.1): a clone of a generator's track is a new track on the same source (the
 * writable): its own id, the same kind and label, live, fed the same frames; it has its own
 * lifetime (stopping the original does not end it), its own constraints, and starts with the
 * original's enabled state. The clone of an ended track is ended. */
#include <string.h>

#include "common.h"

enum { W = 640, H = 360 };

static bool enabled(const MstTrack *t) {
    bool e = false;
    CHECK_OK(mst_track_get_enabled(t, &e));
    return e;
}

int main(void) {
    MstGenerator *g = NULL;
    MstTrack *orig = NULL, *clone = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &orig));
    CHECK_OK(mst_track_clone(orig, &clone));
    CHECK(clone != NULL && clone != orig);

    /* Identity: another id, the same kind and label, live. */
    const char *id_orig = NULL, *id_clone = NULL, *label_orig = NULL, *label_clone = NULL;
    CHECK_OK(mst_track_get_id(orig, &id_orig));
    CHECK_OK(mst_track_get_id(clone, &id_clone));
    CHECK(strlen(id_clone) > 0);
    CHECK(strcmp(id_orig, id_clone) != 0);
    CHECK_OK(mst_track_get_label(orig, &label_orig));
    CHECK_OK(mst_track_get_label(clone, &label_clone));
    CHECK(strcmp(label_orig, label_clone) == 0);
    MstKind k = 0;
    CHECK_OK(mst_track_get_kind(clone, &k));
    CHECK_EQ_INT(k, MST_KIND_VIDEO);
    CHECK_EQ_INT(mst_test_ready_state(clone), MST_READY_STATE_LIVE);
    /* A clone of the clone gets yet another id. */
    MstTrack *clone2 = NULL;
    CHECK_OK(mst_track_clone(clone, &clone2));
    const char *id_clone2 = NULL;
    CHECK_OK(mst_track_get_id(clone2, &id_clone2));
    CHECK(strcmp(id_clone2, id_orig) != 0 && strcmp(id_clone2, id_clone) != 0);
    CHECK_OK(mst_track_free(clone2));

    /* The same source: both get the same frames. */
    MstProcessor *po = NULL, *pc = NULL;
    CHECK_OK(mst_processor_create(orig, MST_TEST_BUFFER(8), &po));
    CHECK_OK(mst_processor_create(clone, MST_TEST_BUFFER(8), &pc));
    for (int i = 1; i <= 3; i++) mst_test_write(g, mst_test_video_frame(W, H, i * 1000));
    for (int i = 1; i <= 3; i++) {
        CHECK_EQ_INT(mst_test_read_video_info(po).timestamp, i * 1000);
        CHECK_EQ_INT(mst_test_read_video_info(pc).timestamp, i * 1000);
    }

    /* Its own constraints: width 320 on the clone only. */
    MstVideoConstraints narrow = {.struct_size = sizeof(MstVideoConstraints), .width = {.present = MST_CONSTRAIN_EXACT, .exact = 320}};
    CHECK_OK(mst_track_apply_constraints(clone, &narrow));
    MstVideoConstraints got = MST_STRUCT_INIT(MstVideoConstraints);
    CHECK_OK(mst_track_get_constraints(orig, &got));
    CHECK_EQ_INT(got.width.present, 0);
    mst_test_write(g, mst_test_video_frame(W, H, 4000));
    MstVideoFrameInfo io = mst_test_read_video_info(po), ic = mst_test_read_video_info(pc);
    CHECK_EQ_INT(io.visible_rect.width, 640);
    CHECK_EQ_INT(io.visible_rect.height, 360);
    CHECK_EQ_INT(ic.visible_rect.width, 320);
    CHECK(ic.visible_rect.height < 360);
    /* A clone starts with the constraints its original has at clone time. */
    MstTrack *narrow_clone = NULL;
    CHECK_OK(mst_track_clone(clone, &narrow_clone));
    CHECK_OK(mst_track_get_constraints(narrow_clone, &got));
    CHECK_EQ_INT(got.width.present, MST_CONSTRAIN_EXACT);
    CHECK(got.width.exact == 320);
    CHECK_OK(mst_track_free(narrow_clone));

    /* enabled is copied at clone time, then independent. */
    CHECK_OK(mst_track_set_enabled(orig, false));
    MstTrack *disabled_clone = NULL;
    CHECK_OK(mst_track_clone(orig, &disabled_clone));
    CHECK(!enabled(disabled_clone));
    CHECK_OK(mst_track_set_enabled(orig, true));
    CHECK(!enabled(disabled_clone));
    CHECK(enabled(orig));
    MstTrack *enabled_clone = NULL;
    CHECK_OK(mst_track_clone(orig, &enabled_clone));
    CHECK(enabled(enabled_clone));
    CHECK_OK(mst_track_set_enabled(enabled_clone, false));
    CHECK(enabled(orig));
    CHECK_OK(mst_track_free(enabled_clone));
    CHECK_OK(mst_track_free(disabled_clone));

    /* Its own lifetime: stopping the original leaves the clone live and fed. */
    CHECK_OK(mst_track_stop(orig));
    CHECK_EQ_INT(mst_test_ready_state(orig), MST_READY_STATE_ENDED);
    CHECK_EQ_INT(mst_test_ready_state(clone), MST_READY_STATE_LIVE);
    MstWritableState state = MST_WRITABLE_STATE_CLOSED;
    CHECK_OK(mst_generator_get_state(g, &state));
    CHECK_EQ_INT(state, MST_WRITABLE_STATE_WRITABLE);
    mst_test_write(g, mst_test_video_frame(W, H, 5000));
    CHECK_EQ_INT(mst_test_read_video_info(pc).timestamp, 5000);
    MstFrame *f = NULL;
    CHECK_STATUS(mst_processor_read(po, 0, &f), MST_ERR_ENDED);

    /* The clone of an ended track is ended, and its processor too. */
    MstTrack *ended_clone = NULL;
    CHECK_OK(mst_track_clone(orig, &ended_clone));
    CHECK_EQ_INT(mst_test_ready_state(ended_clone), MST_READY_STATE_ENDED);
    const char *id_ended = NULL;
    CHECK_OK(mst_track_get_id(ended_clone, &id_ended));
    CHECK(strcmp(id_ended, id_orig) != 0);
    MstProcessor *pe = NULL;
    CHECK_OK(mst_processor_create(ended_clone, MST_TEST_BUFFER(4), &pe));
    mst_test_write(g, mst_test_video_frame(W, H, 6000));
    CHECK_STATUS(mst_processor_read(pe, 0, &f), MST_ERR_ENDED);
    CHECK_EQ_INT(mst_test_read_video_info(pc).timestamp, 6000);
    CHECK_OK(mst_processor_free(pe));
    CHECK_OK(mst_track_free(ended_clone));

    CHECK_OK(mst_processor_free(po));
    CHECK_OK(mst_processor_free(pc));
    CHECK_OK(mst_track_free(clone));
    CHECK_OK(mst_track_free(orig));
    CHECK_OK(mst_generator_free(g));
    return 0;
}
