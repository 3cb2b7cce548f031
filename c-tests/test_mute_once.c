/* The mute callback fires once per change of the track's settled muted value:
 * - every flip of mst_generator_set_muted() calls each track's callback exactly once, with the
 *   new value; setting the current value calls nothing;
 * - a callback that calls mst_generator_set_muted() itself is not re-entered: the change it
 *   makes is reported after it returns, on the same thread; a change it makes and undoes is
 *   not reported at all;
 * - two threads flipping the muted state 1000 times each at once: a track's callbacks never
 *   overlap, never report the same value twice in a row, and the last value reported is the
 *   state that holds at the end. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

enum { MAX_CALLS = 4096, FLIPS = 1000 };

struct mute_log {
    pthread_mutex_t lock;
    bool values[MAX_CALLS];
    int calls;
    atomic_int inside;   /* callbacks of this track running now */
    atomic_int overlaps; /* times a callback started while another was running */
    int destroyed;
    /* Re-entrant cases: what the callback does with the generator when it sees `true`. */
    MstGenerator *generator;
    int reentry;       /* 0: nothing, 1: set_muted(false), 2: set_muted(false) then set_muted(true) */
    bool nested_call;  /* a re-entrant set_muted returned after calling the callback */
};

static void log_init(struct mute_log *log) {
    memset(log, 0, sizeof *log);
    CHECK_EQ_INT(pthread_mutex_init(&log->lock, NULL), 0);
    atomic_init(&log->inside, 0);
    atomic_init(&log->overlaps, 0);
}

static void on_mute(void *user_data, bool muted) {
    struct mute_log *log = user_data;
    if (atomic_fetch_add(&log->inside, 1) != 0) atomic_fetch_add(&log->overlaps, 1);
    CHECK_EQ_INT(pthread_mutex_lock(&log->lock), 0);
    if (log->calls < MAX_CALLS) log->values[log->calls] = muted;
    log->calls++;
    int calls_before = log->calls;
    CHECK_EQ_INT(pthread_mutex_unlock(&log->lock), 0);
    if (muted && log->reentry > 0) {
        CHECK_OK(mst_generator_set_muted(log->generator, false));
        if (log->reentry == 2) CHECK_OK(mst_generator_set_muted(log->generator, true));
        /* The change is reported after this callback returns, not from inside those calls. */
        CHECK_EQ_INT(pthread_mutex_lock(&log->lock), 0);
        if (log->calls != calls_before) log->nested_call = true;
        CHECK_EQ_INT(pthread_mutex_unlock(&log->lock), 0);
    }
    atomic_fetch_sub(&log->inside, 1);
}

static void on_destroy(void *user_data) {
    struct mute_log *log = user_data;
    log->destroyed++;
}

/* The log holds exactly `n` calls with `want`'s values. */
static void expect_values(struct mute_log *log, const bool *want, int n, const char *what) {
    if (log->calls != n || memcmp(log->values, want, (size_t)n * sizeof *want) != 0) {
        fprintf(stderr, "%s: %d mute callbacks (", what, log->calls);
        for (int i = 0; i < log->calls && i < MAX_CALLS; i++) fprintf(stderr, "%s%d", i ? ", " : "", log->values[i]);
        fprintf(stderr, "), expected %d\n", n);
        exit(1);
    }
}

static bool muted_now(const MstGenerator *g) {
    bool m = false;
    CHECK_OK(mst_generator_get_muted(g, &m));
    return m;
}

static void each_flip_fires_once(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL, *c = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_OK(mst_track_clone(t, &c));
    struct mute_log lt, lc;
    log_init(&lt);
    log_init(&lc);
    CHECK_OK(mst_track_set_mute_callback(t, on_mute, &lt, on_destroy));
    CHECK_OK(mst_track_set_mute_callback(c, on_mute, &lc, on_destroy));

    bool want[64];
    int n = 0;
    for (int i = 0; i < 64; i++) {
        bool value = i % 2 == 0; /* false -> true first: the flip that fired twice once */
        CHECK_OK(mst_generator_set_muted(g, value));
        want[n++] = value;
        expect_values(&lt, want, n, "a flip, own track");
        expect_values(&lc, want, n, "a flip, clone");
        CHECK_OK(mst_generator_set_muted(g, value)); /* the same value again: nothing */
        expect_values(&lt, want, n, "a repeated value, own track");
        expect_values(&lc, want, n, "a repeated value, clone");
    }
    CHECK_EQ_INT(atomic_load(&lt.overlaps), 0);

    CHECK_OK(mst_track_free(c));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    CHECK_EQ_INT(lt.destroyed, 1);
    CHECK_EQ_INT(lc.destroyed, 1);
    CHECK_EQ_INT(pthread_mutex_destroy(&lt.lock), 0);
    CHECK_EQ_INT(pthread_mutex_destroy(&lc.lock), 0);
}

