/* The race program (issue 14, part 3): THREADS worker threads for SECONDS seconds pick, at
 * random from a logged seed, operations on a shared set of slots, each slot a source (a
 * generator, the test pattern, the tone, a fake camera or microphone with scripted faults)
 * with its tracks and processors: clone, stop, set_enabled, apply_constraints, processor
 * create, read (blocking with a timeout, fd + poll, callback), wakeup, close, free, generator
 * write (copied and wrapped frames), writable close, set_muted, fault injection and track
 * free, all racing each other on the same handles.
 *
 * It checks, for every processor when it is retired (closed, its readers gone):
 *   total = delivered + discarded_queue_full + discarded_superseded + discarded_closed + queued,
 *   discarded = the sum of every discarded_* counter, queued = 0 and ended,
 *   delivered = the frames its readers (or its callback) got,
 *   a read after the close returns MST_ERR_ENDED;
 * and at the end that every wrapped frame's release callback ran exactly once. A status no
 * call may return (MST_ERR_PANIC anywhere, an error where the call must succeed) is a finding.
 * A watchdog fails the run when a thread makes no progress for --stall-seconds (30): it
 * prints every thread's stack with gdb when gdb is there, then aborts.
 *
 *   stress [--threads N] [--seconds S] [--seed X] [--stall-seconds S] [--miscount yes]
 *
 * Exit status 0: no finding; 1: findings (each printed); abort: a deadlock. The run's figures
 * (seed, operations per kind, processors checked) go to stdout. The interleaving depends on
 * the scheduler, so the seed reproduces the choices each thread makes, not the run. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mst.h"

/* ---- Operation kinds and their counters -------------------------------------------------- */

enum op {
    OP_CREATE_GENERATOR_VIDEO,
    OP_CREATE_GENERATOR_AUDIO,
    OP_CREATE_TEST_PATTERN,
    OP_CREATE_TONE,
    OP_CREATE_FAKE_CAMERA,
    OP_CREATE_FAKE_MICROPHONE,
    OP_DESTROY_SLOT,
    OP_CLONE,
    OP_STOP,
    OP_SET_ENABLED,
    OP_APPLY_CONSTRAINTS,
    OP_PROCESSOR_CREATE,
    OP_READ_BLOCKING,
    OP_READ_FD_POLL,
    OP_CALLBACK_FRAME,
    OP_WAKEUP,
    OP_PROCESSOR_CLOSE,
    OP_PROCESSOR_RETIRE,
    OP_TRACK_FREE,
    OP_WRITE,
    OP_WRITE_WRAPPED,
    OP_WRITABLE_CLOSE,
    OP_SET_MUTED,
    OP_FRAME_CLONE,
    OP_FAULT_INJECT,
    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "create generator (video)", "create generator (audio)", "create test pattern",
    "create tone", "create fake camera", "create fake microphone", "destroy slot (free all)", "track clone", "track stop",
    "track set_enabled", "track apply_constraints", "processor create",
    "read (blocking, timeout)", "read (fd + poll)", "frame via callback", "processor wakeup",
    "processor close", "processor retire (check + free)", "track free", "generator write",
    "generator write (wrapped)", "writable close", "generator set_muted",
    "frame clone/close/free", "fake device fault inject",
};

static atomic_ullong op_counts[OP_COUNT];
static atomic_ullong frames_read;
static atomic_ullong processors_checked;
static atomic_ullong findings;
static atomic_llong wraps_made;
static atomic_llong wraps_released;
static atomic_bool stopping;
/* --miscount: the first frame a reader gets goes uncounted, so the delivered check must fire
 * (the stress_catches test runs this and expects the run to fail). */
static atomic_bool miscount;

/* Counts a frame a reader or callback got. */
static void count_got(atomic_ullong *got) {
    atomic_fetch_add_explicit(&frames_read, 1, memory_order_relaxed);
    if (atomic_load(&miscount) && atomic_exchange(&miscount, false)) return;
    atomic_fetch_add(got, 1);
}

static void count(enum op op) { atomic_fetch_add_explicit(&op_counts[op], 1, memory_order_relaxed); }

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

/* A finding: printed with the library's last error on this thread, counted; the run goes on. */
#define FINDING(...)                                                                               \
    do {                                                                                           \
        pthread_mutex_lock(&report_lock);                                                          \
        fprintf(stderr, "FINDING %s:%d: ", __FILE__, __LINE__);                                    \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        pthread_mutex_unlock(&report_lock);                                                        \
        atomic_fetch_add(&findings, 1);                                                            \
    } while (0)

/* The call returns MST_OK (EXPECT_OK) or MST_OK or `alt` (EXPECT_OR). */
#define EXPECT_OR(expr, alt)                                                                       \
    do {                                                                                           \
        MstStatus expect_s_ = (expr);                                                              \
        if (expect_s_ != MST_OK && expect_s_ != (alt))                                             \
            FINDING("%s returned %s: %s", #expr, mst_status_str(expect_s_),                        \
                    mst_last_error_message());                                                     \
    } while (0)
