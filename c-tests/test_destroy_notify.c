/* A callback registration's destroy-notify runs exactly once, whatever happens to the call:
 * also when it fails on a NULL, freed (stale) or foreign handle (the error is returned and
 * user_data is still released), and when a registration races with the object's free on
 * another thread (every registration's destroy runs once, none is lost, none runs twice). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "common.h"

static atomic_int destroys;

static void count_destroy(void *user_data) {
    atomic_fetch_add((atomic_int *)user_data, 1);
}

static void on_frame(void *user_data, MstFrame *frame) {
    (void)user_data;
    if (frame) mst_frame_free(frame);
}
static void on_ended(void *user_data, MstEndReason reason) {
    (void)user_data;
    (void)reason;
}
static void on_mute(void *user_data, bool muted) {
    (void)user_data;
    (void)muted;
}

/* Each registration with a bad handle returns `want` and runs destroy exactly once, at once. */
static void expect_failed_registrations(MstTrack *track, MstProcessor *processor, MstStatus want, const char *what) {
    int before = atomic_load(&destroys);
    CHECK_STATUS(mst_processor_set_callback(processor, on_frame, &destroys, count_destroy), want);
    CHECK_STATUS(mst_track_set_ended_callback(track, on_ended, &destroys, count_destroy), want);
    CHECK_STATUS(mst_track_set_mute_callback(track, on_mute, &destroys, count_destroy), want);
    if (atomic_load(&destroys) != before + 3) {
        fprintf(stderr, "%s: 3 failed registrations ran destroy %d times\n", what, atomic_load(&destroys) - before);
        exit(1);
    }
}

struct race {
    MstTrack *track;
    MstProcessor *processor;
    atomic_int go;
};

static void *register_all(void *arg) {
    struct race *r = arg;
    while (!atomic_load(&r->go)) {
    }
    /* Any status is fine here (the handle may already be gone): what counts is destroy. */
    (void)mst_processor_set_callback(r->processor, on_frame, &destroys, count_destroy);
    (void)mst_track_set_ended_callback(r->track, on_ended, &destroys, count_destroy);
    (void)mst_track_set_mute_callback(r->track, on_mute, &destroys, count_destroy);
    return NULL;
}

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, NULL, &p));

    /* NULL handles. */
    expect_failed_registrations(NULL, NULL, MST_ERR_NULL_ARG, "NULL handles");

    /* Foreign handles: a processor where a track belongs and the other way round. */
    expect_failed_registrations((MstTrack *)(void *)p, (MstProcessor *)(void *)t, MST_ERR_INVALID_ARG,
                                "foreign handles");

    /* Stale handles: freed ones. */
    MstTrack *stale_t = NULL;
    CHECK_OK(mst_track_clone(t, &stale_t));
    MstProcessor *stale_p = NULL;
    CHECK_OK(mst_processor_create(t, NULL, &stale_p));
    CHECK_OK(mst_track_free(stale_t));
    CHECK_OK(mst_processor_free(stale_p));
    expect_failed_registrations(stale_t, stale_p, MST_ERR_INVALID_STATE, "freed handles");

    /* Successful registrations: destroy runs when replaced, and once more when the object goes. */
    int before = atomic_load(&destroys);
    CHECK_OK(mst_track_set_ended_callback(t, on_ended, &destroys, count_destroy));
    CHECK_OK(mst_track_set_ended_callback(t, on_ended, &destroys, count_destroy));
    CHECK_EQ_INT(atomic_load(&destroys), before + 1);
    CHECK_OK(mst_track_set_mute_callback(t, on_mute, &destroys, count_destroy));
    CHECK_OK(mst_processor_set_callback(p, on_frame, &destroys, count_destroy));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    CHECK_EQ_INT(atomic_load(&destroys), before + 4);

    /* Registrations racing with the free of their objects: 300 rounds, three registrations a
     * round; every registration's destroy runs exactly once by the time everything is freed. */
    for (int round = 0; round < 300; round++) {
        before = atomic_load(&destroys);
        struct race r;
        CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
        CHECK_OK(mst_generator_get_track(g, &r.track));
        CHECK_OK(mst_processor_create(r.track, NULL, &r.processor));
        atomic_init(&r.go, 0);
        pthread_t th;
        CHECK_EQ_INT(pthread_create(&th, NULL, register_all, &r), 0);
        atomic_store(&r.go, 1);
        if (round % 2) mst_test_sleep_ms(0);
        CHECK_OK(mst_processor_free(r.processor));
        CHECK_OK(mst_track_free(r.track));
        CHECK_EQ_INT(pthread_join(th, NULL), 0);
        CHECK_OK(mst_generator_free(g));
        if (atomic_load(&destroys) != before + 3) {
            fprintf(stderr, "round %d: 3 racing registrations ran destroy %d times\n", round,
                    atomic_load(&destroys) - before);
            return 1;
        }
    }
    printf("test_destroy_notify: ok\n");
    return 0;
}
