/* MediaStreamTrackGenerator constructor (spec 2.2.2): kind "audio" or "video" gives a
 * generator that is itself a track of that kind (live, enabled, not muted, writable open);
 * any other kind is a TypeError and nothing is returned. */
#include <stdint.h>
#include <string.h>

#include "common.h"

static void check_kind(int32_t kind) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(kind, &g));
    CHECK(g != NULL);

    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK(t != NULL);
    MstKind k = 0;
    CHECK_OK(mst_track_get_kind(t, &k));
    CHECK_EQ_INT(k, kind);
    MstReadyState state = 0;
    CHECK_OK(mst_track_get_ready_state(t, &state));
    CHECK_EQ_INT(state, MST_READY_STATE_LIVE);
    MstEndReason reason = -1;
    CHECK_OK(mst_track_get_end_reason(t, &reason));
    CHECK_EQ_INT(reason, MST_END_REASON_NONE);
    bool enabled = false, muted = true, generator_muted = true;
    MstWritableState writable = MST_WRITABLE_STATE_CLOSED;
    CHECK_OK(mst_track_get_enabled(t, &enabled));
    CHECK(enabled);
    CHECK_OK(mst_track_get_muted(t, &muted));
    CHECK(!muted);
    CHECK_OK(mst_generator_get_state(g, &writable));
    CHECK_EQ_INT(writable, MST_WRITABLE_STATE_WRITABLE);
    CHECK_OK(mst_generator_get_muted(g, &generator_muted));
    CHECK(!generator_muted);
    const char *id = NULL;
    CHECK_OK(mst_track_get_id(t, &id));
    CHECK(id != NULL && strlen(id) > 0);

    /* Every handle from mst_generator_get_track() is the generator's own track (the same id). */
    MstTrack *again = NULL;
    CHECK_OK(mst_generator_get_track(g, &again));
    const char *id2 = NULL;
    CHECK_OK(mst_track_get_id(again, &id2));
    CHECK(strcmp(id, id2) == 0);
    CHECK_OK(mst_track_free(again));

    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

int main(void) {
    check_kind(MST_KIND_VIDEO);
    check_kind(MST_KIND_AUDIO);

    /* Two generators are two independent tracks. */
    MstGenerator *a = NULL, *b = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &a));
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &b));
    CHECK(a != b);
    MstTrack *ta = NULL, *tb = NULL;
    CHECK_OK(mst_generator_get_track(a, &ta));
    CHECK_OK(mst_generator_get_track(b, &tb));
    const char *ida = NULL, *idb = NULL;
    CHECK_OK(mst_track_get_id(ta, &ida));
    CHECK_OK(mst_track_get_id(tb, &idb));
    CHECK(strcmp(ida, idb) != 0);
    CHECK_OK(mst_track_free(ta));
    CHECK_OK(mst_track_free(tb));
    CHECK_OK(mst_generator_free(a));
    CHECK_OK(mst_generator_free(b));

    /* Step 1: a kind that is neither "audio" nor "video" is a TypeError; *out untouched. */
    int sentinel_storage = 0;
    MstGenerator *const sentinel = (MstGenerator *)(void *)&sentinel_storage;
    const int32_t bad_kinds[] = {0, 3, -1, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_kinds / sizeof bad_kinds[0]; i++) {
        MstGenerator *out = sentinel;
        CHECK_STATUS(mst_generator_create(bad_kinds[i], &out), MST_ERR_TYPE);
        CHECK(out == sentinel);
        CHECK(strlen(mst_last_error_message()) > 0);
    }

    CHECK_STATUS(mst_generator_create(MST_KIND_VIDEO, NULL), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_generator_create(MST_KIND_AUDIO, NULL), MST_ERR_NULL_ARG);
    return 0;
}