#define EXPECT_OK(expr) EXPECT_OR(expr, MST_OK)

static bool status_in(MstStatus s, const MstStatus *allowed, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s == allowed[i]) return true;
    return false;
}

/* ---- Random numbers (splitmix64, one state per thread) ----------------------------------- */

static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint32_t below(uint64_t *state, uint32_t n) { return (uint32_t)(next_random(state) % n); }

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- Slots ------------------------------------------------------------------------------- */

enum read_mode { MODE_READ, MODE_FD, MODE_CALLBACK };

/* What a processor's readers got. Owned by the slot while the processor is in it; the thread
 * that retires it owns it afterwards, except that a callback processor's thread holds it until
 * its destroy notify has run. */
struct proc_ctx {
    atomic_ullong got;
    atomic_bool end_seen;  /* the callback got its NULL */
    atomic_bool destroyed; /* the destroy notify ran */
    atomic_int end_calls;  /* NULL callbacks: exactly one */
    MstKind kind;
    int source; /* an enum source */
};

struct proc {
    MstProcessor *handle; /* NULL = empty */
    enum read_mode mode;
    struct proc_ctx *ctx;
};

enum source {
    SRC_NONE,
    SRC_GENERATOR_VIDEO,
    SRC_GENERATOR_AUDIO,
    SRC_TEST_PATTERN,
    SRC_TONE,
    SRC_FAKE_CAMERA,
    SRC_FAKE_MICROPHONE,
    SRC_KINDS
};

#define MAX_TRACKS 4
#define MAX_PROCS 4

/* Handles in a slot are used under its read lock (so they stay in the slot meanwhile) and
 * added or taken out under its write lock; every blocking call under the read lock has a
 * finite timeout, so a writer never waits for long. */
struct slot {
    pthread_rwlock_t lock;
    enum source source;
    MstKind kind;
    MstGenerator *generator;
    MstFakeDevice *fake;
    MstTrack *tracks[MAX_TRACKS];
    struct proc procs[MAX_PROCS];
    atomic_llong next_timestamp;
    atomic_uint frame_size; /* generator video: 0 or 1, the size of the frames written now */
};

static const char *const source_names[SRC_KINDS] = {
    "none", "video generator", "audio generator", "test pattern", "tone", "fake camera", "fake microphone",
};

static struct slot *slots;
static uint32_t num_slots;

/* ---- Processor retirement: the invariant checks ------------------------------------------ */

static void callback_frame(void *user_data, MstFrame *frame) {
    struct proc_ctx *ctx = user_data;
    if (frame == NULL) {
        if (atomic_fetch_add(&ctx->end_calls, 1) != 0) FINDING("a processor callback got NULL twice");
        atomic_store(&ctx->end_seen, true);
        return;
    }
    count_got(&ctx->got);
    count(OP_CALLBACK_FRAME);
    MstKind kind = 0;
    EXPECT_OK(mst_frame_get_kind(frame, &kind));
    if (kind != ctx->kind) FINDING("a callback got a frame of kind %d from a track of kind %d", (int)kind, (int)ctx->kind);
    EXPECT_OK(mst_frame_free(frame));
}

static void callback_destroy(void *user_data) {
    struct proc_ctx *ctx = user_data;
    atomic_store(&ctx->destroyed, true);
}

static volatile int64_t *progress; /* per thread: now_ms() of its last step; [threads] = main */

static void made_progress(int thread) { __atomic_store_n(&progress[thread], now_ms(), __ATOMIC_RELAXED); }

/* Closes the processor (already out of its slot, so no thread of this program reads it any
 * more), waits for its callback thread to finish, checks the counters and frees it. */
