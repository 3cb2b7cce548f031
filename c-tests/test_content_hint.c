/* MediaStreamTrack.contentHint: "" by default; video tracks take "motion", "detail" and
 * "text", audio tracks "speech", "speech-recognition" and "music", and both take "" back.
 * Any other value (another kind's hint, a wrong case, garbage, bytes that are not UTF-8, NULL)
 * is refused with MST_ERR_INVALID_ARG naming it (NULL: MST_ERR_NULL_ARG) and changes nothing.
 * clone() copies the hint; after that each track has its own. The string returned is static:
 * it stays valid after the hint changes and after the track is freed. */
#include <stdio.h>
#include <string.h>

#include "common.h"

static const char *hint(const MstTrack *t) {
    const char *h = NULL;
    CHECK_OK(mst_track_get_content_hint(t, &h));
    CHECK(h != NULL);
    return h;
}

static void check_kind(int32_t kind, const char *const *valid, size_t n_valid, const char *const *invalid,
                       size_t n_invalid) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(kind, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK(strcmp(hint(t), "") == 0);
    for (size_t i = 0; i < n_valid; i++) {
        CHECK_OK(mst_track_set_content_hint(t, valid[i]));
        CHECK(strcmp(hint(t), valid[i]) == 0);
    }
    const char *last = valid[n_valid - 1];
    for (size_t i = 0; i < n_invalid; i++) {
        CHECK_STATUS(mst_track_set_content_hint(t, invalid[i]), MST_ERR_INVALID_ARG);
        CHECK(strstr(mst_last_error_message(), invalid[i]) != NULL);
        CHECK(strcmp(hint(t), last) == 0);
    }
    CHECK_STATUS(mst_track_set_content_hint(t, NULL), MST_ERR_NULL_ARG);
    CHECK(strcmp(hint(t), last) == 0);
    CHECK_STATUS(mst_track_set_content_hint(t, "mot\xffion"), MST_ERR_INVALID_ARG);
    CHECK(strstr(mst_last_error_message(), "UTF-8") != NULL);
    CHECK(strstr(mst_last_error_message(), "mot\\xffion") != NULL);
    CHECK(strcmp(hint(t), last) == 0);
    CHECK_STATUS(mst_track_set_content_hint(NULL, valid[0]), MST_ERR_NULL_ARG);
    CHECK_STATUS(mst_track_get_content_hint(t, NULL), MST_ERR_NULL_ARG);
    const char *kept = hint(t);

    MstTrack *c = NULL;
    CHECK_OK(mst_track_clone(t, &c));
    CHECK(strcmp(hint(c), last) == 0);
    CHECK_OK(mst_track_set_content_hint(c, ""));
    CHECK(strcmp(hint(c), "") == 0);
    CHECK(strcmp(hint(t), last) == 0);

    CHECK_OK(mst_track_free(c));
    CHECK_OK(mst_track_free(t));
    CHECK(strcmp(kept, last) == 0);
    const char *out = kept;
    CHECK_STATUS(mst_track_get_content_hint(t, &out), MST_ERR_INVALID_STATE);
    CHECK_STATUS(mst_track_set_content_hint(t, ""), MST_ERR_INVALID_STATE);
    CHECK(out == kept);
    CHECK_OK(mst_generator_free(g));
}

int main(void) {
    const char *video_valid[] = {"motion", "detail", "text", "", "detail"};
    const char *video_invalid[] = {"speech", "music", "speech-recognition", "Motion", "motion ", "bogus"};
    const char *audio_valid[] = {"speech", "speech-recognition", "music", "", "music"};
    const char *audio_invalid[] = {"motion", "detail", "text", "Speech", "musics", "bogus"};
    check_kind(MST_KIND_VIDEO, video_valid, 5, video_invalid, 6);
    check_kind(MST_KIND_AUDIO, audio_valid, 5, audio_invalid, 6);
    printf("test_content_hint: ok\n");
    return 0;
}