static void reentrant_changes_wait_for_the_callback(void) {
    for (int reentry = 1; reentry <= 2; reentry++) {
        MstGenerator *g = NULL;
        CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
        MstTrack *t = NULL;
        CHECK_OK(mst_generator_get_track(g, &t));
        struct mute_log log;
        log_init(&log);
        log.generator = g;
        log.reentry = reentry;
        CHECK_OK(mst_track_set_mute_callback(t, on_mute, &log, on_destroy));

        CHECK_OK(mst_generator_set_muted(g, true));
        if (reentry == 1) {
            /* true, then (after the first call returned) false: the state that holds. */
            const bool want[] = {true, false};
            expect_values(&log, want, 2, "a callback that unmutes");
            CHECK(!muted_now(g));
        } else {
            /* Unmuted and muted again inside: the settled value is the one reported. */
            const bool want[] = {true};
            expect_values(&log, want, 1, "a callback that unmutes and mutes again");
            CHECK(muted_now(g));
        }
        CHECK(!log.nested_call);
        CHECK_EQ_INT(atomic_load(&log.overlaps), 0);
        bool track_muted = !muted_now(g);
        CHECK_OK(mst_track_get_muted(t, &track_muted));
        CHECK(track_muted == muted_now(g));

        CHECK_OK(mst_track_free(t));
        CHECK_OK(mst_generator_free(g));
        CHECK_EQ_INT(log.destroyed, 1);
        CHECK_EQ_INT(pthread_mutex_destroy(&log.lock), 0);
    }
}

struct flipper {
    MstGenerator *g;
    int first; /* 0 or 1: the value of this thread's first flip */
    atomic_int *go;
};

static void *flip(void *arg) {
    struct flipper *f = arg;
    while (!atomic_load(f->go)) {
    }
    for (int i = 0; i < FLIPS; i++) CHECK_OK(mst_generator_set_muted(f->g, (i + f->first) % 2 == 1));
    return NULL;
}

static void concurrent_flips_are_serialized(void) {
    for (int round = 0; round < 5; round++) {
        MstGenerator *g = NULL;
        CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
        MstTrack *t = NULL, *c = NULL;
        CHECK_OK(mst_generator_get_track(g, &t));
        CHECK_OK(mst_track_clone(t, &c));
        struct mute_log logs[2];
        MstTrack *tracks[2] = {t, c};
        for (int i = 0; i < 2; i++) {
            log_init(&logs[i]);
            CHECK_OK(mst_track_set_mute_callback(tracks[i], on_mute, &logs[i], on_destroy));
        }

        atomic_int go;
        atomic_init(&go, 0);
        struct flipper f[2] = {{g, 1, &go}, {g, round % 2, &go}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++) CHECK_EQ_INT(pthread_create(&th[i], NULL, flip, &f[i]), 0);
        atomic_store(&go, 1);
        for (int i = 0; i < 2; i++) CHECK_EQ_INT(pthread_join(th[i], NULL), 0);

        bool final = muted_now(g);
        for (int i = 0; i < 2; i++) {
            struct mute_log *log = &logs[i];
            if (atomic_load(&log->overlaps) != 0)
                MST_TEST_FAIL_("round %d, track %d: %d mute callbacks overlapped another", round, i,
                               atomic_load(&log->overlaps));
            CHECK(log->calls <= MAX_CALLS);
            bool last = false; /* the state the track started with */
            for (int k = 0; k < log->calls; k++) {
                if (log->values[k] == last)
                    MST_TEST_FAIL_("round %d, track %d: call %d reports %d, as the one before it did", round, i, k,
                                   log->values[k]);
                last = log->values[k];
            }
            if (last != final)
                MST_TEST_FAIL_("round %d, track %d: the last report (%d, of %d calls) is not the final state %d",
                               round, i, last, log->calls, final);
            bool track_muted = !final;
            CHECK_OK(mst_track_get_muted(tracks[i], &track_muted));
            CHECK(track_muted == final);
        }

        CHECK_OK(mst_track_free(c));
        CHECK_OK(mst_track_free(t));
        CHECK_OK(mst_generator_free(g));
        for (int i = 0; i < 2; i++) {
            CHECK_EQ_INT(logs[i].destroyed, 1);
            CHECK_EQ_INT(pthread_mutex_destroy(&logs[i].lock), 0);
        }
    }
}

int main(void) {
    each_flip_fires_once();
    reentrant_changes_wait_for_the_callback();
    concurrent_flips_are_serialized();
    printf("test_mute_once: ok\n");
    return 0;
}