static void retire(int thread, struct proc p) {
    EXPECT_OK(mst_processor_close(p.handle));
    if (p.mode == MODE_CALLBACK) {
        /* No deadline here: the watchdog reports a callback thread that never ends. */
        while (!atomic_load(&p.ctx->destroyed)) sleep_ms(1);
        if (!atomic_load(&p.ctx->end_seen)) FINDING("a processor's callback thread ended without its NULL call");
    } else {
        MstFrame *frame = NULL;
        MstStatus s = mst_processor_read(p.handle, 0, &frame);
        if (s != MST_ERR_ENDED) {
            FINDING("a read after mst_processor_close returned %s, not MST_ERR_ENDED", mst_status_str(s));
            if (s == MST_OK) mst_frame_free(frame);
        }
    }
    MstProcessorStats st = {.struct_size = sizeof st};
    MstStatus s = mst_processor_get_stats(p.handle, &st);
    if (s != MST_OK) {
        FINDING("mst_processor_get_stats returned %s: %s", mst_status_str(s), mst_last_error_message());
    } else {
        uint64_t got = atomic_load(&p.ctx->got);
        uint64_t in_queue = st.discarded_queue_full + st.discarded_superseded + st.discarded_closed;
        uint64_t all = in_queue + st.discarded_muted + st.discarded_disabled + st.discarded_decimated +
                       st.discarded_failed;
        if (st.total != st.delivered + in_queue + st.queued) {
            /* Whether the counters still move after the close (a late count) or stay off (a
             * frame lost uncounted) tells two different defects apart. */
            sleep_ms(200);
            MstProcessorStats later = {.struct_size = sizeof later};
            EXPECT_OK(mst_processor_get_stats(p.handle, &later));
            uint64_t later_in_queue =
                later.discarded_queue_full + later.discarded_superseded + later.discarded_closed;
            FINDING("processor (mode %d, %s): total %" PRIu64 " != delivered %" PRIu64 " + discarded in the queue %" PRIu64
                    " (full %" PRIu64 ", superseded %" PRIu64 ", closed %" PRIu64 ") + queued %" PRIu64
                    "; 200 ms later: total %" PRIu64 ", delivered %" PRIu64 ", in the queue %" PRIu64 ", queued %" PRIu64,
                    (int)p.mode, source_names[p.ctx->source], st.total, st.delivered, in_queue,
                    st.discarded_queue_full, st.discarded_superseded, st.discarded_closed, st.queued,
                    later.total, later.delivered, later_in_queue, later.queued);
        }
        if (st.delivered != got)
            FINDING("processor (mode %d): delivered %" PRIu64 " but its readers got %" PRIu64, (int)p.mode,
                    st.delivered, got);
        if (st.discarded != all)
            FINDING("processor: discarded %" PRIu64 " != the sum of the discarded_* counters %" PRIu64,
                    st.discarded, all);
        if (st.queued != 0 || !st.ended || st.pending_reads != 0)
            FINDING("closed processor: queued %" PRIu64 ", ended %d, pending_reads %u", st.queued, (int)st.ended,
                    st.pending_reads);
    }
    EXPECT_OK(mst_processor_free(p.handle));
    free(p.ctx);
    atomic_fetch_add(&processors_checked, 1);
    count(OP_PROCESSOR_RETIRE);
    made_progress(thread);
}

/* Empties the slot under its write lock and then, outside it, retires its processors and
 * frees its tracks and generator in a random order. */
static void destroy_slot(int thread, struct slot *slot, uint64_t *rng) {
    pthread_rwlock_wrlock(&slot->lock);
    if (slot->source == SRC_NONE) {
        pthread_rwlock_unlock(&slot->lock);
        return;
    }
    MstGenerator *generator = slot->generator;
    MstFakeDevice *fake = slot->fake;
    MstTrack *tracks[MAX_TRACKS];
    struct proc procs[MAX_PROCS];
    memcpy(tracks, slot->tracks, sizeof tracks);
    memcpy(procs, slot->procs, sizeof procs);
    memset(slot->tracks, 0, sizeof slot->tracks);
    memset(slot->procs, 0, sizeof slot->procs);
    slot->generator = NULL;
    slot->fake = NULL;
    slot->source = SRC_NONE;
    pthread_rwlock_unlock(&slot->lock);

    /* 0: the source goes first (the tracks end under their processors), 1: the track handles
     * first (the processors keep the tracks alive), 2: the processors first. */
    uint32_t order = below(rng, 3);
    if (order == 0) EXPECT_OK(mst_generator_free(generator));
    if (order == 0) EXPECT_OK(mst_fake_device_free(fake));
    for (int i = 0; i < MAX_TRACKS && order == 1; i++) EXPECT_OK(mst_track_free(tracks[i]));
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].handle) retire(thread, procs[i]);
    if (order != 1)
        for (int i = 0; i < MAX_TRACKS; i++) EXPECT_OK(mst_track_free(tracks[i]));
    if (order != 0) EXPECT_OK(mst_generator_free(generator));
    if (order != 0) EXPECT_OK(mst_fake_device_free(fake));
    count(OP_DESTROY_SLOT);
}

/* ---- Operations -------------------------------------------------------------------------- */

/* A random fault for a fake camera or microphone, hitting its next frame (at = 0). Faults that
 * end the tracks (unplug, a fatal read error) are rarer than the ones they survive. */
static MstFault random_fault(bool camera, uint64_t *rng) {
    MstFault f = MST_STRUCT_INIT(MstFault);
    switch (below(rng, 12)) {
    case 0:
        f.kind = MST_FAULT_UNPLUG;
        break;
    case 1:
        f.kind = MST_FAULT_READ_ERROR;
        f.value = camera ? (below(rng, 2) ? EIO : EBUSY) : (below(rng, 2) ? EPIPE : ENODEV);
        break;
    case 2:
    case 3:
        f.kind = MST_FAULT_OVERRUN;
        f.value = 1 + below(rng, 5);
        break;
    case 4:
    case 5:
        f.kind = MST_FAULT_STALL;
        f.value = below(rng, 20000);
        break;
    case 6:
    case 7:
        f.kind = MST_FAULT_TIMESTAMP_JUMP;
        f.value = (int64_t)below(rng, 2000000) - 1000000;
        break;
    default:
        f.kind = MST_FAULT_FORMAT_CHANGE;
        if (camera) {
            f.width = 16 + 16 * below(rng, 4);
            f.height = 16 + 8 * below(rng, 4);
        } else {
            f.sample_rate = below(rng, 2) ? 16000 : 48000;
            f.channels = 1 + below(rng, 2);
        }
        break;
    }
    return f;
}

/* A fake camera or microphone with a random pacing and up to three scripted faults, opened
 * as a real device is. */
static MstStatus create_fake(bool camera, uint64_t *rng, MstFakeDevice **fake, MstTrack **track) {
    static atomic_uint serial;
    char name[32];
    snprintf(name, sizeof name, "stress%u", atomic_fetch_add(&serial, 1));
    MstFault faults[3];
    size_t num_faults = below(rng, 4);
    for (size_t i = 0; i < num_faults; i++) {
        faults[i] = random_fault(camera, rng);
        faults[i].at = 1 + below(rng, 300);
    }
    MstFakeDeviceInit init = MST_STRUCT_INIT(MstFakeDeviceInit);
    init.kind = camera ? MST_DEVICE_KIND_VIDEO_INPUT : MST_DEVICE_KIND_AUDIO_INPUT;
    init.name = name;
    init.width = 32 + 16 * below(rng, 4);
    init.height = 24 + 8 * below(rng, 4);
    init.pacing = (MstFakePacing)below(rng, 3);
    init.frame_rate = 30 + below(rng, 270);
    init.frame_count = below(rng, 2) ? 0 : 1 + below(rng, 2000);
    init.faults = num_faults ? faults : NULL;
    init.num_faults = num_faults;
    MstStatus s = mst_fake_device_add(&init, fake);
    if (s != MST_OK) return s;
    const char *id = NULL;
    s = mst_fake_device_get_id(*fake, &id);
    if (s != MST_OK) return s;
    return camera ? mst_track_create_camera(id, NULL, NULL, track) : mst_track_create_microphone(id, NULL, track);
}

static void create_source(struct slot *slot, uint64_t *rng) {
    enum source source = (enum source)(1 + below(rng, SRC_KINDS - 1));
    MstGenerator *generator = NULL;
    MstFakeDevice *fake = NULL;
    MstTrack *track = NULL;
    MstKind kind = MST_KIND_VIDEO;
    MstStatus s;
    switch (source) {
    case SRC_GENERATOR_VIDEO:
    case SRC_GENERATOR_AUDIO:
        kind = source == SRC_GENERATOR_VIDEO ? MST_KIND_VIDEO : MST_KIND_AUDIO;
        s = mst_generator_create(kind, &generator);
        if (s == MST_OK) s = mst_generator_get_track(generator, &track);
        count(source == SRC_GENERATOR_VIDEO ? OP_CREATE_GENERATOR_VIDEO : OP_CREATE_GENERATOR_AUDIO);
        break;
    case SRC_TEST_PATTERN: {
        MstTestPatternOptions o = MST_STRUCT_INIT(MstTestPatternOptions);
        o.width = 32 + 16 * below(rng, 4);
        o.height = 24 + 8 * below(rng, 4);
        o.frame_rate = 30 + below(rng, 270);
        o.unpaced = below(rng, 4) == 0;
        o.frame_count = below(rng, 2) ? 0 : 1 + below(rng, 2000);
        s = mst_track_create_test_pattern(&o, &track);
        count(OP_CREATE_TEST_PATTERN);
        break;
    }
    case SRC_FAKE_CAMERA:
    case SRC_FAKE_MICROPHONE:
        kind = source == SRC_FAKE_CAMERA ? MST_KIND_VIDEO : MST_KIND_AUDIO;
        s = create_fake(source == SRC_FAKE_CAMERA, rng, &fake, &track);
        count(source == SRC_FAKE_CAMERA ? OP_CREATE_FAKE_CAMERA : OP_CREATE_FAKE_MICROPHONE);
        break;
    default: {
        MstToneOptions o = MST_STRUCT_INIT(MstToneOptions);
        o.channels = 1 + below(rng, 2);
        o.chunk_frames = 48 * (1 + below(rng, 10));
        o.unpaced = below(rng, 4) == 0;
        o.chunk_count = below(rng, 2) ? 0 : 1 + below(rng, 2000);
        s = mst_track_create_tone(&o, &track);
        kind = MST_KIND_AUDIO;
        source = SRC_TONE;
        count(OP_CREATE_TONE);
        break;
    }
    }
    if (s != MST_OK) {
        FINDING("creating source %d failed: %s: %s", (int)source, mst_status_str(s), mst_last_error_message());
        mst_track_free(track);
        mst_generator_free(generator);
        mst_fake_device_free(fake);
        return;
    }
    pthread_rwlock_wrlock(&slot->lock);
    if (slot->source == SRC_NONE) {
        slot->source = source;
        slot->kind = kind;
        slot->generator = generator;
        slot->fake = fake;
        slot->tracks[0] = track;
        atomic_store(&slot->frame_size, 0);
        generator = NULL;
        fake = NULL;
        track = NULL;
    }
    pthread_rwlock_unlock(&slot->lock);
    /* Another thread filled the slot first. */
    EXPECT_OK(mst_track_free(track));
    EXPECT_OK(mst_generator_free(generator));
    EXPECT_OK(mst_fake_device_free(fake));
}

/* A random non-empty track of the slot, or NULL; under its lock. */
static MstTrack *some_track(struct slot *slot, uint64_t *rng) {
    uint32_t start = below(rng, MAX_TRACKS);
    for (uint32_t i = 0; i < MAX_TRACKS; i++)
        if (slot->tracks[(start + i) % MAX_TRACKS]) return slot->tracks[(start + i) % MAX_TRACKS];
    return NULL;
}

/* A random processor of the slot in one of the modes in `modes` (a bit mask), or NULL. */
static struct proc *some_proc(struct slot *slot, uint64_t *rng, unsigned modes) {
    uint32_t start = below(rng, MAX_PROCS);
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        struct proc *p = &slot->procs[(start + i) % MAX_PROCS];
        if (p->handle && (modes & (1u << p->mode))) return p;
    }
    return NULL;
}

static void clone_track(struct slot *slot, uint64_t *rng) {
    pthread_rwlock_wrlock(&slot->lock);
    MstTrack *track = some_track(slot, rng);
    for (int i = 0; track && i < MAX_TRACKS; i++) {
        if (slot->tracks[i]) continue;
        EXPECT_OK(mst_track_clone(track, &slot->tracks[i]));
        count(OP_CLONE);
        break;
    }
    pthread_rwlock_unlock(&slot->lock);
}

static void free_track(struct slot *slot, uint64_t *rng) {
    pthread_rwlock_wrlock(&slot->lock);
    uint32_t i = below(rng, MAX_TRACKS);
    MstTrack *track = slot->tracks[i];
    slot->tracks[i] = NULL;
    pthread_rwlock_unlock(&slot->lock);
    if (!track) return;
    EXPECT_OK(mst_track_free(track));
    count(OP_TRACK_FREE);
}

static void create_processor(struct slot *slot, uint64_t *rng) {
    struct proc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) abort();
    MstProcessorOptions o = MST_STRUCT_INIT(MstProcessorOptions);
    o.max_buffer_size = below(rng, 6);
    o.flags = below(rng, 4) == 0 ? MST_PROCESSOR_LATEST_ONLY : 0;
    enum read_mode mode = (enum read_mode)below(rng, 3);
    bool placed = false;
    pthread_rwlock_wrlock(&slot->lock);
    MstTrack *track = some_track(slot, rng);
    for (int i = 0; track && i < MAX_PROCS; i++) {
        struct proc *p = &slot->procs[i];
        if (p->handle) continue;
        MstStatus s = mst_processor_create(track, &o, &p->handle);
        if (s != MST_OK) {
            FINDING("mst_processor_create returned %s: %s", mst_status_str(s), mst_last_error_message());
            p->handle = NULL;
            break;
        }
        ctx->kind = slot->kind;
        ctx->source = (int)slot->source;
        p->mode = mode;
        p->ctx = ctx;
        if (mode == MODE_CALLBACK) EXPECT_OK(mst_processor_set_callback(p->handle, callback_frame, ctx, callback_destroy));
        placed = true;
        count(OP_PROCESSOR_CREATE);
        break;
    }
    pthread_rwlock_unlock(&slot->lock);
    if (!placed) free(ctx);
}

/* Takes a processor out of the slot and retires it. */
static void retire_processor(int thread, struct slot *slot, uint64_t *rng) {
    pthread_rwlock_wrlock(&slot->lock);
    struct proc *p = some_proc(slot, rng, 7);
    struct proc taken = {0};
    if (p) {
        taken = *p;
        memset(p, 0, sizeof *p);
    }
    pthread_rwlock_unlock(&slot->lock);
    if (taken.handle) retire(thread, taken);
}

/* What a reader does with a frame it got: look at it, sometimes clone it, close and free. */
static void use_frame(struct proc *p, MstFrame *frame, uint64_t *rng) {
    count_got(&p->ctx->got);
    if (p->ctx->kind == MST_KIND_VIDEO) {
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        EXPECT_OK(mst_frame_get_video_info(frame, &info));
        if (info.sequence == 0) FINDING("a read video frame has sequence 0");
    } else {
        MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
        EXPECT_OK(mst_frame_get_audio_info(frame, &info));
        if (info.sequence == 0) FINDING("a read audio frame has sequence 0");
    }
    if (below(rng, 4) == 0) {
        MstFrame *copy = NULL;
        EXPECT_OK(mst_frame_clone(frame, &copy));
        if (below(rng, 2)) EXPECT_OK(mst_frame_close(frame));
        EXPECT_OK(mst_frame_free(copy));
        count(OP_FRAME_CLONE);
    }
    EXPECT_OK(mst_frame_free(frame));
}

static void read_some(struct slot *slot, uint64_t *rng, bool with_fd) {
    pthread_rwlock_rdlock(&slot->lock);
    struct proc *p = some_proc(slot, rng, 1u << MODE_READ | 1u << MODE_FD);
    for (int n = 1 + (int)below(rng, 8); p && n > 0; n--) {
        MstFrame *frame = NULL;
        MstStatus s;
        int timeout = (int)below(rng, 30);
        if (with_fd) {
            int fd = -1;
            EXPECT_OK(mst_processor_get_fd(p->handle, &fd));
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (fd >= 0 && poll(&pfd, 1, timeout) < 0 && errno != EINTR) FINDING("poll failed: %s", strerror(errno));
            s = mst_processor_read(p->handle, 0, &frame);
            count(OP_READ_FD_POLL);
        } else {
            s = mst_processor_read(p->handle, timeout, &frame);
            count(OP_READ_BLOCKING);
        }
        if (s == MST_OK) {
            use_frame(p, frame, rng);
            continue;
        }
        const MstStatus ok[] = {MST_ERR_AGAIN, MST_ERR_TIMEOUT, MST_ERR_INTERRUPTED, MST_ERR_ENDED};
        if (!status_in(s, ok, 4)) FINDING("mst_processor_read returned %s: %s", mst_status_str(s), mst_last_error_message());
        if (s == MST_ERR_ENDED) break;
    }
    pthread_rwlock_unlock(&slot->lock);
}

static void release_wrapped(void *user_data) {
    free(user_data);
    atomic_fetch_add(&wraps_released, 1);
}

static MstFrame *make_frame(struct slot *slot, uint64_t *rng, bool wrapped) {
    int64_t timestamp = atomic_fetch_add(&slot->next_timestamp, 10000);
    MstFrame *frame = NULL;
    MstStatus s;
    uint8_t *data;
    size_t len;
    if (slot->kind == MST_KIND_VIDEO) {
        /* Two sizes: the frame size changes mid-stream when a writer flips it. */
        uint32_t w = atomic_load(&slot->frame_size) ? 48 : 32, h = atomic_load(&slot->frame_size) ? 36 : 24;
        len = (size_t)w * h * 3 / 2;
        data = malloc(len);
        if (!data) abort();
        memset(data, (int)below(rng, 256), len);
        MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
        init.format = MST_VIDEO_PIXEL_FORMAT_I420;
        init.coded_width = w;
        init.coded_height = h;
        init.timestamp = timestamp;
        s = wrapped ? mst_frame_wrap_video(&init, data, len, release_wrapped, data, &frame)
                    : mst_frame_create_video(&init, data, len, &frame);
    } else {
        uint32_t frames = 480;
        len = frames * sizeof(float);
        data = calloc(1, len);
        if (!data) abort();
        MstAudioDataInit init = MST_STRUCT_INIT(MstAudioDataInit);
        init.format = MST_AUDIO_SAMPLE_FORMAT_F32;
        init.sample_rate = 48000;
        init.number_of_frames = frames;
        init.number_of_channels = 1;
        init.timestamp = timestamp;
        s = wrapped ? mst_frame_wrap_audio(&init, data, len, release_wrapped, data, &frame)
                    : mst_frame_create_audio(&init, data, len, &frame);
    }
    if (s != MST_OK) {
        FINDING("creating a frame failed: %s: %s", mst_status_str(s), mst_last_error_message());
        free(data);
        return NULL;
    }
    if (wrapped)
        atomic_fetch_add(&wraps_made, 1);
    else
        free(data);
    return frame;
}

static void write_some(struct slot *slot, uint64_t *rng) {
    pthread_rwlock_rdlock(&slot->lock);
    if (slot->generator) {
        if (slot->kind == MST_KIND_VIDEO && below(rng, 50) == 0) atomic_fetch_xor(&slot->frame_size, 1);
        for (int n = 1 + (int)below(rng, 4); n > 0; n--) {
            bool wrapped = below(rng, 3) == 0;
            MstFrame *frame = make_frame(slot, rng, wrapped);
            if (!frame) break;
            /* MST_ERR_TYPE: the writable is closed, or every connected track ended. */
            EXPECT_OR(mst_generator_write(slot->generator, frame), MST_ERR_TYPE);
            EXPECT_OK(mst_frame_free(frame));
            count(wrapped ? OP_WRITE_WRAPPED : OP_WRITE);
        }
    }
    pthread_rwlock_unlock(&slot->lock);
}

static void apply_constraints(struct slot *slot, uint64_t *rng) {
    MstVideoConstraints c = MST_STRUCT_INIT(MstVideoConstraints);
    switch (below(rng, 5)) {
    case 0: break; /* none: back to the source's frames */
    case 1:
        c.width.present = MST_CONSTRAIN_MAX;
        c.width.max = 8 + 8 * below(rng, 6);
        break;
    case 2:
        c.height.present = MST_CONSTRAIN_IDEAL;
        c.height.ideal = 8 + 4 * below(rng, 8);
        c.width.present = MST_CONSTRAIN_EXACT;
        c.width.exact = 16 + 8 * below(rng, 3);
        break;
    case 3:
        c.frame_rate.present = MST_CONSTRAIN_MAX;
        c.frame_rate.max = 5 + below(rng, 60);
        break;
    default:
        c.resize_mode = below(rng, 2) ? MST_RESIZE_MODE_NONE : MST_RESIZE_MODE_CROP_AND_SCALE;
        c.frame_rate.present = MST_CONSTRAIN_MAX;
        c.frame_rate.max = 10;
        break;
    }
    pthread_rwlock_rdlock(&slot->lock);
    MstTrack *track = slot->kind == MST_KIND_VIDEO ? some_track(slot, rng) : NULL;
    /* Exact sizes a source cannot reach are overconstrained; an audio track has no such
     * constraint to check, so it is never asked. */
    if (track) {
        EXPECT_OR(mst_track_apply_constraints(track, &c), MST_ERR_OVERCONSTRAINED);
        count(OP_APPLY_CONSTRAINTS);
    }
    pthread_rwlock_unlock(&slot->lock);
}

static void one_step(int thread, uint64_t *rng) {
    struct slot *slot = &slots[below(rng, num_slots)];
    pthread_rwlock_rdlock(&slot->lock);
    bool empty = slot->source == SRC_NONE;
    pthread_rwlock_unlock(&slot->lock);
    if (empty) { /* create_source rechecks under the write lock */
        create_source(slot, rng);
        return;
    }
    uint32_t r = below(rng, 100);
    if (r < 2) {
        destroy_slot(thread, slot, rng);
    } else if (r < 7) {
        clone_track(slot, rng);
    } else if (r < 9) {
        pthread_rwlock_rdlock(&slot->lock);
        MstTrack *track = some_track(slot, rng);
        if (track) {
            EXPECT_OK(mst_track_stop(track));
            count(OP_STOP);
        }
        pthread_rwlock_unlock(&slot->lock);
    } else if (r < 13) {
        pthread_rwlock_rdlock(&slot->lock);
        MstTrack *track = some_track(slot, rng);
        if (track) {
            EXPECT_OK(mst_track_set_enabled(track, below(rng, 3) != 0));
            count(OP_SET_ENABLED);
        }
        pthread_rwlock_unlock(&slot->lock);
    } else if (r < 18) {
        apply_constraints(slot, rng);
    } else if (r < 27) {
        create_processor(slot, rng);
    } else if (r < 45) {
        read_some(slot, rng, false);
    } else if (r < 57) {
        read_some(slot, rng, true);
    } else if (r < 60) {
        pthread_rwlock_rdlock(&slot->lock);
        struct proc *p = some_proc(slot, rng, 7);
        if (p) {
            EXPECT_OK(mst_processor_wakeup(p->handle));
            count(OP_WAKEUP);
        }
        pthread_rwlock_unlock(&slot->lock);
    } else if (r < 62) {
        pthread_rwlock_rdlock(&slot->lock);
        struct proc *p = some_proc(slot, rng, 7);
        if (p) {
            EXPECT_OK(mst_processor_close(p->handle));
            count(OP_PROCESSOR_CLOSE);
        }
        pthread_rwlock_unlock(&slot->lock);
    } else if (r < 67) {
        retire_processor(thread, slot, rng);
    } else if (r < 70) {
        free_track(slot, rng);
    } else if (r < 95) {
        write_some(slot, rng);
    } else if (r < 96) {
        pthread_rwlock_rdlock(&slot->lock);
        if (slot->generator) {
            /* MST_ERR_TYPE: an errored writable refuses to close (no write here errors it). */
            EXPECT_OR(mst_generator_close(slot->generator), MST_ERR_TYPE);
            count(OP_WRITABLE_CLOSE);
        }
        pthread_rwlock_unlock(&slot->lock);
    } else if (r < 98) {
        pthread_rwlock_rdlock(&slot->lock);
        if (slot->fake) {
            MstFault f = random_fault(slot->source == SRC_FAKE_CAMERA, rng);
            EXPECT_OK(mst_fake_device_inject(slot->fake, &f));
            count(OP_FAULT_INJECT);
        }
        pthread_rwlock_unlock(&slot->lock);
    } else {
        pthread_rwlock_rdlock(&slot->lock);
        if (slot->generator) {
            EXPECT_OK(mst_generator_set_muted(slot->generator, below(rng, 2) == 0));
            count(OP_SET_MUTED);
        }
        pthread_rwlock_unlock(&slot->lock);
    }
}

/* ---- Threads ----------------------------------------------------------------------------- */

static uint64_t seed;

static void *worker(void *arg) {
    int thread = (int)(intptr_t)arg;
    uint64_t rng = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(thread + 1));
    while (!atomic_load(&stopping)) {
        one_step(thread, &rng);
        made_progress(thread);
    }
    return NULL;
}

static int num_threads = 16;
static int stall_seconds = 30;

/* Prints every thread's stack (gdb attached to this process) and aborts. */
static void deadlock(int thread, int64_t stalled_ms) {
    fprintf(stderr, "DEADLOCK: thread %d made no progress for %lld ms; stacks follow\n", thread,
            (long long)stalled_ms);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    pid_t child = fork();
    if (child == 0) {
        dup2(2, 1);
        execlp("gdb", "gdb", "-p", pid, "-batch", "-nx", "-ex", "set pagination off", "-ex",
               "thread apply all bt", (char *)NULL);
        fprintf(stderr, "gdb is not there (%s): no stacks\n", strerror(errno));
        _exit(127);
    }
    if (child > 0) waitpid(child, NULL, 0);
    abort();
}

static atomic_bool watchdog_done;

static void *watchdog(void *arg) {
    (void)arg;
    while (!atomic_load(&watchdog_done)) {
        sleep_ms(500);
        int64_t now = now_ms();
        for (int t = 0; t <= num_threads; t++) {
            int64_t last = __atomic_load_n(&progress[t], __ATOMIC_RELAXED);
            if (last != 0 && now - last > (int64_t)stall_seconds * 1000) deadlock(t, now - last);
        }
    }
    return NULL;
}

static void usage(void) {
    fprintf(stderr, "usage: stress [--threads N] [--seconds S] [--seed X] [--stall-seconds S] [--miscount yes]\n");
    exit(2);
}

int main(int argc, char **argv) {
    double seconds = 60;
    seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) usage();
        if (!strcmp(argv[i], "--threads"))
            num_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--stall-seconds"))
            stall_seconds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--miscount") && !strcmp(argv[++i], "yes"))
            atomic_store(&miscount, true);
        else
            usage();
    }
    if (num_threads < 1 || num_threads > 256 || seconds < 0 || stall_seconds < 1) usage();
    printf("stress: libmst %s, %d threads, %.0f s, seed %" PRIu64 " (rerun: --seed %" PRIu64 ")\n",
           mst_version(), num_threads, seconds, seed, seed);
    fflush(stdout);

    num_slots = (uint32_t)num_threads + 8;
    slots = calloc(num_slots, sizeof *slots);
    progress = calloc((size_t)num_threads + 1, sizeof *progress);
    if (!slots || !progress) abort();
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* Writer-preferring: with 16 readers on a slot, a plain rwlock could starve its writers. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    for (uint32_t i = 0; i < num_slots; i++) pthread_rwlock_init(&slots[i].lock, &attr);
    pthread_rwlockattr_destroy(&attr);

    made_progress(num_threads);
    pthread_t dog;
    if (pthread_create(&dog, NULL, watchdog, NULL) != 0) abort();
    pthread_t *threads = calloc((size_t)num_threads, sizeof *threads);
    if (!threads) abort();
    for (int t = 0; t < num_threads; t++) {
        made_progress(t);
        if (pthread_create(&threads[t], NULL, worker, (void *)(intptr_t)t) != 0) abort();
    }
    int64_t end = now_ms() + (int64_t)(seconds * 1000);
    while (now_ms() < end) {
        sleep_ms(100);
        made_progress(num_threads);
    }
    atomic_store(&stopping, true);
    for (int t = 0; t < num_threads; t++) pthread_join(threads[t], NULL);
    /* The workers are done: nothing of theirs is in progress any more. */
    for (int t = 0; t < num_threads; t++) __atomic_store_n(&progress[t], 0, __ATOMIC_RELAXED);

    uint64_t rng = seed;
    for (uint32_t i = 0; i < num_slots; i++) {
        destroy_slot(num_threads, &slots[i], &rng);
        pthread_rwlock_destroy(&slots[i].lock);
        made_progress(num_threads);
    }
    /* A wrapped frame still referenced by a source's thread is released when that thread lets
     * it go; the sources stop when their last track ends, which all did above. */
    for (int waited = 0; atomic_load(&wraps_released) != atomic_load(&wraps_made) && waited < 5000; waited += 10)
        sleep_ms(10);
    if (atomic_load(&wraps_released) != atomic_load(&wraps_made))
        FINDING("wrapped frames: %lld made, %lld released", (long long)atomic_load(&wraps_made),
                (long long)atomic_load(&wraps_released));

    unsigned long long total_ops = 0;
    printf("operations:\n");
    for (int i = 0; i < OP_COUNT; i++) {
        printf("  %-34s %12llu\n", op_names[i], (unsigned long long)atomic_load(&op_counts[i]));
        total_ops += atomic_load(&op_counts[i]);
    }
    printf("  %-34s %12llu\n", "all", total_ops);
    printf("frames read: %llu\n", (unsigned long long)atomic_load(&frames_read));
    printf("wrapped frames made/released: %lld/%lld\n", (long long)atomic_load(&wraps_made),
           (long long)atomic_load(&wraps_released));
    printf("processors checked: %llu\n", (unsigned long long)atomic_load(&processors_checked));
    printf("findings: %llu\n", (unsigned long long)atomic_load(&findings));
    atomic_store(&watchdog_done, true);
    pthread_join(dog, NULL);
    free(threads);
    free(slots);
    free((void *)progress);
    if (atomic_load(&processors_checked) == 0) {
        printf("no processor was checked: the run proves nothing\n");
        return 1;
    }
    return atomic_load(&findings) ? 1 : 0;
}
