/* libFuzzer target for the libmst C API: every input is a little program of API calls, run
 * against a model of what mst.h promises; any broken promise abort()s so the fuzzer reports it.
 *
 * Input format. Byte 0 picks the order in which the epilogue releases what is still live (4
 * orders). Then, until the input ends (at most MAX_OPS ops): one byte selects an op (byte % OP_COUNT,
 * see `enum op`), the following bytes are its arguments, read by the rd_* decoders below (a
 * missing byte reads as 0). Each decoder spends its first byte on a "mode": mostly valid-looking
 * values (small sizes, aligned rects, packed layouts, data exactly as long as the layout needs),
 * sometimes table values at the edges (0, 16384, 16385, UINT32_MAX, SIZE_MAX, NaN, infinities,
 * INT64_MIN/MAX), sometimes raw bytes. Handles come from pick(): a live one (up to 8 frames,
 * 4 tracks, 2 generators, 2 processors), a closed/freed one, garbage, a live handle of another
 * type, or NULL. Pixel and sample bytes are generated (fill()), not read from the input.
 * The model's objects live on this thread (their reads get timeout 0); the ops after
 * OP_TRACK_CONTENT_HINT make objects of their own and add a second thread (reading, waking,
 * closing while this one writes, mutes, clones and stops), processor callbacks (which call
 * libmst and remove themselves), the log callback, the test pattern and tone, the camera and
 * microphone (device ids that do not exist here, and the fake devices with a fuzzed fault
 * script), file sinks (in /tmp), audio playback and
 * video output, device enumeration, the kernel thread count and colour spaces: every exported
 * function is called somewhere (c-tests/fuzz/symbols.sh, a ctest, fails when one is not).
 *
 * The contract checked (see check_status() and the op functions): no MST_ERR_PANIC; every
 * status is an MstStatus the call may return; after a failure mst_last_error_message() is
 * non-empty (and mst_last_error_constraint() set exactly after MST_ERR_OVERCONSTRAINED), after
 * a success it is unchanged; out-pointers and destination buffers are untouched on failure;
 * constructors accept exactly the inits mst.h (and WebCodecs) call valid and keep their pixels
 * and samples; planes are as long as their rows; allocation sizes are WebCodecs' (a layout's
 * planes span stride x rows); copy_to writes nothing past the allocation size and copies what
 * the planes hold; processor stats satisfy total = delivered + (discards in the queue) + queued
 * and discarded = the sum of its reasons, queued <= max_buffer_size (the documented default or
 * clamp; 1 for latest-only), never decrease, and agree with read(), the frames' sequence and
 * discarded_before numbers and the fd's readiness; maxBufferSize above 65535 is MST_ERR_TYPE;
 * writeFrame closes the frame exactly on MST_OK (the handle stays until freed) and a closed frame
 * answers MST_ERR_INVALID_STATE; a rejected write errors the writable (every later write and
 * close is MST_ERR_TYPE), a write to a closed one is MST_ERR_TYPE; closing or freeing a generator
 * ends its tracks and their processors; constraints round-trip through getConstraints, NaN and
 * infinities are MST_ERR_INVALID_ARG and ideal-only ones never fail on video; contentHint takes
 * exactly its kind's values and clones copy it; wrapped memory is never written and is released
 * exactly once, after the last reference; a mute callback never repeats a value; callbacks'
 * destroy runs exactly once, also when the registration fails.
 * At the end of every input everything still live is closed/freed, then every wrapped buffer
 * must have been released and every callback destroyed (LeakSanitizer checks the rest).
 *
 * Run the fuzzer: scripts/fuzz.sh api MINUTES (installs clang, builds libmst with coverage
 * counters, runs, records the figures; fuzz/RESULTS.md has the runs so far). By hand:
 *   cargo build
 *   mkdir -p /tmp/mst-fuzz/lib /tmp/mst-fuzz/corpus
 *   ln -sf "$PWD/target/debug/libmst.so" /tmp/mst-fuzz/lib/libmst.so.1
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude c-tests/fuzz/fuzz_api.c \
 *       -Ltarget/debug -lmst -lpthread -lm -Wl,-rpath,/tmp/mst-fuzz/lib -o /tmp/mst-fuzz/fuzz_api
 *   cp -r c-tests/fuzz/corpus/. /tmp/mst-fuzz/corpus/
 *   /tmp/mst-fuzz/fuzz_api -timeout=5 -rss_limit_mb=4096 -max_total_time=300 \
 *       /tmp/mst-fuzz/corpus
 * (or configure c-tests with -DMST_FUZZ=ON: the build then also makes fuzz/fuzz_api in the
 * build tree, linked like the tests). libFuzzer only sees coverage of code built with
 * -fsanitize=fuzzer; for guidance inside libmst too, build it with sanitizer coverage and link
 * against that (-L/tmp/mst-cov/x86_64-unknown-linux-gnu/debug, rpath to a libmst.so.1 link):
 *   CARGO_TARGET_DIR=/tmp/mst-cov RUSTFLAGS="-Cpasses=sancov-module \
 *       -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 *       -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares" \
 *       cargo build --lib --target x86_64-unknown-linux-gnu
 * To refresh the committed corpus, merge into an empty directory and copy it back:
 *   mkdir /tmp/mst-fuzz/min && /tmp/mst-fuzz/fuzz_api -merge=1 /tmp/mst-fuzz/min \
 *       /tmp/mst-fuzz/corpus
 *   rm -r c-tests/fuzz/corpus && cp -r /tmp/mst-fuzz/min c-tests/fuzz/corpus
 * MST_FUZZ_TRACE=1 in the environment prints every call and its status (to see what an input
 * does: MST_FUZZ_TRACE=1 /tmp/mst-fuzz/fuzz_api INPUT-FILE).
 * The committed corpus replays as the ctest `fuzz_corpus` (replay.c, no clang needed), so it
 * also runs in the sanitize and valgrind stages of scripts/test.sh. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    MAX_OPS = 128,
    MAX_FRAMES = 8,
    MAX_TRACKS = 4,
    MAX_GENS = 2,
    MAX_PROCS = 2,
    MAX_DEAD = 16,
    MAX_WRAPS = 64,
    MAX_REGS = 64,
    MAX_FDS = 16,
    DATA_CAP = 1 << 20,   /* largest pixel/sample buffer the harness allocates */
    DEST_CAP = 4 << 20,   /* largest copy_to destination */
    GUARD = 64,           /* canary bytes after a destination */
    CANARY = 0xA5,
};

/* ---------------------------------------------------------------------------------------- */
/* Failure reporting                                                                          */

static int g_op_index;
static const char *g_op_name = "setup";

static _Noreturn void fail_at(int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "\nfuzz_api.c:%d: contract violation in op #%d (%s): ", line, g_op_index, g_op_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}
#define FAIL(...) fail_at(__LINE__, __VA_ARGS__)
#define ENSURE(cond, ...)                                                                      \
    do {                                                                                       \
        if (!(cond)) FAIL(__VA_ARGS__);                                                        \
    } while (0)

/* ---------------------------------------------------------------------------------------- */
/* Statuses                                                                                   */

enum {
    S_OK = 1u << 0,
    S_AGAIN = 1u << 1,
    S_TIMEOUT = 1u << 2,
    S_ENDED = 1u << 3,
    S_INTR = 1u << 4,
    S_NULL = 1u << 5,
    S_ARG = 1u << 6,
    S_TYPE = 1u << 7,
    S_STATE = 1u << 8,
    S_RANGE = 1u << 9,
    S_NODEV = 1u << 10,
    S_BUSY = 1u << 11,
    S_IO = 1u << 12,
    S_OVER = 1u << 13,
    S_UNSUP = 1u << 14,
    S_NOMEM = 1u << 15,
    S_HANDLE = S_NULL | S_ARG | S_STATE,
};

static unsigned status_bit(MstStatus st) {
    switch (st) {
    case MST_OK: return S_OK;
    case MST_ERR_AGAIN: return S_AGAIN;
    case MST_ERR_TIMEOUT: return S_TIMEOUT;
    case MST_ERR_ENDED: return S_ENDED;
    case MST_ERR_INTERRUPTED: return S_INTR;
    case MST_ERR_NULL_ARG: return S_NULL;
    case MST_ERR_INVALID_ARG: return S_ARG;
    case MST_ERR_TYPE: return S_TYPE;
    case MST_ERR_INVALID_STATE: return S_STATE;
    case MST_ERR_RANGE: return S_RANGE;
    case MST_ERR_NO_DEVICE: return S_NODEV;
    case MST_ERR_BUSY: return S_BUSY;
    case MST_ERR_IO: return S_IO;
    case MST_ERR_OVERCONSTRAINED: return S_OVER;
    case MST_ERR_UNSUPPORTED: return S_UNSUP;
    case MST_ERR_NO_MEMORY: return S_NOMEM;
    default: return 0;
    }
}

/* A copy of the last error message, to prove successful calls leave it alone. */
/* Per thread, as the last error is: the ops with threads check calls on theirs too. */
static _Thread_local char g_msg[512];
static _Thread_local size_t g_msg_len;

static void remember_message(void) {
    const char *m = mst_last_error_message();
    ENSURE(m != NULL, "mst_last_error_message() returned NULL");
    g_msg_len = strlen(m);
    size_t n = g_msg_len < sizeof g_msg - 1 ? g_msg_len : sizeof g_msg - 1;
    memcpy(g_msg, m, n);
    g_msg[n] = '\0';
}

/* Checks one call's status against the statuses its contract allows (MST_ERR_NO_MEMORY is
 * always allowed) and the last-error rules; returns the status. */
static int g_trace = -1; /* MST_FUZZ_TRACE set: print every call and its status to stderr */

static MstStatus check_status(int line, MstStatus st, unsigned allowed, const char *call) {
    unsigned bit = status_bit(st);
    if (g_trace) fprintf(stderr, "  #%d %s: %s -> %s\n", g_op_index, g_op_name, call, mst_status_str(st));
    const char *m = mst_last_error_message();
    if (st == MST_ERR_PANIC) fail_at(line, "%s returned MST_ERR_PANIC: %s", call, m ? m : "(NULL)");
    if (bit == 0) fail_at(line, "%s returned %d, which is not an MstStatus", call, (int)st);
    if (!((allowed | S_NOMEM) & bit))
        fail_at(line, "%s returned %s, which its contract does not allow here (last error: %s)", call,
                mst_status_str(st), st == MST_OK ? "-" : (m ? m : "(NULL)"));
    if (m == NULL) fail_at(line, "mst_last_error_message() is NULL after %s", call);
    const char *s = mst_status_str(st);
    if (s == NULL || strncmp(s, "MST_", 4) != 0) fail_at(line, "mst_status_str(%d) is not a status name", (int)st);
    if (st != MST_OK) {
        if (m[0] == '\0') fail_at(line, "%s failed with %s but the last error message is empty", call, s);
        remember_message();
        const char *c = mst_last_error_constraint();
        if (st == MST_ERR_OVERCONSTRAINED) {
            /* The camera controls too: a track without one is overconstrained by a required one. */
            static const char *const names[] = {"width", "height", "frameRate", "aspectRatio", "resizeMode",
                                                "brightness", "contrast", "saturation", "sharpness", "exposureTime",
                                                "colorTemperature", "focusDistance", "zoom", "pan", "tilt",
                                                "exposureMode", "whiteBalanceMode", "focusMode"};
            bool known = false;
            for (size_t i = 0; c != NULL && i < sizeof names / sizeof names[0]; i++) known |= strcmp(c, names[i]) == 0;
            if (!known) fail_at(line, "%s: MST_ERR_OVERCONSTRAINED names constraint %s", call, c ? c : "(NULL)");
        } else if (c != NULL) {
            fail_at(line, "%s failed with %s but mst_last_error_constraint() is \"%s\"", call, s, c);
        }
    } else {
        size_t len = strlen(m);
        size_t n = g_msg_len < sizeof g_msg - 1 ? g_msg_len : sizeof g_msg - 1;
        if (len != g_msg_len || strncmp(m, g_msg, n) != 0)
            fail_at(line, "%s succeeded but changed the last error message from \"%s\" to \"%s\"", call, g_msg, m);
    }
    return st;
}
#define CHK(call, allowed) check_status(__LINE__, (call), (allowed), #call)

/* ---------------------------------------------------------------------------------------- */
/* Input decoding                                                                             */

typedef struct {
    const uint8_t *p;
    size_t n;
} In;

static uint8_t rd8(In *in) {
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}
static uint16_t rd16(In *in) {
    uint16_t v = rd8(in);
    return (uint16_t)(v | (uint16_t)rd8(in) << 8);
}
static uint32_t rd32(In *in) {
    uint32_t v = rd16(in);
    return v | (uint32_t)rd16(in) << 16;
}
static uint64_t rd64(In *in) {
    uint64_t v = rd32(in);
    return v | (uint64_t)rd32(in) << 32;
}

/* Saturating arithmetic for sizes the harness computes itself. */
static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) { return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b; }

static int32_t rd_vformat(In *in) {
    uint8_t b = rd8(in);
    if (b < 0xF0) return 1 + b % 9;
    static const int32_t odd[] = {0, 10, -1, INT32_MIN, INT32_MAX, 11, 255, 0x100 + 1};
    if ((b & 15) < 8) return odd[b & 7];
    return (int32_t)rd32(in);
}

static int32_t rd_aformat(In *in) {
    uint8_t b = rd8(in);
    if (b < 0xF0) return 1 + b % 8;
    static const int32_t odd[] = {0, 9, -1, INT32_MIN, INT32_MAX, 10, 255, 0x100 + 1};
    if ((b & 15) < 8) return odd[b & 7];
    return (int32_t)rd32(in);
}

static uint32_t rd_dim(In *in) {
    uint8_t b = rd8(in);
    static const uint32_t edge[] = {0, 1, 2, 3, 16383, 16384, 16385, 65535,
                                    65536, 0x7fffffffu, 0x80000000u, UINT32_MAX, 4096, 8192, 257};
    switch (b >> 6) {
    case 0:
    case 1: return 1 + (b & 0x7f); /* 1..128 */
    case 2: return 1 + (uint32_t)rd8(in); /* 1..256 */
    default: return (b & 15) < 15 ? edge[b & 15] : rd32(in);
    }
}

static size_t rd_size(In *in) {
    uint8_t b = rd8(in);
    static const uint64_t edge[] = {0, 1, SIZE_MAX, SIZE_MAX / 2, SIZE_MAX / 2 + 1, (uint64_t)1 << 32,
                                    (uint64_t)1 << 40, SIZE_MAX - 1, 16384, 65536, 0x7fffffff, 3};
    switch (b >> 6) {
    case 0:
    case 1: return b & 0x7f;
    case 2: return rd16(in);
    default: return (b & 15) < 12 ? (size_t)edge[b & 15] : (size_t)rd64(in);
    }
}

static int64_t g_clock; /* timestamps that usually increase, as a source's would */

static int64_t rd_ts(In *in) {
    uint8_t b = rd8(in);
    static const int64_t edge[] = {0, -1, 1, INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1, 33333,
                                   -33333, INT64_MAX / 2, INT64_MIN / 2, 1000000};
    switch (b >> 6) {
    case 0: return g_clock += (int64_t)(b & 0x3f) * 1000;
    case 1: return g_clock += (int64_t)rd16(in) * 10;
    case 2: return (b & 15) < 12 ? edge[b & 15] : g_clock;
    default: return (int64_t)rd64(in);
    }
}

static int64_t rd_duration(In *in) {
    uint8_t b = rd8(in);
    static const int64_t edge[] = {0, 1, -1, INT64_MAX, INT64_MIN, 33333, 1000000, 16666};
    switch (b >> 6) {
    case 0: return 0;
    case 1: return (int64_t)rd16(in) * 100;
    case 2: return edge[b & 7];
    default: return (int64_t)rd64(in);
    }
}

static double rd_double(In *in) {
    uint8_t b = rd8(in);
    static const double edge[] = {0.0, -0.0, -1.0, NAN, INFINITY, -INFINITY, DBL_MIN, 1e-300,
                                  DBL_MAX, 16384.0, 16385.0, 1000.0, 1000.0001, 1e-6, 0.5, 16.0 / 9.0,
                                  4.9e-324, -NAN, 1.0 / 16384.0, 1.0 / 16385.0, 0.9999999, 1e300, 1e-9, 2.0,
                                  30.0, 29.97, 60.0, 1.0, 1.5, 720.0, 1280.0, -1e300};
    switch (b >> 5) {
    case 0: return (double)(b & 31);
    case 1: return (double)rd16(in);
    case 2: return (double)rd16(in) / 256.0;
    case 3: return edge[b & 31];
    case 4: {
        uint64_t bits = rd64(in);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    case 5: return (double)((b & 31) * 10);
    case 6: return (double)(b & 31) / 8.0;
    default: return (double)((b & 31) * 100);
    }
}

static float rd_rate(In *in) {
    uint8_t b = rd8(in);
    static const float edge[] = {48000.0f, 44100.0f, 8000.0f, 1.0f, 0.0f, -1.0f, NAN, INFINITY,
                                 1e-45f, FLT_MAX, -0.0f, 96000.0f, 0.5f, 1e-30f, 16000.0f, -INFINITY};
    switch (b >> 6) {
    case 0:
    case 1: return edge[b & 3];
    case 2: return edge[b & 15];
    default: {
        uint32_t bits = rd32(in);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    }
}

static uint32_t rd_count(In *in) { /* audio frames and channels */
    uint8_t b = rd8(in);
    static const uint32_t edge[] = {0, 1, UINT32_MAX, 0x80000000u, 65536, 480, 1024, 0x40000000u};
    switch (b >> 6) {
    case 0:
    case 1: return 1 + (b & 0x3f);
    case 2: return 1 + (uint32_t)rd8(in) * 4;
    default: return (b & 15) < 8 ? edge[b & 7] : rd32(in);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Formats, as WebCodecs defines them                                                         */

typedef struct {
    unsigned bps, sx, sy;
} Plane;

static int vplanes(int32_t format, Plane p[4]) {
    const Plane y = {1, 1, 1}, c420 = {1, 2, 2}, c422 = {1, 2, 1}, uv = {2, 2, 2}, rgb = {4, 1, 1};
    switch (format) {
    case MST_VIDEO_PIXEL_FORMAT_I420: p[0] = y; p[1] = c420; p[2] = c420; return 3;
    case MST_VIDEO_PIXEL_FORMAT_I420A: p[0] = y; p[1] = c420; p[2] = c420; p[3] = y; return 4;
    case MST_VIDEO_PIXEL_FORMAT_I422: p[0] = y; p[1] = c422; p[2] = c422; return 3;
    case MST_VIDEO_PIXEL_FORMAT_I444: p[0] = y; p[1] = y; p[2] = y; return 3;
    case MST_VIDEO_PIXEL_FORMAT_NV12: p[0] = y; p[1] = uv; return 2;
    case MST_VIDEO_PIXEL_FORMAT_RGBA:
    case MST_VIDEO_PIXEL_FORMAT_RGBX:
    case MST_VIDEO_PIXEL_FORMAT_BGRA:
    case MST_VIDEO_PIXEL_FORMAT_BGRX: p[0] = rgb; return 1;
    default: return 0;
    }
}

static bool is_rgb(int32_t f) { return f >= MST_VIDEO_PIXEL_FORMAT_RGBA && f <= MST_VIDEO_PIXEL_FORMAT_BGRX; }

static void alignment(int32_t format, unsigned *ax, unsigned *ay) {
    Plane p[4];
    int n = vplanes(format, p);
    *ax = *ay = 1;
    for (int i = 0; i < n; i++) {
        if (p[i].sx > *ax) *ax = p[i].sx;
        if (p[i].sy > *ay) *ay = p[i].sy;
    }
}

static uint64_t row_bytes(Plane p, uint64_t w) { return sat_mul((w + p.sx - 1) / p.sx, p.bps); }
static uint64_t plane_rows(Plane p, uint64_t h) { return (h + p.sy - 1) / p.sy; }

/* Tightly packed layout; returns the total size (UINT64_MAX on overflow). */
static uint64_t packed_layout(int32_t format, uint64_t w, uint64_t h, MstPlaneLayout out[4]) {
    Plane p[4];
    int n = vplanes(format, p);
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        uint64_t stride = row_bytes(p[i], w);
        if (out) {
            out[i].offset = (size_t)off;
            out[i].stride = (size_t)stride;
        }
        off = sat_add(off, sat_mul(stride, plane_rows(p[i], h)));
    }
    return off;
}

enum verdict { VALID, INVALID, UNSURE };

/* A caller layout for `format` at w x h, as WebCodecs' "compute layout and allocation size"
 * judges it: INVALID for a wrong plane count, a stride below the row, a plane size or end that
 * overflows, or planes that overlap, each plane spanning offset .. offset + stride x rows (the
 * last row's padding included); else VALID, and *needed is the largest plane end. */
static enum verdict check_layout(int32_t format, uint64_t w, uint64_t h, uint32_t num, const MstPlaneLayout *l,
                                 uint64_t *needed) {
    Plane p[4];
    int n = vplanes(format, p);
    *needed = 0;
    if ((int)num != n) return INVALID;
    uint64_t start[4], end[4];
    for (int i = 0; i < n; i++) {
        uint64_t row = row_bytes(p[i], w), rows = plane_rows(p[i], h);
        if (l[i].stride < row) return INVALID;
        if (rows != 0 && l[i].stride > SIZE_MAX / rows) return INVALID;
        uint64_t len = l[i].stride * rows;
        if (l[i].offset > SIZE_MAX - len) return INVALID;
        start[i] = l[i].offset;
        end[i] = l[i].offset + len;
        for (int j = 0; j < i; j++)
            if (start[i] < end[j] && start[j] < end[i]) return INVALID;
        if (end[i] > *needed) *needed = end[i];
    }
    return VALID;
}

static enum verdict check_rect(int32_t format, MstRect r, uint32_t cw, uint32_t ch) {
    unsigned ax, ay;
    alignment(format, &ax, &ay);
    if (r.width == 0 || r.height == 0) return INVALID;
    if ((uint64_t)r.x + r.width > cw || (uint64_t)r.y + r.height > ch) return INVALID;
    if (r.x % ax != 0 || r.y % ay != 0) return INVALID;
    return VALID;
}

static enum verdict worst(enum verdict a, enum verdict b) {
    if (a == INVALID || b == INVALID) return INVALID;
    if (a == UNSURE || b == UNSURE) return UNSURE;
    return VALID;
}

static unsigned abytes(int32_t f) {
    switch (f) {
    case MST_AUDIO_SAMPLE_FORMAT_U8:
    case MST_AUDIO_SAMPLE_FORMAT_U8_PLANAR: return 1;
    case MST_AUDIO_SAMPLE_FORMAT_S16:
    case MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR: return 2;
    case MST_AUDIO_SAMPLE_FORMAT_S32:
    case MST_AUDIO_SAMPLE_FORMAT_S32_PLANAR:
    case MST_AUDIO_SAMPLE_FORMAT_F32:
    case MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR: return 4;
    default: return 0;
    }
}
static bool aplanar(int32_t f) { return f >= MST_AUDIO_SAMPLE_FORMAT_U8_PLANAR && f <= MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR; }

/* ---------------------------------------------------------------------------------------- */
/* State of one input                                                                         */

enum { T_FRAME, T_TRACK, T_GEN, T_PROC, T_COUNT };
/* H_CLOSED: a live frame handle whose frame was closed (mst_frame_close, or a write that
 * sent it): every call but close and free answers MST_ERR_INVALID_STATE. */
enum { H_LIVE, H_DEAD, H_GARBAGE, H_OTHER, H_NULL, H_CLOSED };

typedef struct {
    MstFrame *h;
    int32_t kind;
    bool closed;
} FrameSlot;
typedef struct {
    MstTrack *h;
    int32_t kind;
    int src;        /* index of the generator source, per input */
    int ended_reg;  /* callback registration made through this handle, or -1 */
} TrackSlot;
typedef struct {
    MstGenerator *h;
    int32_t kind;
    int src;
    bool errored; /* a rejected write errored the writable */
} GenSlot;
typedef struct {
    MstProcessor *h;
    int32_t kind;
    int src;
    uint32_t asked;
    bool latest_only;
    uint64_t last_seq;
    uint64_t reported; /* the sum of discarded_before over the frames read */
    int fd;
    bool woken;
    MstProcessorStats last;
} ProcSlot;

typedef struct {
    uint8_t *buf;
    size_t len;
    uint64_t sum;
    bool used, has_release, kept, released;
} Wrap;

typedef struct {
    bool used, registered, ended_kind, must_fire;
    bool last_muted; /* a mute registration: the value its callback saw last (or the track had) */
    int fired, destroyed;
} Reg;

static struct {
    FrameSlot frames[MAX_FRAMES];
    TrackSlot tracks[MAX_TRACKS];
    GenSlot gens[MAX_GENS];
    ProcSlot procs[MAX_PROCS];
    uintptr_t dead[T_COUNT][MAX_DEAD];
    int ndead[T_COUNT];
    Wrap wraps[MAX_WRAPS];
    Reg regs[MAX_REGS];
    int fds[MAX_FDS];
    int nfds;
    int nsrc;
} S;

static MstFrame *const SENTINEL_FRAME = (MstFrame *)(uintptr_t)0x5e5e5e5eu;

static uintptr_t slot_handle(int type, int i) {
    switch (type) {
    case T_FRAME: return (uintptr_t)S.frames[i].h;
    case T_TRACK: return (uintptr_t)S.tracks[i].h;
    case T_GEN: return (uintptr_t)S.gens[i].h;
    default: return (uintptr_t)S.procs[i].h;
    }
}
static int capacity(int type) {
    static const int cap[T_COUNT] = {MAX_FRAMES, MAX_TRACKS, MAX_GENS, MAX_PROCS};
    return cap[type];
}

static bool is_live_handle(uintptr_t v) {
    for (int t = 0; t < T_COUNT; t++)
        for (int i = 0; i < capacity(t); i++)
            if (v != 0 && slot_handle(t, i) == v) return true;
    return false;
}

static void add_dead(int type, uintptr_t h) {
    int n = S.ndead[type];
    if (n < MAX_DEAD) {
        S.dead[type][n] = h;
        S.ndead[type] = n + 1;
    } else {
        S.dead[type][(uintptr_t)h % MAX_DEAD] = h;
    }
}

typedef struct {
    uintptr_t v;
    int how;
    int slot;
} Pick;

/* A handle argument of `type`: usually a live one, sometimes a closed one, garbage, a live
 * handle of another type, or NULL. */
static Pick pick(In *in, int type) {
    uint8_t b = rd8(in);
    unsigned sel = b & 15, arg = b >> 4;
    Pick p = {0, H_NULL, -1};
    if (sel < 11) {
        int n = capacity(type);
        for (int k = 0; k < n; k++) {
            int s = (int)((arg + (unsigned)k) % (unsigned)n);
            if (slot_handle(type, s))
                return (Pick){slot_handle(type, s), type == T_FRAME && S.frames[s].closed ? H_CLOSED : H_LIVE, s};
        }
        return p;
    }
    if (sel == 11 || sel == 12) {
        if (S.ndead[type] == 0) return p;
        return (Pick){S.dead[type][arg % (unsigned)S.ndead[type]], H_DEAD, -1};
    }
    if (sel == 13) {
        int t = (type + 1 + (int)(arg % 3)) % T_COUNT;
        for (int k = 0; k < capacity(t); k++)
            if (slot_handle(t, k)) return (Pick){slot_handle(t, k), H_OTHER, -1};
        return p;
    }
    if (sel == 14) {
        uintptr_t v;
        uint8_t g = rd8(in);
        int local;
        switch (g & 7) {
        case 0: v = (uintptr_t)rd64(in); break;
        case 1: v = g >> 3; break;
        case 2: v = UINTPTR_MAX; break;
        case 3: v = (uintptr_t)&local; break; /* a real pointer that is no handle */
        case 4: v = (uintptr_t)&S; break;
        default: { /* a real handle of this type with bits flipped */
            uintptr_t base = 0;
            for (int k = 0; k < capacity(type) && !base; k++) base = slot_handle(type, k);
            if (!base && S.ndead[type]) base = S.dead[type][0];
            v = base ^ ((uintptr_t)rd32(in) << ((g >> 3) & 31));
            break;
        }
        }
        if (is_live_handle(v)) v = UINTPTR_MAX;
        return (Pick){v, v ? H_GARBAGE : H_NULL, -1};
    }
    return p;
}

/* The statuses a call may give for a handle picked this way, when the handle is checked. */
static unsigned handle_status(const Pick *p) {
    switch (p->how) {
    case H_LIVE: return S_OK;
    case H_DEAD: return S_STATE;
    case H_CLOSED: return S_STATE;
    case H_OTHER: return S_ARG;
    case H_NULL: return S_NULL;
    default: return S_HANDLE;
    }
}

static int add_frame(MstFrame *h, int32_t kind) {
    for (int i = 0; i < MAX_FRAMES; i++) {
        if (!S.frames[i].h) {
            S.frames[i] = (FrameSlot){h, kind, false};
            return i;
        }
    }
    CHK(mst_frame_free(h), S_OK);
    add_dead(T_FRAME, (uintptr_t)h);
    return -1;
}

static void drop_frame_slot(int i) {
    add_dead(T_FRAME, (uintptr_t)S.frames[i].h);
    S.frames[i].h = NULL;
}

static int free_slot(int type) {
    for (int i = 0; i < capacity(type); i++)
        if (!slot_handle(type, i)) return i;
    return -1;
}

static void check_fresh(uintptr_t h, const char *what) {
    ENSURE(h != 0, "%s returned MST_OK with a NULL handle", what);
    ENSURE(h != (uintptr_t)SENTINEL_FRAME, "%s returned MST_OK without writing its out-pointer", what);
    ENSURE(!is_live_handle(h), "%s returned a handle (%#lx) that is already live", what, (unsigned long)h);
    for (int t = 0; t < T_COUNT; t++)
        for (int i = 0; i < S.ndead[t]; i++)
            ENSURE(S.dead[t][i] != h, "%s returned the handle %#lx of a closed object", what, (unsigned long)h);
}

/* A live generator's writable state, which must be ERRORED exactly when a rejected write
 * errored it (it then stays errored, also once its tracks end). */
static MstWritableState writable_state(const GenSlot *g) {
    MstWritableState s = (MstWritableState)0;
    CHK(mst_generator_get_state(g->h, &s), S_OK);
    ENSURE(s == MST_WRITABLE_STATE_WRITABLE || s == MST_WRITABLE_STATE_CLOSED || s == MST_WRITABLE_STATE_ERRORED,
           "writable state %d", (int)s);
    ENSURE((s == MST_WRITABLE_STATE_ERRORED) == g->errored, "writable state %d, but a write %s errored it", (int)s,
           g->errored ? "has" : "never");
    return s;
}

/* ---------------------------------------------------------------------------------------- */
/* Buffers                                                                                    */

static uint64_t fnv(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void fill(uint8_t *buf, size_t len, uint8_t mode) {
    uint32_t x = 0x9e3779b9u ^ mode;
    for (size_t i = 0; i < len; i++) {
        switch (mode & 3) {
        case 0: buf[i] = (uint8_t)(mode >> 2); break;
        case 1: buf[i] = (uint8_t)(i * (mode | 1u)); break;
        default:
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (uint8_t)x;
            break;
        }
    }
}

/* The data length to pass: mostly exactly what the layout needs. */
static size_t rd_len(In *in, uint64_t needed) {
    uint8_t b = rd8(in);
    bool fits = needed <= DATA_CAP;
    switch (b & 7) {
    case 0:
    case 1:
    case 2: if (fits) return (size_t)needed; break;
    case 3: if (fits) return (size_t)needed + (b >> 3); break;
    case 4: if (fits) return needed > (uint64_t)(b >> 3) ? (size_t)needed - 1 - (b >> 3) : 0; break;
    case 5: return 0;
    default: break;
    }
    size_t n = rd16(in);
    if (b & 8) n *= 16;
    return n;
}

static void release_wrap(void *user_data) {
    Wrap *w = user_data;
    ENSURE(w >= S.wraps && w < S.wraps + MAX_WRAPS && w->used, "a release callback got user_data %p", user_data);
    ENSURE(w->kept && w->has_release, "libmst released wrapped memory it did not keep (the wrap call failed)");
    ENSURE(!w->released, "libmst released wrapped memory twice");
    ENSURE(fnv(w->buf, w->len) == w->sum, "libmst wrote into wrapped (read-only) caller memory");
    w->released = true;
    free(w->buf);
    w->buf = NULL;
}

static Wrap *new_wrap(size_t len) {
    for (int i = 0; i < MAX_WRAPS; i++) {
        Wrap *w = &S.wraps[i];
        if (!w->used) {
            memset(w, 0, sizeof *w);
            w->used = true;
            w->buf = malloc(len ? len : 1);
            if (!w->buf) abort();
            w->len = len;
            return w;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Frames                                                                                     */

static void read_all(const uint8_t *p, size_t n) { /* lets ASan check every byte is readable */
    volatile uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc ^= p[i];
    (void)acc;
}

/* A video frame just created from (init, data): attributes and pixels are what was given. */
static void verify_new_video(MstFrame *f, const MstVideoFrameInit *init, const uint8_t *data, bool copied) {
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHK(mst_frame_get_video_info(f, &info), S_OK);
    MstRect vis = init->visible_rect.width ? init->visible_rect
                                           : (MstRect){0, 0, init->coded_width, init->coded_height};
    uint32_t dw = init->display_width ? init->display_width : vis.width;
    uint32_t dh = init->display_height ? init->display_height : vis.height;
    ENSURE(info.format == init->format && info.coded_width == init->coded_width &&
               info.coded_height == init->coded_height && info.visible_rect.x == vis.x &&
               info.visible_rect.y == vis.y && info.visible_rect.width == vis.width &&
               info.visible_rect.height == vis.height && info.display_width == dw && info.display_height == dh &&
               info.timestamp == init->timestamp && info.duration == init->duration && info.sequence == 0,
           "the new frame's attributes differ from its init");
    Plane p[4];
    int n = vplanes(init->format, p);
    ENSURE(info.num_planes == (uint32_t)n, "num_planes %u, the format has %d", info.num_planes, n);
    MstPlaneLayout src[4];
    if (init->num_planes) memcpy(src, init->layout, sizeof src);
    else packed_layout(init->format, init->coded_width, init->coded_height, src);
    for (int i = 0; i < n; i++) {
        const uint8_t *d = (const uint8_t *)1;
        size_t stride = 7, len = 7;
        CHK(mst_frame_get_video_plane(f, (uint32_t)i, &d, &stride, &len), S_OK);
        size_t row = (size_t)row_bytes(p[i], init->coded_width), rows = (size_t)plane_rows(p[i], init->coded_height);
        ENSURE(stride >= row && len >= stride * (rows - 1) + row, "plane %d: stride %zu, %zu bytes readable; its %zu rows of %zu bytes do not fit",
               i, stride, len, rows, row);
        if (copied) ENSURE(stride == row, "plane %d of a copied frame has stride %zu, not the packed %zu", i, stride, row);
        for (size_t r = 0; r < rows; r++)
            ENSURE(memcmp(d + r * stride, data + src[i].offset + r * src[i].stride, row) == 0,
                   "plane %d row %zu differs from the data the frame was made from", i, r);
    }
}

static void op_create_video(In *in, bool wrap) {
    MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
    init.format = rd_vformat(in);
    init.coded_width = rd_dim(in);
    init.coded_height = rd_dim(in);
    init.timestamp = rd_ts(in);
    init.duration = rd_duration(in);
    uint32_t cw = init.coded_width, ch = init.coded_height;
    unsigned ax, ay;
    alignment(init.format, &ax, &ay);

    uint8_t b = rd8(in); /* visible rect */
    switch (b & 3) {
    case 0: break;
    case 1: {
        uint32_t x = cw ? rd16(in) % cw : 0, y = ch ? rd16(in) % ch : 0;
        x -= x % ax;
        y -= y % ay;
        init.visible_rect = (MstRect){x, y, cw > x ? 1 + rd16(in) % (cw - x) : 1, ch > y ? 1 + rd16(in) % (ch - y) : 1};
        break;
    }
    case 2: init.visible_rect = (MstRect){rd8(in), rd8(in), rd8(in), rd8(in)}; break;
    default: init.visible_rect = (MstRect){rd32(in), rd32(in), rd32(in), rd32(in)}; break;
    }
    switch ((b >> 2) & 3) { /* display size */
    case 0: break;
    case 1: init.display_width = rd16(in); init.display_height = rd16(in); break;
    case 2: init.display_width = rd32(in); init.display_height = rd32(in); break;
    default: if (b & 16) init.display_width = rd16(in); else init.display_height = rd16(in); break;
    }

    Plane p[4];
    int n = vplanes(init.format, p);
    uint8_t lb = rd8(in); /* layout */
    switch (lb & 3) {
    case 0: break;
    case 1:
    case 2: { /* valid-looking: padded strides, gaps, maybe reversed plane order */
        init.num_planes = (uint32_t)(n ? n : 1 + (lb >> 2) % 4);
        uint64_t off = rd8(in) % 16, pad = rd8(in) % 8;
        for (int k = 0; k < (int)init.num_planes; k++) {
            int i = (lb & 4) ? (int)init.num_planes - 1 - k : k;
            Plane pl = i < n ? p[i] : (Plane){1, 1, 1};
            uint64_t stride = sat_add(row_bytes(pl, cw), pad);
            init.layout[i].offset = (size_t)off;
            init.layout[i].stride = (size_t)stride;
            off = sat_add(off, sat_add(sat_mul(stride, plane_rows(pl, ch)), (lb >> 3) & 7));
        }
        if ((lb & 3) == 2) { /* then perturb one field */
            int i = (lb >> 4) % 4;
            if (lb & 0x80) init.layout[i].offset = rd_size(in);
            else init.layout[i].stride = rd_size(in);
        }
        break;
    }
    default:
        init.num_planes = rd8(in) % 6;
        for (int i = 0; i < 4; i++) {
            init.layout[i].offset = rd_size(in);
            init.layout[i].stride = rd_size(in);
        }
        break;
    }

    /* What mst.h says about this init. */
    enum verdict v = n ? VALID : INVALID;
    uint64_t needed = 0;
    if (cw == 0 || ch == 0 || cw > 16384 || ch > 16384) v = INVALID;
    if (init.visible_rect.width != 0) v = worst(v, check_rect(init.format, init.visible_rect, cw, ch));
    if ((init.display_width == 0) != (init.display_height == 0)) v = INVALID;
    if (init.duration < 0) v = worst(v, UNSURE); /* mst.h does not say */
    if (init.num_planes > 4) v = INVALID;
    else if (init.num_planes == 0) needed = packed_layout(init.format, cw, ch, NULL);
    else if (n) v = worst(v, check_layout(init.format, cw, ch, init.num_planes, init.layout, &needed));
    if (n && v != INVALID && needed > SIZE_MAX) v = INVALID;
    size_t len = rd_len(in, needed);
    if (len < needed) v = INVALID;

    uint8_t mode = rd8(in);
    uint8_t flags = rd8(in);
    bool null_data = (flags & 7) == 7, null_out = (flags & 0x38) == 0x38, null_init = (flags & 0xc0) == 0xc0;
    bool with_release = (flags & 0x40) == 0;
    Wrap *w = wrap ? new_wrap(len) : NULL;
    if (wrap && !w) return;
    if (w) w->has_release = with_release;
    uint8_t *buf = w ? w->buf : malloc(len ? len : 1);
    if (!buf) abort();
    fill(buf, len, mode);
    if (w) w->sum = fnv(buf, len);

    MstFrame *out = SENTINEL_FRAME;
    MstStatus st;
    const MstVideoFrameInit *ip = null_init ? NULL : &init;
    const uint8_t *dp = null_data ? NULL : buf;
    MstFrame **op = null_out ? NULL : &out;
    if (wrap) st = CHK(mst_frame_wrap_video(ip, dp, len, with_release ? release_wrap : NULL, w, op), S_OK | S_NULL | S_ARG);
    else st = CHK(mst_frame_create_video(ip, dp, len, op), S_OK | S_NULL | S_ARG);

    if (null_data || null_out || null_init) {
        ENSURE(st != MST_OK, "a NULL argument was accepted");
        if (v == VALID) ENSURE(st == MST_ERR_NULL_ARG, "a NULL argument with a valid init gave %s", mst_status_str(st));
    } else if (v == VALID) {
        ENSURE(st == MST_OK, "a valid %s init (format %d, %ux%u, %u planes, %zu bytes) was refused: %s",
               wrap ? "wrap" : "create", init.format, cw, ch, init.num_planes, len, mst_last_error_message());
    } else if (v == INVALID) {
        ENSURE(st == MST_ERR_INVALID_ARG, "an invalid init (format %d, %ux%u, %u planes, %zu bytes) gave %s",
               init.format, cw, ch, init.num_planes, len, mst_status_str(st));
    }
    if (st != MST_OK) {
        ENSURE(out == SENTINEL_FRAME, "a failed call wrote its out-pointer");
        if (w) {
            ENSURE(!w->released, "a failed wrap released the caller's memory");
            free(w->buf);
            w->used = false;
        } else {
            free(buf);
        }
        return;
    }
    check_fresh((uintptr_t)out, wrap ? "mst_frame_wrap_video" : "mst_frame_create_video");
    /* Without a release callback the memory must outlive every clone: the epilogue frees it
     * after everything is closed. */
    if (w) w->kept = true;
    verify_new_video(out, &init, buf, !wrap);
    if (!wrap) free(buf);
    int32_t kind = -1;
    CHK(mst_frame_get_kind(out, &kind), S_OK);
    ENSURE(kind == MST_KIND_VIDEO, "a video frame has kind %d", kind);
    add_frame(out, MST_KIND_VIDEO);
}

/* Full copies of each audio plane, through copy_to with default options; *planes of them. */
static uint8_t *audio_reference(MstFrame *f, const MstAudioDataInfo *a, size_t *plane_len) {
    unsigned bps = abytes(a->format);
    size_t per = aplanar(a->format) ? 1 : a->number_of_channels;
    size_t np = aplanar(a->format) ? a->number_of_channels : 1;
    *plane_len = (size_t)a->number_of_frames * per * bps;
    if ((uint64_t)*plane_len * np > DATA_CAP * 4) return NULL;
    uint8_t *ref = malloc(*plane_len * np + 1);
    if (!ref) abort();
    for (size_t i = 0; i < np; i++) {
        MstAudioCopyOptions o = {sizeof(MstAudioCopyOptions), (uint32_t)i, 0, 0, 0};
        size_t size = 0;
        CHK(mst_frame_audio_allocation_size(f, &o, &size), S_OK);
        ENSURE(size == *plane_len, "plane %zu allocation size %zu, expected %zu", i, size, *plane_len);
        CHK(mst_frame_audio_copy_to(f, ref + i * *plane_len, *plane_len, &o), S_OK);
    }
    return ref;
}

static void op_create_audio(In *in, bool wrap) {
    MstAudioDataInit init = MST_STRUCT_INIT(MstAudioDataInit);
    init.format = rd_aformat(in);
    init.sample_rate = rd_rate(in);
    init.number_of_frames = rd_count(in);
    uint8_t cb = rd8(in);
    init.number_of_channels = cb < 0xc0 ? 1u + cb % 8u : (cb < 0xf0 ? cb - 0xc0u : rd32(in));
    init.timestamp = rd_ts(in);
    unsigned bps = abytes(init.format);
    uint64_t needed = sat_mul(sat_mul(init.number_of_frames, init.number_of_channels), bps);
    enum verdict v = VALID;
    if (!bps || !(isfinite(init.sample_rate) && init.sample_rate > 0) || init.number_of_frames == 0 ||
        init.number_of_channels == 0 || needed > SIZE_MAX)
        v = INVALID;
    size_t len = rd_len(in, needed);
    if (len < needed) v = INVALID;
    uint8_t mode = rd8(in), flags = rd8(in);
    bool null_data = (flags & 7) == 7, null_out = (flags & 0x38) == 0x38, null_init = (flags & 0xc0) == 0xc0;
    Wrap *w = wrap ? new_wrap(len) : NULL;
    if (wrap && !w) return;
    if (w) w->has_release = true;
    uint8_t *buf = w ? w->buf : malloc(len ? len : 1);
    if (!buf) abort();
    fill(buf, len, mode);
    if (w) w->sum = fnv(buf, len);

    MstFrame *out = SENTINEL_FRAME;
    const MstAudioDataInit *ip = null_init ? NULL : &init;
    const uint8_t *dp = null_data ? NULL : buf;
    MstFrame **op = null_out ? NULL : &out;
    MstStatus st;
    if (wrap) st = CHK(mst_frame_wrap_audio(ip, dp, len, release_wrap, w, op), S_OK | S_NULL | S_ARG);
    else st = CHK(mst_frame_create_audio(ip, dp, len, op), S_OK | S_NULL | S_ARG);
    if (null_data || null_out || null_init) {
        ENSURE(st != MST_OK, "a NULL argument was accepted");
        if (v == VALID) ENSURE(st == MST_ERR_NULL_ARG, "a NULL argument with a valid init gave %s", mst_status_str(st));
    } else if (v == VALID) {
        ENSURE(st == MST_OK, "a valid audio init (format %d, rate %g, %u frames x %u channels, %zu bytes) was refused: %s",
               init.format, (double)init.sample_rate, init.number_of_frames, init.number_of_channels, len,
               mst_last_error_message());
    } else {
        ENSURE(st == MST_ERR_INVALID_ARG, "an invalid audio init gave %s", mst_status_str(st));
    }
    if (st != MST_OK) {
        ENSURE(out == SENTINEL_FRAME, "a failed call wrote its out-pointer");
        if (w) {
            ENSURE(!w->released, "a failed wrap released the caller's memory");
            free(w->buf);
            w->used = false;
        } else {
            free(buf);
        }
        return;
    }
    check_fresh((uintptr_t)out, wrap ? "mst_frame_wrap_audio" : "mst_frame_create_audio");
    if (w) w->kept = true;
    MstAudioDataInfo a = MST_STRUCT_INIT(MstAudioDataInfo);
    CHK(mst_frame_get_audio_info(out, &a), S_OK);
    ENSURE(a.format == init.format && a.number_of_frames == init.number_of_frames &&
               a.number_of_channels == init.number_of_channels && a.timestamp == init.timestamp &&
               memcmp(&a.sample_rate, &init.sample_rate, sizeof a.sample_rate) == 0 && a.sequence == 0,
           "the new audio data's attributes differ from its init");
    size_t plane_len;
    uint8_t *ref = audio_reference(out, &a, &plane_len);
    if (ref) {
        /* Planar data stores its planes one after another, interleaved data is one plane. */
        ENSURE(memcmp(ref, buf, (size_t)needed) == 0, "the audio samples differ from the data they were made from");
        free(ref);
    }
    if (!wrap) free(buf);
    add_frame(out, MST_KIND_AUDIO);
}

/* A valid frame from few bytes, to reach writes and reads cheaply. */
static void op_quick_frame(In *in, bool video) {
    uint8_t b = rd8(in);
    int64_t ts = rd_ts(in);
    MstFrame *out = SENTINEL_FRAME;
    if (video) {
        int32_t format = 1 + b % 9;
        uint32_t w = 2 + 2 * (rd8(in) % 64u), h = 2 + 2 * (rd8(in) % 64u);
        uint64_t need = packed_layout(format, w, h, NULL);
        /* At most 128x128 pixels in at most 4 planes of at most 4 bytes: far below 1 MiB. Said
         * here, GCC 12 also knows it and does not see packed_layout's saturation reach malloc. */
        ENSURE(need <= (1u << 20), "a %ux%u frame of format %d needs %llu bytes", w, h, format,
               (unsigned long long)need);
        size_t len = (size_t)need;
        uint8_t *buf = malloc(len);
        if (!buf) abort();
        fill(buf, len, b);
        MstVideoFrameInit init = {.struct_size = sizeof(MstVideoFrameInit), .format = format, .coded_width = w, .coded_height = h, .timestamp = ts,
                                  .duration = (b & 0x80) ? 33333 : 0};
        CHK(mst_frame_create_video(&init, buf, len, &out), S_OK);
        free(buf);
        check_fresh((uintptr_t)out, "mst_frame_create_video");
        add_frame(out, MST_KIND_VIDEO);
    } else {
        int32_t format = 1 + b % 8;
        MstAudioDataInit init = {.struct_size = sizeof(MstAudioDataInit), .format = format, .sample_rate = (b & 0x80) ? 48000.0f : 44100.0f,
                                 .number_of_frames = 1 + rd8(in), .number_of_channels = 1 + (b >> 4) % 4, .timestamp = ts};
        size_t len = (size_t)init.number_of_frames * init.number_of_channels * abytes(format);
        uint8_t *buf = malloc(len);
        if (!buf) abort();
        fill(buf, len, b);
        CHK(mst_frame_create_audio(&init, buf, len, &out), S_OK);
        free(buf);
        check_fresh((uintptr_t)out, "mst_frame_create_audio");
        add_frame(out, MST_KIND_AUDIO);
    }
}

static void op_frame_clone(In *in) {
    Pick p = pick(in, T_FRAME);
    bool null_out = rd8(in) == 0xff;
    MstFrame *out = SENTINEL_FRAME;
    MstStatus st = CHK(mst_frame_clone((const MstFrame *)p.v, null_out ? NULL : &out), S_OK | S_HANDLE);
    if (null_out) {
        ENSURE(st != MST_OK, "NULL out accepted");
        return;
    }
    ENSURE(status_bit(st) & handle_status(&p), "mst_frame_clone gave %s for a handle picked as %d", mst_status_str(st), p.how);
    if (st != MST_OK) {
        ENSURE(out == SENTINEL_FRAME, "a failed clone wrote its out-pointer");
        return;
    }
    check_fresh((uintptr_t)out, "mst_frame_clone");
    int32_t kind = 0;
    CHK(mst_frame_get_kind(out, &kind), S_OK);
    ENSURE(kind == S.frames[p.slot].kind, "a clone has kind %d, its original %d", kind, S.frames[p.slot].kind);
    add_frame(out, kind);
}

/* mst_frame_close (the handle stays, closed) or mst_frame_free (the handle goes). */
static void op_frame_close(In *in) {
    Pick p = pick(in, T_FRAME);
    bool live = p.how == H_LIVE || p.how == H_CLOSED;
    if (rd8(in) & 1) {
        MstStatus st = CHK(mst_frame_close((MstFrame *)p.v), S_OK | S_HANDLE);
        unsigned want = live ? S_OK : handle_status(&p);
        ENSURE(status_bit(st) & want, "mst_frame_close gave %s for a handle picked as %d", mst_status_str(st), p.how);
        if (!live) return;
        S.frames[p.slot].closed = true;
        CHK(mst_frame_close((MstFrame *)p.v), S_OK); /* closing again does nothing */
        MstKind kind = (MstKind)0x77;
        CHK(mst_frame_get_kind((const MstFrame *)p.v, &kind), S_STATE);
        ENSURE(kind == (MstKind)0x77, "a failed call wrote its out-pointer");
        return;
    }
    MstStatus st = CHK(mst_frame_free((MstFrame *)p.v), S_OK | S_ARG | S_STATE);
    unsigned want = p.how == H_NULL || live ? S_OK : handle_status(&p);
    ENSURE(status_bit(st) & want, "mst_frame_free gave %s for a handle picked as %d", mst_status_str(st), p.how);
    if (live) {
        drop_frame_slot(p.slot);
        CHK(mst_frame_free((MstFrame *)p.v), S_STATE); /* freeing again */
    }
}

/* mst_frame_get_kind as the probe of frame handles: its status follows from how it was picked. */
static void op_frame_kind(In *in) {
    Pick p = pick(in, T_FRAME);
    uint8_t b = rd8(in);
    MstKind kind = (MstKind)0x77;
    MstStatus st = CHK(mst_frame_get_kind((const MstFrame *)p.v, b == 0xff ? NULL : &kind), S_OK | S_HANDLE);
    if (b == 0xff) {
        ENSURE(st != MST_OK, "NULL out accepted");
        return;
    }
    ENSURE(status_bit(st) & handle_status(&p), "mst_frame_get_kind gave %s for a handle picked as %d", mst_status_str(st), p.how);
    if (st == MST_OK) ENSURE(kind == S.frames[p.slot].kind, "kind %d, expected %d", kind, S.frames[p.slot].kind);
    else ENSURE(kind == (MstKind)0x77, "a failed call wrote its out-pointer");
}

static void op_frame_info(In *in, bool video) {
    Pick p = pick(in, T_FRAME);
    union {
        MstVideoFrameInfo v;
        MstAudioDataInfo a;
        uint8_t bytes[sizeof(MstVideoFrameInfo) > sizeof(MstAudioDataInfo) ? sizeof(MstVideoFrameInfo) : sizeof(MstAudioDataInfo)];
    } u, before;
    memset(&u, CANARY, sizeof u);
    if (video) u.v.struct_size = sizeof u.v;
    else u.a.struct_size = sizeof u.a;
    before = u;
    MstStatus st = video ? CHK(mst_frame_get_video_info((const MstFrame *)p.v, &u.v), S_OK | S_HANDLE | S_TYPE)
                         : CHK(mst_frame_get_audio_info((const MstFrame *)p.v, &u.a), S_OK | S_HANDLE | S_TYPE);
    if (p.how == H_LIVE) {
        bool right = S.frames[p.slot].kind == (video ? MST_KIND_VIDEO : MST_KIND_AUDIO);
        ENSURE(st == (right ? MST_OK : MST_ERR_TYPE), "info of a live frame gave %s", mst_status_str(st));
    } else {
        ENSURE(status_bit(st) & handle_status(&p) & ~S_OK, "info gave %s for a handle picked as %d", mst_status_str(st), p.how);
    }
    if (st != MST_OK) {
        ENSURE(memcmp(&u, &before, sizeof u) == 0, "a failed info call wrote its out-struct");
        return;
    }
    if (video) {
        MstVideoFrameInfo i = u.v;
        Plane pl[4];
        int n = vplanes(i.format, pl);
        ENSURE(n > 0 && i.num_planes == (uint32_t)n, "format %d with %u planes", i.format, i.num_planes);
        ENSURE(check_rect(i.format, i.visible_rect, i.coded_width, i.coded_height) == VALID,
               "visible rect (%u,%u %ux%u) is not valid in %ux%u", i.visible_rect.x, i.visible_rect.y,
               i.visible_rect.width, i.visible_rect.height, i.coded_width, i.coded_height);
        ENSURE(i.coded_width >= 1 && i.coded_width <= 16384 && i.coded_height >= 1 && i.coded_height <= 16384,
               "coded size %ux%u", i.coded_width, i.coded_height);
        ENSURE(i.display_width > 0 && i.display_height > 0, "display size %ux%u", i.display_width, i.display_height);
    } else {
        MstAudioDataInfo a = u.a;
        ENSURE(abytes(a.format) && a.number_of_frames > 0 && a.number_of_channels > 0 && isfinite(a.sample_rate) &&
                   a.sample_rate > 0,
               "audio info format %d, %u frames, %u channels, rate %g", a.format, a.number_of_frames,
               a.number_of_channels, (double)a.sample_rate);
    }
}

static void video_plane(Pick p, uint32_t plane) {
    const uint8_t *d = (const uint8_t *)SENTINEL_FRAME;
    size_t stride = 12345, len = 54321;
    MstStatus st = CHK(mst_frame_get_video_plane((const MstFrame *)p.v, plane, &d, &stride, &len),
                       S_OK | S_HANDLE | S_TYPE | S_RANGE);
    if (p.how == H_LIVE && S.frames[p.slot].kind == MST_KIND_AUDIO) ENSURE(st == MST_ERR_TYPE, "plane of audio data gave %s", mst_status_str(st));
    if (p.how == H_LIVE && S.frames[p.slot].kind == MST_KIND_VIDEO) {
        MstVideoFrameInfo vi = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHK(mst_frame_get_video_info((const MstFrame *)p.v, &vi), S_OK);
        ENSURE(st == (plane < vi.num_planes ? MST_OK : MST_ERR_RANGE), "plane %u of %u gave %s", plane, vi.num_planes, mst_status_str(st));
    }
    if (st != MST_OK) {
        ENSURE(d == (const uint8_t *)SENTINEL_FRAME && stride == 12345 && len == 54321, "a failed call wrote its out-pointers");
        if (p.how != H_LIVE) ENSURE(status_bit(st) & handle_status(&p), "plane gave %s for a handle picked as %d", mst_status_str(st), p.how);
        return;
    }
    ENSURE(p.how == H_LIVE && S.frames[p.slot].kind == MST_KIND_VIDEO, "mst_frame_get_video_plane succeeded on a handle picked as %d", p.how);
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    CHK(mst_frame_get_video_info((const MstFrame *)p.v, &info), S_OK);
    Plane pl[4];
    int n = vplanes(info.format, pl);
    ENSURE(plane < (uint32_t)n, "plane %u of a %d-plane format was returned", plane, n);
    size_t row = (size_t)row_bytes(pl[plane], info.coded_width), rows = (size_t)plane_rows(pl[plane], info.coded_height);
    ENSURE(d != NULL && stride >= row && len >= stride * (rows - 1) + row,
           "plane %u: stride %zu and %zu readable bytes do not hold %zu rows of %zu", plane, stride, len, rows, row);
    read_all(d, len);
}

static void audio_plane(Pick p, uint32_t plane) {
    const uint8_t *d = (const uint8_t *)SENTINEL_FRAME;
    size_t len = 54321;
    MstStatus st = CHK(mst_frame_get_audio_plane((const MstFrame *)p.v, plane, &d, &len), S_OK | S_HANDLE | S_TYPE | S_RANGE);
    MstAudioDataInfo a = MST_STRUCT_INIT(MstAudioDataInfo);
    size_t np = 0;
    if (p.how == H_LIVE && S.frames[p.slot].kind == MST_KIND_VIDEO) ENSURE(st == MST_ERR_TYPE, "audio plane of a video frame gave %s", mst_status_str(st));
    if (p.how == H_LIVE && S.frames[p.slot].kind == MST_KIND_AUDIO) {
        CHK(mst_frame_get_audio_info((const MstFrame *)p.v, &a), S_OK);
        np = aplanar(a.format) ? a.number_of_channels : 1;
        ENSURE(st == (plane < np ? MST_OK : MST_ERR_RANGE), "audio plane %u of %zu gave %s", plane, np, mst_status_str(st));
    }
    if (st != MST_OK) {
        ENSURE(d == (const uint8_t *)SENTINEL_FRAME && len == 54321, "a failed call wrote its out-pointers");
        if (p.how != H_LIVE) ENSURE(status_bit(st) & handle_status(&p), "audio plane gave %s for a handle picked as %d", mst_status_str(st), p.how);
        return;
    }
    ENSURE(np > 0, "mst_frame_get_audio_plane succeeded on a handle picked as %d", p.how);
    size_t want = (size_t)a.number_of_frames * (aplanar(a.format) ? 1 : a.number_of_channels) * abytes(a.format);
    ENSURE(d != NULL && len == want, "audio plane %u has %zu bytes, expected %zu", plane, len, want);
    read_all(d, len);
    size_t plane_len;
    uint8_t *ref = audio_reference((MstFrame *)p.v, &a, &plane_len);
    if (ref) {
        ENSURE(plane_len == len && memcmp(d, ref + plane * plane_len, len) == 0, "audio plane %u differs from what copy_to copies", plane);
        free(ref);
    }
}

/* Zero-copy plane access of either kind, with the same plane index. */
static void op_plane(In *in) {
    Pick p = pick(in, T_FRAME);
    uint8_t b = rd8(in);
    uint32_t plane = b < 0xf0 ? b % 5 : (b == 0xff ? UINT32_MAX : rd32(in));
    video_plane(p, plane);
    audio_plane(p, plane);
}

/* copy_to options: mostly valid-looking, sometimes off the edges. */
static void rd_copy_options(In *in, const MstVideoFrameInfo *info, MstVideoCopyOptions *o) {
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    uint8_t b = rd8(in);
    switch (b & 3) { /* format */
    case 0:
    case 1: o->format = 0; break;
    case 2: o->format = MST_VIDEO_PIXEL_FORMAT_RGBA + (b >> 2) % 4; break;
    default: o->format = rd_vformat(in); break;
    }
    int32_t fmt = o->format ? o->format : info->format;
    unsigned ax, ay;
    alignment(info->format, &ax, &ay);
    switch ((b >> 4) & 3) { /* rect */
    case 0: break;
    case 1: {
        uint32_t cw = info->coded_width, ch = info->coded_height;
        uint32_t x = cw ? rd16(in) % cw : 0, y = ch ? rd16(in) % ch : 0;
        x -= x % ax;
        y -= y % ay;
        o->rect = (MstRect){x, y, cw > x ? 1 + rd16(in) % (cw - x) : 1, ch > y ? 1 + rd16(in) % (ch - y) : 1};
        break;
    }
    case 2: o->rect = (MstRect){rd8(in), rd8(in), rd8(in), rd8(in)}; break;
    default: o->rect = (MstRect){rd32(in), rd32(in), rd32(in), rd32(in)}; break;
    }
    MstRect r = o->rect.width ? o->rect : info->visible_rect;
    Plane p[4];
    int n = vplanes(fmt, p);
    switch (b >> 6) { /* layout */
    case 0:
    case 1: break;
    case 2: {
        uint8_t lb = rd8(in);
        o->num_planes = (uint32_t)(n ? n : 1);
        uint64_t off = lb % 8, pad = (lb >> 3) % 4;
        for (int k = 0; k < (int)o->num_planes; k++) {
            int i = (lb & 0x20) ? (int)o->num_planes - 1 - k : k;
            Plane pl = i < n ? p[i] : (Plane){1, 1, 1};
            uint64_t stride = sat_add(row_bytes(pl, r.width), pad);
            o->layout[i].offset = (size_t)off;
            o->layout[i].stride = (size_t)stride;
            off = sat_add(off, sat_mul(stride, plane_rows(pl, r.height)));
        }
        if (lb & 0x40) {
            int i = (lb >> 7) ? 0 : (int)(o->num_planes - 1);
            if (lb & 1) o->layout[i].offset = rd_size(in);
            else o->layout[i].stride = rd_size(in);
        }
        break;
    }
    default:
        o->num_planes = rd8(in) % 6;
        for (int i = 0; i < 4; i++) {
            o->layout[i].offset = rd_size(in);
            o->layout[i].stride = rd_size(in);
        }
        break;
    }
}

static void op_video_copy(In *in) {
    Pick p = pick(in, T_FRAME);
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    bool video = p.how == H_LIVE && S.frames[p.slot].kind == MST_KIND_VIDEO;
    if (video) CHK(mst_frame_get_video_info((const MstFrame *)p.v, &info), S_OK);
    else info = (MstVideoFrameInfo){.struct_size = sizeof(MstVideoFrameInfo), .format = MST_VIDEO_PIXEL_FORMAT_I420, .coded_width = 16, .coded_height = 16,
                                    .visible_rect = {0, 0, 16, 16}};
    MstVideoCopyOptions o = MST_STRUCT_INIT(MstVideoCopyOptions);
    rd_copy_options(in, &info, &o);
    uint8_t b = rd8(in);
    const MstVideoCopyOptions *op = (b & 0x0f) == 0x0f ? NULL : &o;
    if (!op) memset(&o, 0, sizeof o);

    /* The model: which error, or which size. */
    int32_t fmt = o.format ? o.format : info.format;
    MstRect r = o.rect.width ? o.rect : info.visible_rect;
    Plane pl[4];
    int n = vplanes(fmt, pl);
    unsigned errs = 0;
    uint64_t needed = 0;
    if (o.num_planes > 4) errs |= S_ARG;
    if (o.format != 0 && !n) errs |= S_ARG;
    if (o.rect.width != 0 && check_rect(info.format, o.rect, info.coded_width, info.coded_height) != VALID) errs |= S_ARG;
    if (n && fmt != info.format && !is_rgb(fmt)) errs |= S_UNSUP;
    if (n && o.num_planes == 0) needed = packed_layout(fmt, r.width, r.height, NULL);
    else if (n && o.num_planes <= 4 && check_layout(fmt, r.width, r.height, o.num_planes, o.layout, &needed) == INVALID)
        errs |= S_ARG;

    size_t size = 777;
    MstStatus st = CHK(mst_frame_video_allocation_size((const MstFrame *)p.v, op, &size),
                       S_OK | S_HANDLE | S_TYPE | S_ARG | S_UNSUP);
    if (p.how == H_LIVE && !video) ENSURE(st == MST_ERR_TYPE || (errs && st == MST_ERR_INVALID_ARG), "allocation size of audio data gave %s", mst_status_str(st));
    if (p.how != H_LIVE && !errs) ENSURE(status_bit(st) & handle_status(&p) & ~S_OK, "allocation size gave %s for a handle picked as %d", mst_status_str(st), p.how);
    if (video) {
        if (errs) {
            ENSURE(st != MST_OK, "allocation size accepted invalid options (format %d, rect %u,%u %ux%u, %u planes)",
                   o.format, o.rect.x, o.rect.y, o.rect.width, o.rect.height, o.num_planes);
            if ((errs & (errs - 1)) == 0) ENSURE(status_bit(st) == errs, "allocation size gave %s", mst_status_str(st));
        } else {
            ENSURE(st == MST_OK, "allocation size refused valid options: %s", mst_last_error_message());
            ENSURE(size == needed, "allocation size %zu, WebCodecs computes %llu", size, (unsigned long long)needed);
        }
    }
    if (st != MST_OK) ENSURE(size == 777, "a failed allocation size wrote its out-pointer");

    /* The destination: the size asked for (plus canaries), or short, or none. */
    size_t dlen;
    bool exact = false;
    switch ((b >> 4) & 3) {
    case 0:
    case 1: dlen = st == MST_OK ? size : 64; exact = st == MST_OK; break;
    case 2: dlen = st == MST_OK && size ? size - 1 - (b >> 6) % (size < 4 ? 1 : 4) : rd8(in); break;
    default: dlen = rd16(in); break;
    }
    if (dlen > DEST_CAP) dlen = 64, exact = false;
    bool null_dest = (b & 0x0f) == 0x0e;
    uint8_t *dest = malloc(dlen + GUARD);
    if (!dest) abort();
    memset(dest, CANARY, dlen + GUARD);
    MstPlaneLayouts layouts;
    memset(&layouts, CANARY, sizeof layouts);
    layouts.struct_size = sizeof layouts;
    MstPlaneLayouts canary_layouts = layouts;
    bool want_layouts = !(b & 0x80) || !exact;
    MstStatus st2 = CHK(mst_frame_video_copy_to((const MstFrame *)p.v, null_dest ? NULL : dest, dlen, op,
                                                want_layouts ? &layouts : NULL),
                        S_OK | S_HANDLE | S_TYPE | S_ARG | S_UNSUP);
    if (st != MST_OK && !null_dest) ENSURE(st2 != MST_OK, "copy_to succeeded where allocation size failed with %s", mst_status_str(st));
    if (null_dest) ENSURE(st2 != MST_OK, "copy_to accepted a NULL destination");
    if (st == MST_OK && !null_dest) {
        if (dlen >= size) ENSURE(st2 == MST_OK, "copy_to into %zu bytes (allocation size %zu) failed: %s", dlen, size, mst_last_error_message());
        else ENSURE(st2 == MST_ERR_INVALID_ARG, "copy_to into %zu bytes, allocation size %zu, gave %s", dlen, size, mst_status_str(st2));
    }
    for (size_t i = 0; i < GUARD; i++)
        ENSURE(dest[dlen + i] == CANARY, "copy_to wrote past the %zu bytes it was given (allocation size %zu)", dlen, size);
    if (st2 != MST_OK) {
        for (size_t i = 0; i < dlen; i++) ENSURE(dest[i] == CANARY, "a failed copy_to wrote into the destination");
        ENSURE(memcmp(&layouts, &canary_layouts, sizeof layouts) == 0, "a failed copy_to wrote out_layout");
        free(dest);
        return;
    }
    for (size_t i = size; i < dlen; i++) ENSURE(dest[i] == CANARY, "copy_to wrote byte %zu, past its allocation size %zu", i, size);
    if (want_layouts) {
        ENSURE(layouts.count == (uint32_t)n, "copy_to reports %u planes, the format has %d", layouts.count, n);
        for (int i = 0; i < n; i++) {
            uint64_t row = row_bytes(pl[i], r.width), rows = plane_rows(pl[i], r.height);
            const MstPlaneLayout *l = &layouts.planes[i];
            ENSURE(l->stride >= row && sat_add(l->offset, sat_add(sat_mul(l->stride, rows - 1), row)) <= size,
                   "copy_to's plane %d (offset %zu, stride %zu) leaves the allocation size %zu", i, l->offset, l->stride, size);
            if (o.num_planes && op) ENSURE(l->offset == o.layout[i].offset && l->stride == o.layout[i].stride, "copy_to did not use the layout it was given");
        }
        if (fmt == info.format) { /* a plain copy: the bytes are the frame's */
            Plane src[4];
            vplanes(info.format, src);
            for (int i = 0; i < n; i++) {
                const uint8_t *d = NULL;
                size_t stride = 0, len = 0;
                CHK(mst_frame_get_video_plane((const MstFrame *)p.v, (uint32_t)i, &d, &stride, &len), S_OK);
                size_t start = (r.y / src[i].sy) * stride + (r.x / src[i].sx) * src[i].bps;
                size_t row = (size_t)row_bytes(src[i], r.width), rows = (size_t)plane_rows(src[i], r.height);
                for (size_t y = 0; y < rows; y++)
                    ENSURE(memcmp(dest + layouts.planes[i].offset + y * layouts.planes[i].stride, d + start + y * stride, row) == 0,
                           "copy_to's plane %d row %zu differs from the frame's (rect %u,%u %ux%u)", i, y, r.x, r.y, r.width, r.height);
            }
        }
    }
    free(dest);
}

static void op_audio_copy(In *in) {
    Pick p = pick(in, T_FRAME);
    MstAudioDataInfo a = MST_STRUCT_INIT(MstAudioDataInfo);
    bool audio = p.how == H_LIVE && S.frames[p.slot].kind == MST_KIND_AUDIO;
    if (audio) CHK(mst_frame_get_audio_info((const MstFrame *)p.v, &a), S_OK);
    MstAudioCopyOptions o = MST_STRUCT_INIT(MstAudioCopyOptions);
    uint8_t b = rd8(in);
    o.plane_index = (b & 3) == 3 ? rd32(in) : rd8(in) % 4;
    o.frame_offset = (b & 4) ? (uint32_t)rd_count(in) : ((b & 8) ? rd8(in) : 0);
    o.frame_count = (b & 16) ? (uint32_t)rd_count(in) : 0;
    o.format = (b & 32) ? rd_aformat(in) : 0;
    bool null_opts = (b & 0xc0) == 0xc0;
    const MstAudioCopyOptions *op = null_opts ? NULL : &o;
    if (null_opts) memset(&o, 0, sizeof o);

    int32_t fmt = o.format ? o.format : a.format;
    unsigned errs = 0;
    uint64_t expect = 0, count = 0;
    if (o.format && !abytes(o.format)) errs |= S_ARG;
    else if (audio) {
        if (aplanar(fmt) ? o.plane_index >= a.number_of_channels : o.plane_index > 0) errs |= S_RANGE;
        if (o.frame_offset >= a.number_of_frames) errs |= S_RANGE;
        else {
            count = a.number_of_frames - o.frame_offset;
            if (o.frame_count > count) errs |= S_RANGE;
            else if (o.frame_count) count = o.frame_count;
        }
        expect = count * (aplanar(fmt) ? 1 : a.number_of_channels) * abytes(fmt);
    }
    size_t size = 777;
    MstStatus st = CHK(mst_frame_audio_allocation_size((const MstFrame *)p.v, op, &size),
                       S_OK | S_HANDLE | S_TYPE | S_ARG | S_RANGE);
    if (audio) {
        if (errs) {
            ENSURE(st != MST_OK, "audio allocation size accepted plane %u offset %u count %u format %d of %u x %u",
                   o.plane_index, o.frame_offset, o.frame_count, o.format, a.number_of_frames, a.number_of_channels);
            if ((errs & (errs - 1)) == 0) ENSURE(status_bit(st) == errs, "audio allocation size gave %s", mst_status_str(st));
        } else {
            ENSURE(st == MST_OK, "audio allocation size refused valid options: %s", mst_last_error_message());
            ENSURE(size == expect, "audio allocation size %zu, expected %llu", size, (unsigned long long)expect);
        }
    } else if (p.how == H_LIVE) {
        ENSURE(st == MST_ERR_TYPE || (errs && st == MST_ERR_INVALID_ARG), "audio allocation size of a video frame gave %s", mst_status_str(st));
    }
    if (st != MST_OK) ENSURE(size == 777, "a failed allocation size wrote its out-pointer");

    uint8_t d = rd8(in);
    size_t dlen;
    switch (d & 3) {
    case 0:
    case 1: dlen = st == MST_OK ? size : 64; break;
    case 2: dlen = st == MST_OK && size ? size - 1 : rd8(in); break;
    default: dlen = rd16(in); break;
    }
    if (dlen > DEST_CAP) dlen = 64;
    bool null_dest = (d & 0xfc) == 0xfc;
    uint8_t *dest = malloc(dlen + GUARD);
    if (!dest) abort();
    memset(dest, CANARY, dlen + GUARD);
    MstStatus st2 = CHK(mst_frame_audio_copy_to((const MstFrame *)p.v, null_dest ? NULL : dest, dlen, op),
                        S_OK | S_HANDLE | S_TYPE | S_ARG | S_RANGE);
    if (null_dest) ENSURE(st2 != MST_OK, "copy_to accepted a NULL destination");
    if (st != MST_OK && !null_dest) ENSURE(st2 != MST_OK, "copy_to succeeded where allocation size failed");
    if (st == MST_OK && !null_dest) {
        if (dlen >= size) ENSURE(st2 == MST_OK, "audio copy_to into %zu bytes (allocation size %zu) failed: %s", dlen, size, mst_last_error_message());
        else ENSURE(st2 == MST_ERR_RANGE, "audio copy_to into %zu of %zu bytes gave %s", dlen, size, mst_status_str(st2));
    }
    for (size_t i = 0; i < GUARD; i++) ENSURE(dest[dlen + i] == CANARY, "audio copy_to wrote past its destination");
    if (st2 != MST_OK) {
        for (size_t i = 0; i < dlen; i++) ENSURE(dest[i] == CANARY, "a failed audio copy_to wrote into the destination");
        free(dest);
        return;
    }
    for (size_t i = size; i < dlen; i++) ENSURE(dest[i] == CANARY, "audio copy_to wrote past its allocation size");
    if (audio && fmt == a.format) { /* a plain copy: the bytes are the frame's */
        size_t plane_len;
        uint8_t *ref = audio_reference((MstFrame *)p.v, &a, &plane_len);
        if (ref) {
            unsigned bps = abytes(fmt);
            size_t per = aplanar(fmt) ? 1 : a.number_of_channels;
            const uint8_t *want = ref + (aplanar(fmt) ? o.plane_index * plane_len : 0) + (size_t)o.frame_offset * per * bps;
            ENSURE(memcmp(dest, want, size) == 0, "audio copy_to (plane %u, offset %u, count %u) differs from the full copy",
                   o.plane_index, o.frame_offset, o.frame_count);
            free(ref);
        }
    }
    free(dest);
}

/* ---------------------------------------------------------------------------------------- */
/* Generators and tracks                                                                      */

static int add_track(MstTrack *h, int32_t kind, int src) {
    int i = free_slot(T_TRACK);
    if (i < 0) {
        CHK(mst_track_free(h), S_OK);
        add_dead(T_TRACK, (uintptr_t)h);
        return -1;
    }
    S.tracks[i] = (TrackSlot){h, kind, src, -1};
    return i;
}

static void op_generator_create(In *in) {
    uint8_t b = rd8(in);
    int32_t kind = b < 0xf0 ? 1 + b % 2 : (b == 0xf0 ? 0 : b == 0xf1 ? 3 : b == 0xf2 ? -1 : (int32_t)rd32(in));
    bool null_out = b == 0xff;
    MstGenerator *out = (MstGenerator *)SENTINEL_FRAME;
    MstStatus st = CHK(mst_generator_create(kind, null_out ? NULL : &out), S_OK | S_NULL | S_TYPE);
    if (null_out) {
        ENSURE(st != MST_OK, "NULL out accepted");
        return;
    }
    bool valid = kind == MST_KIND_AUDIO || kind == MST_KIND_VIDEO;
    ENSURE(st == (valid ? MST_OK : MST_ERR_TYPE), "mst_generator_create(%d) gave %s", kind, mst_status_str(st));
    if (st != MST_OK) {
        ENSURE(out == (MstGenerator *)SENTINEL_FRAME, "a failed call wrote its out-pointer");
        return;
    }
    check_fresh((uintptr_t)out, "mst_generator_create");
    GenSlot fresh = {out, kind, S.nsrc++, false};
    MstWritableState state = writable_state(&fresh);
    bool muted = true;
    CHK(mst_generator_get_muted(out, &muted), S_OK);
    ENSURE(state == MST_WRITABLE_STATE_WRITABLE && !muted, "a new generator is in state %d or muted (%d)", (int)state,
           muted);
    int i = free_slot(T_GEN);
    if (i < 0) {
        CHK(mst_generator_free(out), S_OK);
        add_dead(T_GEN, (uintptr_t)out);
        return;
    }
    S.gens[i] = fresh;
}

static void op_generator_track(In *in) {
    Pick g = pick(in, T_GEN);
    MstTrack *out = (MstTrack *)SENTINEL_FRAME;
    MstStatus st = CHK(mst_generator_get_track((const MstGenerator *)g.v, &out), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&g), "mst_generator_get_track gave %s for a handle picked as %d", mst_status_str(st), g.how);
    if (st != MST_OK) {
        ENSURE(out == (MstTrack *)SENTINEL_FRAME, "a failed call wrote its out-pointer");
        return;
    }
    check_fresh((uintptr_t)out, "mst_generator_get_track");
    MstKind kind = 0;
    CHK(mst_track_get_kind(out, &kind), S_OK);
    ENSURE(kind == S.gens[g.slot].kind, "the generator's track has kind %d, the generator %d", kind, S.gens[g.slot].kind);
    add_track(out, kind, S.gens[g.slot].src);
}

/* writeFrame as a Streams write: on a writable writable, a frame of the generator's kind is
 * sent (MST_OK) and anything else the sink rejects (the other kind, a closed or freed frame, not
 * a frame) is MST_ERR_TYPE and errors the writable; a closed or errored writable refuses every
 * write with MST_ERR_TYPE and stays as it is; NULL is MST_ERR_NULL_ARG and changes nothing. */
static void op_generator_write(In *in) {
    Pick g = pick(in, T_GEN);
    Pick f = pick(in, T_FRAME);
    GenSlot *gs = g.how == H_LIVE ? &S.gens[g.slot] : NULL;
    MstWritableState before = gs ? writable_state(gs) : (MstWritableState)0;
    MstStatus st = CHK(mst_generator_write((MstGenerator *)g.v, (MstFrame *)f.v), S_OK | S_HANDLE | S_TYPE);
    if (gs) {
        unsigned want;
        if (f.how == H_NULL) want = S_NULL;
        else if (before != MST_WRITABLE_STATE_WRITABLE) want = S_TYPE;
        else if (f.how == H_LIVE) want = S.frames[f.slot].kind == gs->kind ? S_OK : S_TYPE;
        else want = S_TYPE;
        ENSURE(status_bit(st) & want,
               "writing a frame picked as %d (kind %d) to a live %s generator (state %d) gave %s", f.how,
               f.how == H_LIVE ? S.frames[f.slot].kind : 0, gs->kind == MST_KIND_VIDEO ? "video" : "audio", (int)before,
               mst_status_str(st));
        if (st == MST_ERR_TYPE && before == MST_WRITABLE_STATE_WRITABLE) gs->errored = true;
        if (st == MST_ERR_TYPE && before == MST_WRITABLE_STATE_ERRORED)
            ENSURE(strstr(mst_last_error_message(), "errored by an earlier write") != NULL,
                   "a write to an errored writable says \"%s\"", mst_last_error_message());
        MstWritableState after = writable_state(gs);
        if (before != MST_WRITABLE_STATE_WRITABLE) ENSURE(after == before, "a refused write moved the writable from state %d to %d", (int)before, (int)after);
    } else {
        ENSURE(st != MST_OK, "writing to a generator picked as %d succeeded", g.how);
    }
    if (f.how != H_LIVE) return;
    if (st == MST_OK) {
        /* Sent and closed: the handle stays until freed, answering "closed". */
        S.frames[f.slot].closed = true;
        MstKind kind = (MstKind)0x77;
        CHK(mst_frame_get_kind((const MstFrame *)f.v, &kind), S_STATE);
    } else {
        MstKind kind = 0;
        CHK(mst_frame_get_kind((const MstFrame *)f.v, &kind), S_OK);
        ENSURE(kind == S.frames[f.slot].kind, "a frame refused by writeFrame changed kind");
    }
}

/* After closeWritable: the generator is closed and every track of its source and their
 * processors have ended. */
static void check_source_ended(int src) {
    for (int i = 0; i < MAX_TRACKS; i++) {
        if (!S.tracks[i].h || S.tracks[i].src != src) continue;
        MstReadyState rs = 0;
        CHK(mst_track_get_ready_state(S.tracks[i].h, &rs), S_OK);
        ENSURE(rs == MST_READY_STATE_ENDED, "a track of a closed generator is still live");
    }
    for (int i = 0; i < MAX_PROCS; i++) {
        if (!S.procs[i].h || S.procs[i].src != src) continue;
        MstProcessorStats s = MST_STRUCT_INIT(MstProcessorStats);
        CHK(mst_processor_get_stats(S.procs[i].h, &s), S_OK);
        ENSURE(s.ended && s.queued == 0, "a processor of a closed generator has ended=%d queued=%llu", s.ended,
               (unsigned long long)s.queued);
    }
}

/* closeWritable: closes a writable or closed writable; an errored one refuses with its stored
 * error (MST_ERR_TYPE) and stays errored. */
static void op_generator_close(In *in) {
    Pick g = pick(in, T_GEN);
    MstStatus st = CHK(mst_generator_close((MstGenerator *)g.v), S_OK | S_HANDLE | S_TYPE);
    unsigned want = g.how == H_LIVE && S.gens[g.slot].errored ? S_TYPE : handle_status(&g);
    ENSURE(status_bit(st) & want, "mst_generator_close gave %s for a handle picked as %d", mst_status_str(st), g.how);
    if (g.how != H_LIVE) return;
    MstWritableState state = writable_state(&S.gens[g.slot]);
    if (st != MST_OK) {
        ENSURE(state == MST_WRITABLE_STATE_ERRORED, "a refused close left the writable in state %d", (int)state);
        return;
    }
    ENSURE(state == MST_WRITABLE_STATE_CLOSED, "a closed generator is in state %d", (int)state);
    check_source_ended(S.gens[g.slot].src);
}

static void op_generator_muted(In *in) {
    Pick g = pick(in, T_GEN);
    bool muted = rd8(in) & 1;
    MstStatus st = CHK(mst_generator_set_muted((MstGenerator *)g.v, muted), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&g), "mst_generator_set_muted gave %s for a handle picked as %d", mst_status_str(st), g.how);
    bool got = !muted;
    st = CHK(mst_generator_get_muted((const MstGenerator *)g.v, &got), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&g), "mst_generator_get_muted gave %s for a handle picked as %d", mst_status_str(st), g.how);
    if (st != MST_OK) {
        ENSURE(got == !muted, "a failed call wrote its out-pointer");
        return;
    }
    ENSURE(got == muted, "muted reads %d after setting %d", got, muted);
    for (int i = 0; i < MAX_TRACKS; i++) {
        if (!S.tracks[i].h || S.tracks[i].src != S.gens[g.slot].src) continue;
        MstReadyState rs = 0;
        bool tm = !muted;
        CHK(mst_track_get_ready_state(S.tracks[i].h, &rs), S_OK);
        CHK(mst_track_get_muted(S.tracks[i].h, &tm), S_OK);
        if (rs == MST_READY_STATE_LIVE) ENSURE(tm == muted, "a live track of a generator muted=%d reads muted=%d", muted, tm);
    }
}

static void op_generator_free(In *in) {
    Pick g = pick(in, T_GEN);
    MstStatus st = CHK(mst_generator_free((MstGenerator *)g.v), S_OK | S_ARG | S_STATE);
    unsigned want = g.how == H_NULL ? S_OK : handle_status(&g);
    ENSURE(status_bit(st) & want, "mst_generator_free gave %s for a handle picked as %d", mst_status_str(st), g.how);
    if (g.how == H_LIVE) {
        add_dead(T_GEN, g.v);
        S.gens[g.slot].h = NULL;
        MstWritableState state = (MstWritableState)0;
        CHK(mst_generator_get_state((const MstGenerator *)g.v, &state), S_STATE);
        check_source_ended(S.gens[g.slot].src); /* freeing ends the tracks, errored or not */
    }
}

static void op_track_clone(In *in) {
    Pick t = pick(in, T_TRACK);
    MstTrack *out = (MstTrack *)SENTINEL_FRAME;
    MstStatus st = CHK(mst_track_clone((const MstTrack *)t.v, &out), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&t), "mst_track_clone gave %s for a handle picked as %d", mst_status_str(st), t.how);
    if (st != MST_OK) {
        ENSURE(out == (MstTrack *)SENTINEL_FRAME, "a failed call wrote its out-pointer");
        return;
    }
    check_fresh((uintptr_t)out, "mst_track_clone");
    MstReadyState a = 0, b = 0;
    CHK(mst_track_get_ready_state((const MstTrack *)t.v, &a), S_OK);
    CHK(mst_track_get_ready_state(out, &b), S_OK);
    if (a == MST_READY_STATE_ENDED) ENSURE(b == MST_READY_STATE_ENDED, "the clone of an ended track is live");
    const char *id1 = NULL, *id2 = NULL;
    CHK(mst_track_get_id((const MstTrack *)t.v, &id1), S_OK);
    CHK(mst_track_get_id(out, &id2), S_OK);
    ENSURE(id1 && id2 && strcmp(id1, id2) != 0, "a clone has its original's id");
    add_track(out, S.tracks[t.slot].kind, S.tracks[t.slot].src);
}

static void op_track_stop(In *in) {
    Pick t = pick(in, T_TRACK);
    MstReadyState before = 0;
    int reg = t.how == H_LIVE ? S.tracks[t.slot].ended_reg : -1;
    bool armed = false;
    if (t.how == H_LIVE) {
        CHK(mst_track_get_ready_state((const MstTrack *)t.v, &before), S_OK);
        armed = reg >= 0 && before == MST_READY_STATE_LIVE && S.regs[reg].registered && !S.regs[reg].fired &&
                !S.regs[reg].destroyed && S.regs[reg].must_fire;
    }
    MstStatus st = CHK(mst_track_stop((MstTrack *)t.v), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&t), "mst_track_stop gave %s for a handle picked as %d", mst_status_str(st), t.how);
    if (st != MST_OK) return;
    MstReadyState rs = 0;
    MstEndReason why = 0;
    CHK(mst_track_get_ready_state((const MstTrack *)t.v, &rs), S_OK);
    CHK(mst_track_get_end_reason((const MstTrack *)t.v, &why), S_OK);
    ENSURE(rs == MST_READY_STATE_ENDED, "a stopped track is live");
    ENSURE(why >= MST_END_REASON_STOPPED && why <= MST_END_REASON_ERROR, "a stopped track has end reason %d", why);
    if (before == MST_READY_STATE_LIVE) ENSURE(why == MST_END_REASON_STOPPED, "a live track stopped with reason %d", why);
    if (armed) ENSURE(S.regs[reg].fired == 1, "stopping a live track did not run its ended callback");
}

static void op_track_free(In *in) {
    Pick t = pick(in, T_TRACK);
    MstStatus st = CHK(mst_track_free((MstTrack *)t.v), S_OK | S_ARG | S_STATE);
    unsigned want = t.how == H_NULL ? S_OK : handle_status(&t);
    ENSURE(status_bit(st) & want, "mst_track_free gave %s for a handle picked as %d", mst_status_str(st), t.how);
    if (t.how == H_LIVE) {
        add_dead(T_TRACK, t.v);
        S.tracks[t.slot].h = NULL;
        CHK(mst_track_free((MstTrack *)t.v), S_STATE);
    }
}

static void op_track_enabled(In *in) {
    Pick t = pick(in, T_TRACK);
    bool on = rd8(in) & 1;
    MstStatus st = CHK(mst_track_set_enabled((MstTrack *)t.v, on), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&t), "mst_track_set_enabled gave %s for a handle picked as %d", mst_status_str(st), t.how);
    bool got = !on;
    st = CHK(mst_track_get_enabled((const MstTrack *)t.v, &got), S_OK | S_HANDLE);
    if (st == MST_OK) ENSURE(got == on, "enabled reads %d after setting %d", got, on);
    else ENSURE(got == !on, "a failed call wrote its out-pointer");
}

static void rd_range(In *in, MstConstrainRange *r) {
    uint8_t b = rd8(in);
    r->present = b & 0x80 ? (b & 0x40 ? rd32(in) : (uint32_t)(b & 0x3f)) : (uint32_t)(b & 0xf);
    r->min = (r->present & MST_CONSTRAIN_MIN) ? rd_double(in) : 0;
    r->max = (r->present & MST_CONSTRAIN_MAX) ? rd_double(in) : 0;
    r->exact = (r->present & MST_CONSTRAIN_EXACT) ? rd_double(in) : 0;
    r->ideal = (r->present & MST_CONSTRAIN_IDEAL) ? rd_double(in) : 0;
}

static bool same_range(const MstConstrainRange *a, const MstConstrainRange *b) {
    if (a->present != b->present) return false;
    const double av[4] = {a->min, a->max, a->exact, a->ideal}, bv[4] = {b->min, b->max, b->exact, b->ideal};
    for (int i = 0; i < 4; i++)
        if ((a->present & (1u << i)) && memcmp(&av[i], &bv[i], sizeof av[i]) != 0 && !(av[i] == bv[i])) return false;
    return true;
}

/* The camera controls of MstVideoConstraints (since 1.3). */
enum { N_CONTROL_RANGES = 10, N_CONTROL_MODES = 3 };

static MstConstrainRange *control_range(MstVideoConstraints *c, int i) {
    MstConstrainRange *r[N_CONTROL_RANGES] = {&c->brightness, &c->contrast, &c->saturation, &c->sharpness, &c->exposure_time,
                                              &c->color_temperature, &c->focus_distance, &c->zoom, &c->pan, &c->tilt};
    return r[i];
}

static MstConstrainMode *control_mode(MstVideoConstraints *c, int i) {
    MstConstrainMode *m[N_CONTROL_MODES] = {&c->exposure_mode, &c->white_balance_mode, &c->focus_mode};
    return m[i];
}

static bool same_mode(const MstConstrainMode *a, const MstConstrainMode *b) {
    return a->present == b->present && (!(a->present & MST_CONSTRAIN_EXACT) || a->exact == b->exact) &&
           (!(a->present & MST_CONSTRAIN_IDEAL) || a->ideal == b->ideal);
}

static bool same_constraints(const MstVideoConstraints *a, const MstVideoConstraints *b) {
    bool same = same_range(&a->width, &b->width) && same_range(&a->height, &b->height) &&
                same_range(&a->frame_rate, &b->frame_rate) && same_range(&a->aspect_ratio, &b->aspect_ratio) &&
                a->resize_mode == b->resize_mode;
    MstVideoConstraints *ma = (MstVideoConstraints *)a, *mb = (MstVideoConstraints *)b;
    for (int i = 0; i < N_CONTROL_RANGES; i++) same &= same_range(control_range(ma, i), control_range(mb, i));
    for (int i = 0; i < N_CONTROL_MODES; i++) same &= same_mode(control_mode(ma, i), control_mode(mb, i));
    return same;
}

/* A member set to NaN or an infinity: WebIDL's double refuses both (MST_ERR_INVALID_ARG). */
static bool range_has_nonfinite(const MstConstrainRange *r) {
    const double v[4] = {r->min, r->max, r->exact, r->ideal};
    for (int i = 0; i < 4; i++)
        if ((r->present & (1u << i)) && !isfinite(v[i])) return true;
    return false;
}

static void op_track_constraints(In *in) {
    Pick t = pick(in, T_TRACK);
    MstVideoConstraints c = MST_STRUCT_INIT(MstVideoConstraints);
    uint8_t b = rd8(in);
    if (b & 1) rd_range(in, &c.width);
    if (b & 2) rd_range(in, &c.height);
    if (b & 4) rd_range(in, &c.frame_rate);
    if (b & 8) rd_range(in, &c.aspect_ratio);
    switch ((b >> 4) & 7) {
    case 0:
    case 1:
    case 2: c.resize_mode = 0; break;
    case 3: c.resize_mode = MST_RESIZE_MODE_NONE; break;
    case 4:
    case 5: c.resize_mode = MST_RESIZE_MODE_CROP_AND_SCALE; break;
    case 6: c.resize_mode = (int32_t)rd32(in); break;
    default: c.resize_mode = 3; break;
    }
    /* Bit 7: one camera control and perhaps one metering mode (either may be invalid). */
    MstConstrainRange *control = NULL;
    MstConstrainMode *mode = NULL;
    if (b & 0x80) {
        uint8_t k = rd8(in);
        control = control_range(&c, k % N_CONTROL_RANGES);
        rd_range(in, control);
        if (((k >> 4) & 3) < N_CONTROL_MODES) {
            mode = control_mode(&c, (k >> 4) & 3);
            uint8_t m = rd8(in);
            mode->present = m & 0x80 ? m : m & (MST_CONSTRAIN_EXACT | MST_CONSTRAIN_IDEAL);
            mode->exact = (int32_t)(rd8(in) % 6);
            mode->ideal = (int32_t)(rd8(in) % 6);
        }
    }
    bool null_c = b == 0xff;
    MstVideoConstraints before = MST_STRUCT_INIT(MstVideoConstraints);
    if (t.how == H_LIVE) CHK(mst_track_get_constraints((const MstTrack *)t.v, &before), S_OK);
    MstStatus st = CHK(mst_track_apply_constraints((MstTrack *)t.v, null_c ? NULL : &c), S_OK | S_HANDLE | S_OVER);
    if (null_c) {
        ENSURE(st != MST_OK, "NULL constraints accepted");
        return;
    }
    if (t.how != H_LIVE) {
        ENSURE(st != MST_OK, "applyConstraints on a track picked as %d succeeded", t.how);
        return;
    }
    bool bad = c.resize_mode < 0 || c.resize_mode > 2, nonfinite = false;
    const MstConstrainRange *rs[5] = {&c.width, &c.height, &c.frame_rate, &c.aspect_ratio, control ? control : &c.width};
    bool mode_set = mode && mode->present;
    if (mode) {
        bad |= (mode->present & ~(uint32_t)(MST_CONSTRAIN_EXACT | MST_CONSTRAIN_IDEAL)) != 0;
        bad |= (mode->present & MST_CONSTRAIN_EXACT) && (mode->exact < 1 || mode->exact > 4);
        bad |= (mode->present & MST_CONSTRAIN_IDEAL) && (mode->ideal < 1 || mode->ideal > 4);
    }
    for (int i = 0; i < 5; i++) {
        bad |= (rs[i]->present & ~0xfu) != 0;
        nonfinite |= range_has_nonfinite(rs[i]);
    }
    if (bad) ENSURE(st == MST_ERR_INVALID_ARG, "applyConstraints with unknown bits or resize mode %d gave %s", c.resize_mode, mst_status_str(st));
    /* NaN and infinities are MST_ERR_INVALID_ARG, unless another property is overconstrained
     * first. */
    if (nonfinite)
        ENSURE(st == MST_ERR_INVALID_ARG || st == MST_ERR_OVERCONSTRAINED, "applyConstraints with a non-finite value gave %s",
               mst_status_str(st));
    bool any = c.width.present || c.height.present || c.frame_rate.present || c.aspect_ratio.present || c.resize_mode ||
               (control && control->present) || mode_set;
    if (!bad && !nonfinite && any && S.tracks[t.slot].kind == MST_KIND_AUDIO)
        ENSURE(st == MST_ERR_OVERCONSTRAINED, "an audio track accepted a video constraint (%s)", mst_status_str(st));
    bool ideal_only = true;
    for (int i = 0; i < 5; i++) ideal_only &= (rs[i]->present & ~(uint32_t)MST_CONSTRAIN_IDEAL) == 0;
    if (mode) ideal_only &= (mode->present & ~(uint32_t)MST_CONSTRAIN_IDEAL) == 0;
    if (!bad && !nonfinite && ideal_only && S.tracks[t.slot].kind == MST_KIND_VIDEO) /* ideal never overconstrains */
        ENSURE(st == MST_OK, "a video track refused ideal-only constraints: %s", mst_last_error_message());
    MstVideoConstraints after;
    memset(&after, 0x5a, sizeof after);
    after.struct_size = sizeof after;
    CHK(mst_track_get_constraints((const MstTrack *)t.v, &after), S_OK);
    if (st == MST_OK) ENSURE(same_constraints(&after, &c), "getConstraints differs from the constraints just applied");
    else ENSURE(same_constraints(&after, &before), "a failed applyConstraints changed the constraints");
}

static void op_track_settings(In *in) {
    Pick t = pick(in, T_TRACK);
    MstSettings s, canary;
    memset(&s, CANARY, sizeof s);
    s.struct_size = sizeof s;
    canary = s;
    MstStatus st = CHK(mst_track_get_settings((const MstTrack *)t.v, &s), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&t), "mst_track_get_settings gave %s for a handle picked as %d", mst_status_str(st), t.how);
    if (st != MST_OK) {
        ENSURE(memcmp(&s, &canary, sizeof s) == 0, "a failed call wrote its out-struct");
        return;
    }
    ENSURE((s.present & ~0xffu) == 0, "settings present %#x", s.present);
    if (s.present & MST_SETTING_WIDTH) ENSURE(s.width >= 1 && s.width <= 16384, "settings width %u", s.width);
    if (s.present & MST_SETTING_HEIGHT) ENSURE(s.height >= 1 && s.height <= 16384, "settings height %u", s.height);
    if (s.present & MST_SETTING_RESIZE_MODE) ENSURE(s.resize_mode == 1 || s.resize_mode == 2, "resize mode %d", s.resize_mode);
}

static void op_track_capabilities(In *in) {
    Pick t = pick(in, T_TRACK);
    MstCapabilities c, canary;
    memset(&c, CANARY, sizeof c);
    c.struct_size = sizeof c;
    canary = c;
    MstStatus st = CHK(mst_track_get_capabilities((const MstTrack *)t.v, &c), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&t), "mst_track_get_capabilities gave %s for a handle picked as %d", mst_status_str(st), t.how);
    if (st != MST_OK) {
        ENSURE(memcmp(&c, &canary, sizeof c) == 0, "a failed call wrote its out-struct");
        return;
    }
    if (S.tracks[t.slot].kind == MST_KIND_AUDIO) ENSURE(c.present == 0, "an audio generator track has capabilities %#x", c.present);
    if (c.present & MST_SETTING_WIDTH) ENSURE(c.width_min <= c.width_max, "width capability %u..%u", c.width_min, c.width_max);
    if (c.present & MST_SETTING_HEIGHT) ENSURE(c.height_min <= c.height_max, "height capability %u..%u", c.height_min, c.height_max);
}

/* The other getters; mst_track_get_kind is the probe of track handles. */
static void op_track_getters(In *in) {
    Pick t = pick(in, T_TRACK);
    unsigned want = handle_status(&t);
    MstKind kind = (MstKind)0x77;
    MstStatus st = CHK(mst_track_get_kind((const MstTrack *)t.v, &kind), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & want, "mst_track_get_kind gave %s for a handle picked as %d", mst_status_str(st), t.how);
    if (st != MST_OK) {
        ENSURE(kind == (MstKind)0x77, "a failed call wrote its out-pointer");
        return;
    }
    ENSURE(kind == S.tracks[t.slot].kind, "track kind %d, expected %d", kind, S.tracks[t.slot].kind);
    const char *id = NULL, *label = NULL;
    bool muted, enabled;
    MstReadyState rs = 0;
    MstEndReason why = 0;
    CHK(mst_track_get_id((const MstTrack *)t.v, &id), S_OK);
    CHK(mst_track_get_label((const MstTrack *)t.v, &label), S_OK);
    CHK(mst_track_get_muted((const MstTrack *)t.v, &muted), S_OK);
    CHK(mst_track_get_enabled((const MstTrack *)t.v, &enabled), S_OK);
    CHK(mst_track_get_ready_state((const MstTrack *)t.v, &rs), S_OK);
    CHK(mst_track_get_end_reason((const MstTrack *)t.v, &why), S_OK);
    ENSURE(id && strlen(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-', "track id \"%s\" is not a UUID", id ? id : "(NULL)");
    ENSURE(label && label[0] == '\0', "a generator track has label \"%s\"", label ? label : "(NULL)");
    ENSURE(rs == MST_READY_STATE_LIVE || rs == MST_READY_STATE_ENDED, "ready state %d", rs);
    ENSURE((rs == MST_READY_STATE_LIVE) == (why == MST_END_REASON_NONE), "ready state %d with end reason %d", rs, why);
    ENSURE(why >= MST_END_REASON_NONE && why <= MST_END_REASON_ERROR, "end reason %d", why);
    MstStatus s2 = CHK(mst_track_get_id((const MstTrack *)t.v, NULL), S_NULL);
    (void)s2;
}

static Reg *new_reg(void) {
    for (int i = 0; i < MAX_REGS; i++)
        if (!S.regs[i].used) {
            memset(&S.regs[i], 0, sizeof S.regs[i]);
            S.regs[i].used = true;
            return &S.regs[i];
        }
    return NULL;
}

static Reg *as_reg(void *user_data) {
    Reg *r = user_data;
    ENSURE(r >= S.regs && r < S.regs + MAX_REGS && r->used, "a callback got user_data %p", user_data);
    ENSURE(!r->destroyed, "a callback ran after its destroy-notify");
    return r;
}

static void on_ended(void *user_data, MstEndReason reason) {
    Reg *r = as_reg(user_data);
    ENSURE(r->ended_kind, "an ended callback got a mute registration");
    ENSURE(r->fired == 0, "an ended callback ran twice");
    ENSURE(reason >= MST_END_REASON_STOPPED && reason <= MST_END_REASON_ERROR, "ended callback with reason %d", reason);
    r->fired++;
}

static void on_mute(void *user_data, bool muted) {
    Reg *r = as_reg(user_data);
    ENSURE(!r->ended_kind, "a mute callback got an ended registration");
    ENSURE(muted != r->last_muted, "a mute callback reported muted=%d twice in a row", muted);
    r->last_muted = muted;
    r->fired++;
}

static void on_destroy(void *user_data) {
    Reg *r = user_data;
    ENSURE(r >= S.regs && r < S.regs + MAX_REGS && r->used, "a destroy-notify got user_data %p", user_data);
    ENSURE(!r->destroyed, "a destroy-notify ran twice");
    r->destroyed = 1;
}

static void op_track_callback(In *in) {
    Pick t = pick(in, T_TRACK);
    uint8_t b = rd8(in);
    Reg *r = new_reg();
    if (!r) return;
    r->ended_kind = !(b & 1);
    bool null_cb = (b & 6) == 6;
    MstReadyState rs = 0;
    if (t.how == H_LIVE) {
        CHK(mst_track_get_ready_state((const MstTrack *)t.v, &rs), S_OK);
        CHK(mst_track_get_muted((const MstTrack *)t.v, &r->last_muted), S_OK);
    }
    MstStatus st = r->ended_kind
                       ? CHK(mst_track_set_ended_callback((MstTrack *)t.v, null_cb ? NULL : on_ended, r, on_destroy), S_OK | S_HANDLE)
                       : CHK(mst_track_set_mute_callback((MstTrack *)t.v, null_cb ? NULL : on_mute, r, on_destroy), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&t), "set callback gave %s for a handle picked as %d", mst_status_str(st), t.how);
    if (st != MST_OK) {
        ENSURE(r->fired == 0, "a failed registration ran its callback");
        ENSURE(r->destroyed == 1, "a failed registration did not run its destroy-notify");
        r->used = false;
        return;
    }
    r->registered = true;
    /* Only a callback registered on a live track through this handle must fire at stop. */
    r->must_fire = r->ended_kind && !null_cb && rs == MST_READY_STATE_LIVE;
    if (r->ended_kind) S.tracks[t.slot].ended_reg = (int)(r - S.regs);
}

/* ---------------------------------------------------------------------------------------- */
/* Processors                                                                                 */

/* The discards of frames that had reached the queue (the rest happened before it). */
static uint64_t discarded_in_queue(const MstProcessorStats *s) {
    return s->discarded_queue_full + s->discarded_superseded + s->discarded_closed;
}

static void check_stats(ProcSlot *p, const MstProcessorStats *s) {
    uint64_t in_queue = discarded_in_queue(s);
    ENSURE(s->total == s->delivered + in_queue + s->queued,
           "processor stats total %llu != delivered %llu + discarded in the queue %llu + queued %llu",
           (unsigned long long)s->total, (unsigned long long)s->delivered, (unsigned long long)in_queue,
           (unsigned long long)s->queued);
    ENSURE(s->discarded == in_queue + s->discarded_muted + s->discarded_disabled + s->discarded_decimated + s->discarded_failed,
           "processor stats discarded %llu is not the sum of its reasons", (unsigned long long)s->discarded);
    ENSURE(s->pending_reads == 0, "%u pending reads, but no read ever waits here", s->pending_reads);
    ENSURE(p->latest_only ? s->discarded_queue_full == 0 : s->discarded_superseded == 0,
           "a %s processor discarded %llu frames as queue-full and %llu as superseded",
           p->latest_only ? "latest-only" : "queueing", (unsigned long long)s->discarded_queue_full,
           (unsigned long long)s->discarded_superseded);
    ENSURE(s->discarded_disabled == 0 && s->discarded_failed == 0, "discarded %llu disabled, %llu failed",
           (unsigned long long)s->discarded_disabled, (unsigned long long)s->discarded_failed);
    ENSURE(s->queued <= s->max_buffer_size, "queued %llu > max_buffer_size %u", (unsigned long long)s->queued, s->max_buffer_size);
    ENSURE(s->max_buffer_size >= 1, "max_buffer_size 0");
    bool video = p->kind == MST_KIND_VIDEO;
    uint32_t cap = video ? MST_PROCESSOR_MAX_VIDEO_BUFFER : MST_PROCESSOR_MAX_AUDIO_BUFFER;
    uint32_t want = p->latest_only ? 1
                    : p->asked == 0 ? (video ? MST_PROCESSOR_DEFAULT_VIDEO_BUFFER : MST_PROCESSOR_DEFAULT_AUDIO_BUFFER)
                                    : (p->asked < cap ? p->asked : cap);
    ENSURE(s->max_buffer_size == want, "max_buffer_size %u for a request of %u (expected %u)", s->max_buffer_size, p->asked, want);
    const MstProcessorStats *l = &p->last;
    ENSURE(s->total >= l->total && s->delivered >= l->delivered && s->discarded >= l->discarded &&
               s->discarded_queue_full >= l->discarded_queue_full && s->discarded_superseded >= l->discarded_superseded &&
               s->discarded_closed >= l->discarded_closed && s->discarded_muted >= l->discarded_muted &&
               s->discarded_decimated >= l->discarded_decimated,
           "processor counters went down");
    ENSURE(p->reported <= s->discarded, "the frames read report %llu discards, the stats %llu",
           (unsigned long long)p->reported, (unsigned long long)s->discarded);
    ENSURE(!p->last.ended || s->ended, "an ended processor is live again");
    ENSURE(p->last.max_buffer_size == 0 || p->last.max_buffer_size == s->max_buffer_size, "max_buffer_size changed");
    if (s->ended) ENSURE(s->queued == 0, "an ended processor still queues %llu frames", (unsigned long long)s->queued);
    p->last = *s;
}

static void poll_check(ProcSlot *p) {
    if (p->fd < 0) return;
    MstProcessorStats s = MST_STRUCT_INIT(MstProcessorStats);
    CHK(mst_processor_get_stats(p->h, &s), S_OK);
    check_stats(p, &s);
    struct pollfd pfd = {p->fd, POLLIN, 0};
    int r = poll(&pfd, 1, 0);
    ENSURE(r >= 0, "poll on the processor fd failed: %s", strerror(errno));
    bool ready = r == 1 && (pfd.revents & POLLIN);
    ENSURE(!(pfd.revents & POLLNVAL), "the processor fd %d is not open", p->fd);
    ENSURE(ready == (s.queued > 0 || s.ended), "the processor fd is %sreadable with %llu queued, ended=%d", ready ? "" : "not ",
           (unsigned long long)s.queued, s.ended);
}

static void op_processor_create(In *in) {
    Pick t = pick(in, T_TRACK);
    uint8_t b = rd8(in);
    static const uint32_t edge[] = {0, 1, 32, 33, 1000, 1001, UINT32_MAX, 2, 65535, 65536, 100000, 65537};
    uint32_t max = b < 0x80 ? b % 40 : (b < 0xf0 ? edge[(b & 15) % 12] : rd32(in));
    /* The options: mostly a struct of this header's size; NULL (the defaults) when max is 0;
     * sometimes a flag (MST_PROCESSOR_LATEST_ONLY, or an unknown one), a struct_size below the
     * 1.0 size, or a larger struct whose tail is zero (fine) or not (a newer caller asking for
     * what this libmst lacks). A max above 65535 in valid options is EnforceRange's TypeError. */
    struct {
        MstProcessorOptions o;
        uint8_t tail[8];
    } opts;
    memset(&opts, 0, sizeof opts);
    opts.o.struct_size = sizeof opts.o;
    opts.o.max_buffer_size = max;
    uint8_t mode = rd8(in);
    unsigned options_status = S_OK;
    switch (mode % 16) {
    case 10: opts.o.flags = MST_PROCESSOR_LATEST_ONLY; break;
    case 11:
        opts.o.flags = 1u << (mode >> 4 & 31);
        options_status = opts.o.flags == MST_PROCESSOR_LATEST_ONLY ? S_OK : S_ARG;
        break;
    case 12: opts.o.struct_size = mode >> 4 & 7; options_status = S_ARG; break;
    case 13: opts.o.struct_size = sizeof opts; break;
    case 14: opts.o.struct_size = sizeof opts; opts.tail[mode >> 4 & 7] = 1; options_status = S_UNSUP; break;
    default: break;
    }
    const MstProcessorOptions *options = max == 0 && mode % 16 < 10 ? NULL : &opts.o;
    if (options_status == S_OK && max > 65535) options_status = S_TYPE;
    MstProcessor *out = (MstProcessor *)SENTINEL_FRAME;
    MstStatus st = CHK(mst_processor_create((const MstTrack *)t.v, options, &out), S_OK | S_NULL | S_TYPE | S_ARG | S_UNSUP);
    unsigned want = t.how == H_LIVE ? options_status : t.how == H_NULL ? S_NULL : t.how == H_GARBAGE ? S_TYPE | S_NULL : S_TYPE;
    ENSURE(status_bit(st) & want, "mst_processor_create gave %s for a track picked as %d, options mode %u", mst_status_str(st),
           t.how, mode % 16);
    if (st != MST_OK) {
        ENSURE(out == (MstProcessor *)SENTINEL_FRAME, "a failed call wrote its out-pointer");
        return;
    }
    check_fresh((uintptr_t)out, "mst_processor_create");
    int i = free_slot(T_PROC);
    ProcSlot p = {out, S.tracks[t.slot].kind, S.tracks[t.slot].src, max,
                  (opts.o.flags & MST_PROCESSOR_LATEST_ONLY) != 0, 0, 0, -1, false, {0}};
    MstProcessorStats s = MST_STRUCT_INIT(MstProcessorStats);
    CHK(mst_processor_get_stats(out, &s), S_OK);
    check_stats(&p, &s);
    ENSURE(s.total == 0, "a new processor counts %llu frames", (unsigned long long)s.total);
    MstReadyState rs = 0;
    CHK(mst_track_get_ready_state((const MstTrack *)t.v, &rs), S_OK);
    if (rs == MST_READY_STATE_ENDED) ENSURE(s.ended, "a processor on an ended track is live");
    if (i < 0) {
        CHK(mst_processor_free(out), S_OK);
        add_dead(T_PROC, (uintptr_t)out);
        return;
    }
    S.procs[i] = p;
}

static void op_processor_read(In *in) {
    Pick p = pick(in, T_PROC);
    bool null_out = rd8(in) == 0xff;
    MstProcessorStats before = MST_STRUCT_INIT(MstProcessorStats);
    ProcSlot *ps = p.how == H_LIVE ? &S.procs[p.slot] : NULL;
    if (ps) {
        CHK(mst_processor_get_stats(ps->h, &before), S_OK);
        check_stats(ps, &before);
    }
    MstFrame *out = SENTINEL_FRAME;
    MstStatus st = CHK(mst_processor_read((MstProcessor *)p.v, 0, null_out ? NULL : &out), S_OK | S_AGAIN | S_ENDED | S_INTR | S_HANDLE);
    if (null_out) {
        ENSURE(st != MST_OK, "NULL out accepted");
        return;
    }
    if (!ps) {
        ENSURE(status_bit(st) & handle_status(&p) & ~S_OK, "read gave %s for a processor picked as %d", mst_status_str(st), p.how);
        return;
    }
    unsigned want = before.queued ? S_OK : before.ended ? S_ENDED : (S_AGAIN | (ps->woken ? S_INTR : 0));
    ENSURE(status_bit(st) & want, "read with %llu queued, ended=%d gave %s", (unsigned long long)before.queued, before.ended,
           mst_status_str(st));
    if (st == MST_ERR_INTERRUPTED) ps->woken = false;
    if (st != MST_OK) {
        ENSURE(out == SENTINEL_FRAME, "a failed read wrote its out-pointer");
        poll_check(ps);
        return;
    }
    check_fresh((uintptr_t)out, "mst_processor_read");
    MstKind kind = 0;
    CHK(mst_frame_get_kind(out, &kind), S_OK);
    ENSURE(kind == ps->kind, "a %d processor delivered a frame of kind %d", ps->kind, kind);
    uint64_t seq, discarded_before;
    if (kind == MST_KIND_VIDEO) {
        MstVideoFrameInfo i = MST_STRUCT_INIT(MstVideoFrameInfo);
        CHK(mst_frame_get_video_info(out, &i), S_OK);
        seq = i.sequence;
        discarded_before = i.discarded_before;
    } else {
        MstAudioDataInfo a = MST_STRUCT_INIT(MstAudioDataInfo);
        CHK(mst_frame_get_audio_info(out, &a), S_OK);
        seq = a.sequence;
        discarded_before = a.discarded_before;
    }
    ENSURE(seq > ps->last_seq && seq <= before.total, "sequence %llu after %llu, total %llu", (unsigned long long)seq,
           (unsigned long long)ps->last_seq, (unsigned long long)before.total);
    /* One reader: the frames that reached the queue between the last frame read and this one
     * were discarded there, and every discard is reported once. */
    ENSURE(discarded_before >= seq - ps->last_seq - 1, "sequence %llu after %llu, but only %llu discarded before it",
           (unsigned long long)seq, (unsigned long long)ps->last_seq, (unsigned long long)discarded_before);
    ps->last_seq = seq;
    ps->reported += discarded_before;
    MstProcessorStats after = MST_STRUCT_INIT(MstProcessorStats);
    CHK(mst_processor_get_stats(ps->h, &after), S_OK);
    check_stats(ps, &after);
    ENSURE(after.delivered == before.delivered + 1 && after.queued == before.queued - 1 && after.total == before.total,
           "a read moved the counters from %llu/%llu/%llu to %llu/%llu/%llu (delivered/queued/total)",
           (unsigned long long)before.delivered, (unsigned long long)before.queued, (unsigned long long)before.total,
           (unsigned long long)after.delivered, (unsigned long long)after.queued, (unsigned long long)after.total);
    poll_check(ps);
    add_frame(out, kind);
}

/* mst_processor_get_stats as the probe of processor handles. */
static void op_processor_stats(In *in) {
    Pick p = pick(in, T_PROC);
    MstProcessorStats s, canary;
    memset(&s, CANARY, sizeof s);
    s.struct_size = sizeof s;
    canary = s;
    MstStatus st = CHK(mst_processor_get_stats((const MstProcessor *)p.v, &s), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&p), "mst_processor_get_stats gave %s for a handle picked as %d", mst_status_str(st), p.how);
    if (st != MST_OK) {
        ENSURE(memcmp(&s, &canary, sizeof s) == 0, "a failed call wrote its out-struct");
        return;
    }
    check_stats(&S.procs[p.slot], &s);
    poll_check(&S.procs[p.slot]);
}

static void op_processor_close(In *in) {
    Pick p = pick(in, T_PROC);
    MstStatus st = CHK(mst_processor_close((MstProcessor *)p.v), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&p), "mst_processor_close gave %s for a handle picked as %d", mst_status_str(st), p.how);
    if (st != MST_OK) return;
    ProcSlot *ps = &S.procs[p.slot];
    MstProcessorStats s = MST_STRUCT_INIT(MstProcessorStats);
    CHK(mst_processor_get_stats(ps->h, &s), S_OK);
    check_stats(ps, &s);
    ENSURE(s.ended && s.queued == 0, "a closed processor has ended=%d queued=%llu", s.ended, (unsigned long long)s.queued);
    MstFrame *out = SENTINEL_FRAME;
    CHK(mst_processor_read(ps->h, 0, &out), S_ENDED);
    poll_check(ps);
}

static void op_processor_free(In *in) {
    Pick p = pick(in, T_PROC);
    MstStatus st = CHK(mst_processor_free((MstProcessor *)p.v), S_OK | S_ARG | S_STATE);
    unsigned want = p.how == H_NULL ? S_OK : handle_status(&p);
    ENSURE(status_bit(st) & want, "mst_processor_free gave %s for a handle picked as %d", mst_status_str(st), p.how);
    if (p.how == H_LIVE) {
        add_dead(T_PROC, p.v);
        S.procs[p.slot].h = NULL;
        CHK(mst_processor_free((MstProcessor *)p.v), S_STATE);
    }
}

static void op_processor_fd(In *in) {
    Pick p = pick(in, T_PROC);
    int fd = -77;
    MstStatus st = CHK(mst_processor_get_fd((MstProcessor *)p.v, &fd), S_OK | S_HANDLE | S_IO);
    if (p.how != H_LIVE) {
        ENSURE(status_bit(st) & handle_status(&p), "mst_processor_get_fd gave %s for a handle picked as %d", mst_status_str(st), p.how);
    }
    if (st != MST_OK) {
        ENSURE(fd == -77, "a failed call wrote its out-pointer");
        return;
    }
    ProcSlot *ps = &S.procs[p.slot];
    ENSURE(fd >= 0, "mst_processor_get_fd returned fd %d", fd);
    ENSURE(ps->fd < 0 || ps->fd == fd, "mst_processor_get_fd returned %d, earlier %d", fd, ps->fd);
    if (ps->fd < 0) {
        ps->fd = fd;
        if (S.nfds < MAX_FDS) S.fds[S.nfds++] = fd;
    }
    poll_check(ps);
}

static void op_processor_wakeup(In *in) {
    Pick p = pick(in, T_PROC);
    MstStatus st = CHK(mst_processor_wakeup((MstProcessor *)p.v), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&p), "mst_processor_wakeup gave %s for a handle picked as %d", mst_status_str(st), p.how);
    if (st == MST_OK) S.procs[p.slot].woken = true;
}

static void op_misc(In *in) {
    int32_t v = (int32_t)rd32(in);
    const char *s = mst_status_str(v);
    ENSURE(s != NULL && s[0] != '\0', "mst_status_str(%d) is NULL or empty", v);
    read_all((const uint8_t *)s, strlen(s));
    const char *ver = mst_version();
    ENSURE(ver != NULL && strcmp(ver, MST_VERSION_STRING) == 0, "mst_version() is %s, the header says %s", ver ? ver : "(NULL)",
           MST_VERSION_STRING);
    /* Probes of generator handles through the remaining getters. */
    Pick g = pick(in, T_GEN);
    MstWritableState state = (MstWritableState)0x77;
    MstStatus st = CHK(mst_generator_get_state((const MstGenerator *)g.v, &state), S_OK | S_HANDLE);
    ENSURE(status_bit(st) & handle_status(&g), "mst_generator_get_state gave %s for a handle picked as %d", mst_status_str(st), g.how);
    if (st != MST_OK) ENSURE(state == (MstWritableState)0x77, "a failed call wrote its out-pointer");
}

/* contentHint: the values of the track's kind are kept, anything else refused and nothing
 * changes; a clone starts with its original's hint. */
static void op_track_content_hint(In *in) {
    Pick t = pick(in, T_TRACK);
    uint8_t b = rd8(in);
    static const char *const hints[] = {"",      "motion",   "detail", "text",        "speech",    "speech-recognition",
                                        "music", "Motion",   "motion ", "text\t", "mot\xffion", NULL};
    const char *h = hints[(b & 15) % 12];
    const char *before = NULL;
    if (t.how == H_LIVE) CHK(mst_track_get_content_hint((const MstTrack *)t.v, &before), S_OK);
    MstStatus st = CHK(mst_track_set_content_hint((MstTrack *)t.v, h), S_OK | S_HANDLE);
    unsigned want = handle_status(&t);
    if (t.how == H_LIVE) {
        static const char *const video[] = {"", "motion", "detail", "text"};
        static const char *const audio[] = {"", "speech", "speech-recognition", "music"};
        const char *const *valid = S.tracks[t.slot].kind == MST_KIND_VIDEO ? video : audio;
        bool ok = false;
        for (int i = 0; h != NULL && i < 4; i++) ok |= strcmp(h, valid[i]) == 0;
        want = h == NULL ? S_NULL : ok ? S_OK : S_ARG;
    }
    ENSURE(status_bit(st) & want, "mst_track_set_content_hint(\"%s\") gave %s for a track picked as %d", h ? h : "(NULL)",
           mst_status_str(st), t.how);
    const char *after = (const char *)SENTINEL_FRAME;
    MstStatus got = CHK(mst_track_get_content_hint((const MstTrack *)t.v, &after), S_OK | S_HANDLE);
    ENSURE(status_bit(got) & handle_status(&t), "mst_track_get_content_hint gave %s for a track picked as %d",
           mst_status_str(got), t.how);
    if (got != MST_OK) {
        ENSURE(after == (const char *)SENTINEL_FRAME, "a failed call wrote its out-pointer");
        return;
    }
    ENSURE(after != NULL && strcmp(after, st == MST_OK ? h : before) == 0, "contentHint is \"%s\" after setting \"%s\" (%s)",
           after ? after : "(NULL)", h ? h : "(NULL)", mst_status_str(st));
    if (b & 0x80) {
        MstTrack *clone = NULL;
        CHK(mst_track_clone((const MstTrack *)t.v, &clone), S_OK);
        const char *copied = NULL;
        CHK(mst_track_get_content_hint(clone, &copied), S_OK);
        ENSURE(copied != NULL && strcmp(copied, after) == 0, "a clone's contentHint is \"%s\", its original's \"%s\"",
               copied ? copied : "(NULL)", after);
        CHK(mst_track_free(clone), S_OK);
        add_dead(T_TRACK, (uintptr_t)clone);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* One input                                                                                  */

/* ---------------------------------------------------------------------------------------- */
/* Threads, callbacks, and the rest of the API                                                */
/* These ops build objects of their own (not in the model's slots, whose promises assume one
 * thread), drive them from this thread while a second thread or a library callback thread
 * works on them, and check what must hold whatever the interleaving. */

/* The statuses every constructor may give for arguments the harness does not model exactly
 * (device ids, options): any error but MST_ERR_PANIC, and never OK without the object. */
enum { S_ANY_FAIL = S_NULL | S_ARG | S_TYPE | S_STATE | S_RANGE | S_NODEV | S_BUSY | S_IO | S_OVER | S_UNSUP };

/* A small valid frame of `kind` (I420 16x16 or S16 stereo), or NULL when out of memory. */
static MstFrame *small_frame(int32_t kind, int64_t ts) {
    static uint8_t px[16 * 16 * 3 / 2 > 4 * 160 ? 16 * 16 * 3 / 2 : 4 * 160];
    MstFrame *f = NULL;
    MstStatus st;
    if (kind == MST_KIND_VIDEO) {
        MstVideoFrameInit init = {.struct_size = sizeof init, .format = MST_VIDEO_PIXEL_FORMAT_I420, .coded_width = 16,
                                  .coded_height = 16, .timestamp = ts, .duration = 33333};
        st = CHK(mst_frame_create_video(&init, px, 16 * 16 * 3 / 2, &f), S_OK);
    } else {
        MstAudioDataInit init = {.struct_size = sizeof init, .format = MST_AUDIO_SAMPLE_FORMAT_S16, .sample_rate = 48000.0f,
                                 .number_of_frames = 160, .number_of_channels = 2, .timestamp = ts};
        st = CHK(mst_frame_create_audio(&init, px, 4 * 160, &f), S_OK);
    }
    return st == MST_OK ? f : NULL;
}

/* A generator of its own and its track. */
static bool own_generator(int32_t kind, MstGenerator **g, MstTrack **t) {
    if (CHK(mst_generator_create(kind, g), S_OK) != MST_OK) return false;
    if (CHK(mst_generator_get_track(*g, t), S_OK) != MST_OK) {
        CHK(mst_generator_free(*g), S_OK);
        return false;
    }
    return true;
}

static void write_own(MstGenerator *g, int32_t kind, int64_t ts) {
    MstFrame *f = small_frame(kind, ts);
    if (!f) return;
    /* Fails once the writable is closed or its tracks ended: the frame stays the caller's. */
    CHK(mst_generator_write(g, f), S_OK | S_TYPE | S_STATE);
    CHK(mst_frame_free(f), S_OK);
}

static void check_final_stats(const MstProcessorStats *s, uint64_t read) {
    ENSURE(s->total == s->delivered + discarded_in_queue(s) + s->queued,
           "processor stats: total %llu != delivered %llu + discarded in the queue %llu + queued %llu",
           (unsigned long long)s->total, (unsigned long long)s->delivered, (unsigned long long)discarded_in_queue(s),
           (unsigned long long)s->queued);
    ENSURE(s->delivered == read, "processor stats: delivered %llu, the reader got %llu", (unsigned long long)s->delivered,
           (unsigned long long)read);
}

/* The second thread of OP_RACE: reads (timeouts 0 and 1 ms), wakes, polls the stats and the
 * fd, and maybe closes the processor, as its script says, until the processor ends. */
typedef struct {
    MstProcessor *p;
    uint8_t script[8];
    uint64_t read;
    bool closed;
} Race;

static void *race_thread(void *arg) {
    Race *r = arg;
    remember_message();
    for (int i = 0; i < 2000; i++) {
        uint8_t s = r->script[i % 8];
        MstFrame *f = NULL;
        MstStatus st;
        switch (s % 6) {
        case 0:
        case 1:
        case 2:
            st = CHK(mst_processor_read(r->p, (s & 8) ? 1 : 0, &f), S_OK | S_AGAIN | S_TIMEOUT | S_ENDED | S_INTR);
            if (st == MST_OK) {
                r->read++;
                CHK(mst_frame_free(f), S_OK);
            }
            if (st == MST_ERR_ENDED) return NULL;
            break;
        case 3: CHK(mst_processor_wakeup(r->p), S_OK); break;
        case 4: {
            MstProcessorStats stats = MST_STRUCT_INIT(MstProcessorStats);
            CHK(mst_processor_get_stats(r->p, &stats), S_OK);
            int fd = -1;
            CHK(mst_processor_get_fd(r->p, &fd), S_OK);
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            (void)poll(&pfd, 1, 0);
            break;
        }
        default:
            if ((s & 0xF0) == 0xF0 && !r->closed) {
                CHK(mst_processor_close(r->p), S_OK);
                r->closed = true;
            }
            break;
        }
    }
    /* The script ran out: drain until the end the main thread brings. */
    for (;;) {
        MstFrame *f = NULL;
        MstStatus st = CHK(mst_processor_read(r->p, 1, &f), S_OK | S_TIMEOUT | S_ENDED | S_INTR);
        if (st == MST_OK) {
            r->read++;
            CHK(mst_frame_free(f), S_OK);
        }
        if (st == MST_ERR_ENDED) return NULL;
    }
}

/* Two threads on one processor: this one writes, mutes, clones, toggles enabled and stops
 * while the other reads, wakes and closes; at the end (the generator closed, the thread
 * joined) total = delivered + discarded + queued and delivered = what the thread read. */
static void op_race(In *in) {
    uint8_t b = rd8(in);
    int32_t kind = (b & 1) ? MST_KIND_AUDIO : MST_KIND_VIDEO;
    MstGenerator *g;
    MstTrack *t;
    if (!own_generator(kind, &g, &t)) return;
    MstProcessorOptions o = {.struct_size = sizeof o, .max_buffer_size = 1 + rd8(in) % 8, .flags = (b & 2) ? MST_PROCESSOR_LATEST_ONLY : 0};
    MstProcessor *p = NULL;
    if (CHK(mst_processor_create(t, &o, &p), S_OK) != MST_OK) {
        CHK(mst_track_free(t), S_OK);
        CHK(mst_generator_free(g), S_OK);
        return;
    }
    Race r = {.p = p};
    for (int i = 0; i < 8; i++) r.script[i] = rd8(in);
    pthread_t th;
    if (pthread_create(&th, NULL, race_thread, &r) != 0) abort();
    MstTrack *clone = NULL;
    int n = 1 + rd8(in) % 16;
    for (int i = 0; i < n; i++) {
        uint8_t s = rd8(in);
        switch (s % 6) {
        case 0:
        case 1: write_own(g, kind, (int64_t)i * 1000); break;
        case 2: CHK(mst_generator_set_muted(g, (s & 8) != 0), S_OK | S_STATE); break;
        case 3: CHK(mst_track_set_enabled(t, (s & 8) != 0), S_OK); break;
        case 4:
            if (!clone) CHK(mst_track_clone(t, &clone), S_OK);
            else {
                CHK(mst_track_stop(clone), S_OK);
                CHK(mst_track_free(clone), S_OK);
                clone = NULL;
            }
            break;
        default: if (s & 0x10) CHK(mst_track_stop(t), S_OK); break;
        }
    }
    CHK(mst_generator_close(g), S_OK | S_TYPE);
    pthread_join(th, NULL);
    MstProcessorStats s = MST_STRUCT_INIT(MstProcessorStats);
    CHK(mst_processor_get_stats(p, &s), S_OK);
    check_final_stats(&s, r.read);
    CHK(mst_processor_free(p), S_OK);
    if (clone) CHK(mst_track_free(clone), S_OK);
    CHK(mst_track_free(t), S_OK);
    CHK(mst_generator_free(g), S_OK);
}

/* Processor callbacks: a callback thread gets every frame, then NULL once at the end, and the
 * destroy-notify runs exactly once; a callback may call libmst (here: the stats, and sometimes
 * replacing itself with NULL from inside the callback). */
typedef struct {
    _Atomic int frames, ends, destroyed;
    int clear_after; /* 0: never; else set the callback to NULL from inside the n-th call */
    MstProcessor *p;
} CbState;

static void on_frame(void *user_data, MstFrame *frame) {
    CbState *c = user_data;
    remember_message();
    ENSURE(c->destroyed == 0, "a processor callback ran after its destroy-notify");
    if (!frame) {
        ENSURE(c->ends == 0, "a processor callback got NULL (the end) twice");
        c->ends++;
        return;
    }
    ENSURE(c->ends == 0, "a processor callback got a frame after the end");
    int n = ++c->frames;
    /* The main thread may be freeing the processor meanwhile (mst_processor_free waits for
     * this call to return): the handle then answers MST_ERR_INVALID_STATE. */
    MstProcessorStats s = MST_STRUCT_INIT(MstProcessorStats);
    CHK(mst_processor_get_stats(c->p, &s), S_OK | S_STATE);
    CHK(mst_frame_free(frame), S_OK);
    if (c->clear_after == n) CHK(mst_processor_set_callback(c->p, NULL, NULL, NULL), S_OK | S_STATE);
}

static void on_frame_destroy(void *user_data) {
    CbState *c = user_data;
    ENSURE(c->destroyed == 0, "a processor callback's destroy-notify ran twice");
    c->destroyed++;
}

static void op_processor_callback(In *in) {
    uint8_t b = rd8(in);
    int32_t kind = (b & 1) ? MST_KIND_AUDIO : MST_KIND_VIDEO;
    MstGenerator *g;
    MstTrack *t;
    if (!own_generator(kind, &g, &t)) return;
    MstProcessorOptions o = {.struct_size = sizeof o, .max_buffer_size = 1 + rd8(in) % 8, .flags = 0};
    MstProcessor *p = NULL;
    if (CHK(mst_processor_create(t, &o, &p), S_OK) == MST_OK) {
        CbState *c = calloc(1, sizeof *c);
        if (!c) abort();
        c->p = p;
        c->clear_after = (b >> 1) & 3;
        CHK(mst_processor_set_callback(p, on_frame, c, on_frame_destroy), S_OK);
        /* While a callback is set, reads are refused. */
        MstFrame *f = NULL;
        MstStatus st = CHK(mst_processor_read(p, 0, &f), S_STATE | S_OK | S_AGAIN | S_ENDED);
        if (st == MST_OK) CHK(mst_frame_free(f), S_OK); /* the callback cleared itself already */
        int n = rd8(in) % 12;
        for (int i = 0; i < n; i++) write_own(g, kind, (int64_t)i * 1000);
        switch ((b >> 3) & 3) {
        case 0: CHK(mst_generator_close(g), S_OK); break;       /* the end reaches the callback */
        case 1: CHK(mst_processor_set_callback(p, NULL, NULL, NULL), S_OK); break; /* replaced */
        case 2: CHK(mst_processor_close(p), S_OK); break;
        default: break;                                            /* freed while running */
        }
        CHK(mst_processor_free(p), S_OK);
        /* The destroy-notify runs on the callback thread as it exits: waited for (10 s at most). */
        for (int k = 0; k < 10000 && c->destroyed == 0; k++) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        ENSURE(c->destroyed == 1, "a processor callback's destroy-notify did not run once (%d) after mst_processor_free",
               (int)c->destroyed);
        ENSURE(c->ends <= 1, "the end reached the callback %d times", (int)c->ends);
        free(c);
    }
    CHK(mst_track_free(t), S_OK);
    CHK(mst_generator_free(g), S_OK);
}

/* The log callback: replaced or removed, the old one's destroy-notify runs once (maybe later,
 * after a message being delivered returns: checked at the end of the input). */
typedef struct {
    _Atomic int destroyed, messages;
} LogReg;
static LogReg g_logs[MAX_REGS];
static int g_nlogs;

static void on_log(void *user_data, MstLogLevel level, const char *origin, const char *message) {
    LogReg *l = user_data;
    ENSURE(l->destroyed == 0, "the log callback ran after its destroy-notify");
    ENSURE(level >= MST_LOG_ERROR && level <= MST_LOG_DEBUG, "log level %d", (int)level);
    ENSURE(origin && message, "a log message without origin or text");
    read_all((const uint8_t *)origin, strlen(origin));
    read_all((const uint8_t *)message, strlen(message));
    l->messages++;
}

static void on_log_destroy(void *user_data) {
    LogReg *l = user_data;
    ENSURE(l->destroyed == 0, "the log callback's destroy-notify ran twice");
    l->destroyed++;
}

static void op_log(In *in) {
    uint8_t b = rd8(in);
    int32_t level = (b & 0x80) ? (int32_t)rd32(in) : 1 + (b & 3);
    MstStatus st = CHK(mst_set_log_level(level), S_OK | S_ARG);
    ENSURE((st == MST_OK) == (level >= MST_LOG_ERROR && level <= MST_LOG_DEBUG), "mst_set_log_level(%d) gave %s", level,
           mst_status_str(st));
    if (b & 4) {
        CHK(mst_set_log_callback(NULL, NULL, NULL), S_OK);
    } else if (g_nlogs < MAX_REGS) {
        LogReg *l = &g_logs[g_nlogs++];
        CHK(mst_set_log_callback(on_log, l, on_log_destroy), S_OK);
    }
}

/* The device-change callback: replaced or removed, the old one's destroy-notify has run when the
 * call returns, and it is never called after that. */
typedef struct {
    _Atomic int destroyed, calls;
} DevReg;
static DevReg g_devregs[MAX_REGS];
static int g_ndevregs;

static void on_device_change(void *user_data) {
    DevReg *d = user_data;
    ENSURE(d->destroyed == 0, "the device-change callback ran after its destroy-notify");
    d->calls++;
}

static void on_device_change_destroy(void *user_data) {
    DevReg *d = user_data;
    ENSURE(d->destroyed == 0, "the device-change callback's destroy-notify ran twice");
    d->destroyed++;
}

static void check_devregs_destroyed(int keep) {
    for (int i = 0; i < g_ndevregs; i++) {
        if (i == keep) continue;
        ENSURE(g_devregs[i].destroyed == 1, "device-change callback %d: destroy-notify ran %d times after it was replaced", i,
               (int)g_devregs[i].destroyed);
    }
}

static void op_device_change(In *in) {
    if (rd8(in) & 1) {
        CHK(mst_set_device_change_callback(NULL, NULL, NULL), S_OK);
        check_devregs_destroyed(-1);
    } else if (g_ndevregs < MAX_REGS) {
        DevReg *d = &g_devregs[g_ndevregs++];
        CHK(mst_set_device_change_callback(on_device_change, d, on_device_change_destroy), S_OK);
        check_devregs_destroyed(g_ndevregs - 1);
    }
}

/* The kernel thread count: 1 or 2 read back; what mst.h accepts set. */
static void op_kernel_threads(In *in) {
    uint32_t n = rd8(in) & 0x80 ? rd32(in) : rd8(in) % 4;
    MstStatus st = CHK(mst_set_kernel_threads(n), (n == 1 || n == 2) ? S_OK : S_RANGE);
    uint32_t got = 0;
    CHK(mst_get_kernel_threads(&got), S_OK);
    ENSURE(got == 1 || got == 2, "mst_get_kernel_threads() is %u", got);
    if (st == MST_OK) ENSURE(got == n, "mst_set_kernel_threads(%u) then get gives %u", n, got);
    CHK(mst_get_kernel_threads(NULL), S_NULL);
}

/* Device ids the harness tries: none names a device here, the fake ones aside. */
static const char *rd_device_id(In *in, int kind) {
    static const char *const ids[] = {NULL, "", "nope", "default", "null", "hw:99", "/dev/null", "/dev/video99", "v4l2:/dev/video99",
                                      "alsa:hw:99", "fake:", "fake:missing", "\xff\xfe"};
    (void)kind;
    return ids[rd8(in) % (sizeof ids / sizeof ids[0])];
}

/* Enumeration: every index below the count reads, the count itself does not. */
static void op_devices(In *in) {
    uint8_t b = rd8(in);
    MstDeviceList *list = NULL;
    if (b & 1) {
        CHK(mst_devices_enumerate(NULL), S_NULL);
        return;
    }
    if (CHK(mst_devices_enumerate(&list), S_OK) != MST_OK) return;
    size_t n = 0;
    CHK(mst_device_list_get_count(list, &n), S_OK);
    size_t idx = (b & 2) ? n : (b & 4) ? SIZE_MAX : rd8(in);
    MstDeviceInfo info = MST_STRUCT_INIT(MstDeviceInfo);
    MstStatus st = CHK(mst_device_list_get_device(list, idx, &info), idx < n ? S_OK : S_RANGE);
    ENSURE((st == MST_OK) == (idx < n), "device %zu of %zu gave %s", idx, n, mst_status_str(st));
    if (st == MST_OK) {
        ENSURE(info.device_id && info.label && info.group_id, "a device with a NULL string");
        ENSURE(info.kind >= MST_DEVICE_KIND_AUDIO_INPUT && info.kind <= MST_DEVICE_KIND_VIDEO_OUTPUT, "device kind %d", info.kind);
    }
    CHK(mst_device_list_get_count(NULL, &n), S_NULL);
    CHK(mst_device_list_get_device(list, 0, NULL), S_NULL);
    CHK(mst_device_list_free(list), S_OK);
}

/* A track of its own read a little and released (the library's threads run meanwhile). */
static void exercise_own_track(MstTrack *t, In *in) {
    MstProcessorOptions o = {.struct_size = sizeof o, .max_buffer_size = 2, .flags = 0};
    MstProcessor *p = NULL;
    if (CHK(mst_processor_create(t, &o, &p), S_OK | S_STATE) == MST_OK) {
        MstFrame *f = NULL;
        if (CHK(mst_processor_read(p, rd8(in) & 1, &f), S_OK | S_AGAIN | S_TIMEOUT | S_ENDED) == MST_OK) CHK(mst_frame_free(f), S_OK);
        MstProcessorStats s = MST_STRUCT_INIT(MstProcessorStats);
        CHK(mst_processor_get_stats(p, &s), S_OK);
        CHK(mst_processor_free(p), S_OK);
    }
    MstCameraStats cs = MST_STRUCT_INIT(MstCameraStats);
    CHK(mst_track_get_camera_stats(t, &cs), S_OK | S_TYPE);
    MstCaptureStats ks = MST_STRUCT_INIT(MstCaptureStats);
    CHK(mst_track_get_capture_stats(t, &ks), S_OK | S_TYPE);
    if (rd8(in) & 1) CHK(mst_track_stop(t), S_OK);
    CHK(mst_track_free(t), S_OK);
}

/* Sources with threads of their own: the test pattern and the tone (options from the input,
 * edge values included), the camera and microphone (device ids that do not exist here). */
static void op_sources(In *in) {
    uint8_t b = rd8(in);
    MstTrack *t = NULL;
    MstStatus st;
    switch (b % 4) {
    case 0: {
        MstTestPatternOptions o = {.struct_size = sizeof o, .width = 2 * (rd8(in) % 80), .height = 2 * (rd8(in) % 60),
                                   .frame_rate = (b & 0x10) ? rd_double(in) : 1 + rd8(in)};
        if (b & 0x20) o.width = (b & 0x40) ? 16385 : UINT32_MAX;
        st = CHK(mst_track_create_test_pattern((b & 0x80) ? NULL : &o, &t), S_OK | S_NULL | S_ARG | S_UNSUP | S_IO);
        break;
    }
    case 1: {
        MstToneOptions o = {.struct_size = sizeof o, .sample_rate = (b & 0x20) ? rd32(in) : 8000u * (1 + rd8(in) % 12),
                            .channels = rd8(in) % 10, .frequency = rd_double(in), .amplitude = rd_double(in),
                            .format = rd8(in) % 10};
        st = CHK(mst_track_create_tone((b & 0x80) ? NULL : &o, &t), S_OK | S_NULL | S_ARG | S_UNSUP | S_IO);
        break;
    }
    case 2: {
        MstCameraOptions o = {.struct_size = sizeof o, .pixel_format = rd32(in)};
        st = CHK(mst_track_create_camera(rd_device_id(in, MST_DEVICE_KIND_VIDEO_INPUT), NULL, (b & 0x10) ? &o : NULL, &t),
                 S_OK | S_ANY_FAIL);
        break;
    }
    default:
        st = CHK(mst_track_create_microphone(rd_device_id(in, MST_DEVICE_KIND_AUDIO_INPUT), NULL, &t), S_OK | S_ANY_FAIL);
        break;
    }
    if (st == MST_OK) exercise_own_track(t, in);
}

/* Sinks: a file sink (Y4M or WAV in the temporary directory, or a path that cannot be
 * created), an audio playback and a video output (device ids that do not exist here, or
 * ALSA's null device), fed a few frames, stats read, stopped twice, freed. */
static void op_sinks(In *in) {
    uint8_t b = rd8(in);
    int32_t kind = (b & 1) ? MST_KIND_AUDIO : MST_KIND_VIDEO;
    MstGenerator *g;
    MstTrack *t;
    if (!own_generator(kind, &g, &t)) return;
    int n = rd8(in) % 4;
    switch ((b >> 1) % 3) {
    case 0: {
        char path[64];
        snprintf(path, sizeof path, "/tmp/mst-fuzz-api-%ld.out", (long)getpid());
        const char *p = (b & 0x10) ? "/nonexistent/dir/x" : (b & 0x20) ? NULL : path;
        MstFileSink *s = NULL;
        if (CHK(mst_file_sink_open(t, p, &s), S_OK | S_NULL | S_IO) == MST_OK) {
            for (int i = 0; i < n; i++) write_own(g, kind, (int64_t)i * 1000);
            MstFileStats fs = MST_STRUCT_INIT(MstFileStats);
            CHK(mst_file_sink_get_stats(s, &fs), S_OK);
            CHK(mst_file_sink_stop(s), S_OK | S_IO);
            CHK(mst_file_sink_stop(s), S_OK | S_IO);
            CHK(mst_file_sink_get_stats(s, &fs), S_OK);
            ENSURE(fs.frames_written + fs.frames_dropped <= (uint64_t)n, "a file sink wrote %llu frames of %d",
                   (unsigned long long)fs.frames_written, n);
            CHK(mst_file_sink_free(s), S_OK);
        }
        unlink(path);
        break;
    }
    case 1: {
        MstAudioPlayback *pb = NULL;
        if (CHK(mst_audio_playback_open(t, rd_device_id(in, MST_DEVICE_KIND_AUDIO_OUTPUT), &pb), S_OK | S_ANY_FAIL) == MST_OK) {
            for (int i = 0; i < n; i++) write_own(g, kind, (int64_t)i * 1000);
            MstAudioPlaybackStats ps = MST_STRUCT_INIT(MstAudioPlaybackStats);
            CHK(mst_audio_playback_get_stats(pb, &ps), S_OK);
            CHK(mst_audio_playback_stop(pb), S_OK | S_IO);
            CHK(mst_audio_playback_stop(pb), S_OK | S_IO);
            CHK(mst_audio_playback_free(pb), S_OK);
        }
        break;
    }
    default: {
        MstVideoOutput *vo = NULL;
        if (CHK(mst_video_output_open(t, rd_device_id(in, MST_DEVICE_KIND_VIDEO_OUTPUT), &vo), S_OK | S_ANY_FAIL) == MST_OK) {
            for (int i = 0; i < n; i++) write_own(g, kind, (int64_t)i * 1000);
            MstVideoOutputStats vs = MST_STRUCT_INIT(MstVideoOutputStats);
            CHK(mst_video_output_get_stats(vo, &vs), S_OK);
            CHK(mst_video_output_stop(vo), S_OK | S_IO);
            CHK(mst_video_output_stop(vo), S_OK | S_IO);
            CHK(mst_video_output_free(vo), S_OK);
        }
        break;
    }
    }
    CHK(mst_track_free(t), S_OK);
    CHK(mst_generator_free(g), S_OK);
}

/* A model frame's colour space, and the capture statistics of a model track (a generator's:
 * no camera or microphone behind it). */
static void op_frame_color_space(In *in) {
    Pick f = pick(in, T_FRAME);
    MstVideoColorSpace cs = MST_STRUCT_INIT(MstVideoColorSpace);
    MstStatus st = CHK(mst_frame_get_color_space((const MstFrame *)f.v, &cs), S_OK | S_HANDLE | S_TYPE);
    if (f.how == H_LIVE) {
        bool video = S.frames[f.slot].kind == MST_KIND_VIDEO;
        ENSURE((st == MST_OK) == video, "mst_frame_get_color_space on a live %s frame gave %s", video ? "video" : "audio",
               mst_status_str(st));
    } else {
        ENSURE(status_bit(st) & (handle_status(&f) | S_TYPE), "mst_frame_get_color_space gave %s for a frame picked as %d",
               mst_status_str(st), f.how);
    }
    /* No model frame is a camera's: none has a DMA-BUF. */
    int32_t fd = -1;
    MstPlaneLayouts dl = MST_STRUCT_INIT(MstPlaneLayouts);
    st = CHK(mst_frame_get_dmabuf((const MstFrame *)f.v, &fd, &dl), S_UNSUP | S_HANDLE | S_TYPE);
    ENSURE(fd == -1, "mst_frame_get_dmabuf wrote an fd with %s", mst_status_str(st));
    MstPlaneLayout pl = {0, 0};
    st = CHK(mst_frame_get_dmabuf_plane((const MstFrame *)f.v, (uint32_t)f.slot % 5, &fd, &pl),
             S_UNSUP | S_HANDLE | S_TYPE);
    ENSURE(fd == -1, "mst_frame_get_dmabuf_plane wrote an fd with %s", mst_status_str(st));
    Pick t = pick(in, T_TRACK);
    MstCameraStats cam = MST_STRUCT_INIT(MstCameraStats);
    st = CHK(mst_track_get_camera_stats((const MstTrack *)t.v, &cam), S_HANDLE | S_TYPE);
    if (t.how != H_LIVE) ENSURE(status_bit(st) & handle_status(&t), "camera stats gave %s for a track picked as %d", mst_status_str(st), t.how);
    MstCaptureStats cap = MST_STRUCT_INIT(MstCaptureStats);
    st = CHK(mst_track_get_capture_stats((const MstTrack *)t.v, &cap), S_HANDLE | S_TYPE);
    if (t.how != H_LIVE) ENSURE(status_bit(st) & handle_status(&t), "capture stats gave %s for a track picked as %d", mst_status_str(st), t.how);
}

/* The fake devices (issue 14): one added from the input (kind, name, format, pacing, frame
 * count and a script of up to 4 faults; an MJPG camera sends the input's remaining bytes as its
 * JPEG), listed with its id, opened as a camera or microphone through the same code as a real
 * device, read a little while a fault may be injected, and freed before or after its track. */
#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* A fault for a device of this kind: mostly one it can have, with values in range (so that
 * a script of several gets past mst_fake_device_add), sometimes raw bytes. */
static void rd_fault(In *in, MstFault *f, bool video, bool mjpeg) {
    uint8_t b = rd8(in);
    memset(f, 0, sizeof *f);
    f->struct_size = sizeof *f;
    f->at = rd8(in) % 16;
    if ((b & 0xE0) == 0xE0) { /* raw */
        f->kind = (int32_t)rd8(in);
        f->value = (int64_t)rd64(in);
        f->width = rd32(in);
        f->height = rd32(in);
        f->pixel_format = rd32(in);
        f->sample_rate = rd32(in);
        f->channels = rd32(in);
        f->damage = (int32_t)rd8(in);
        return;
    }
    static const int32_t kinds[] = {MST_FAULT_UNPLUG, MST_FAULT_OVERRUN, MST_FAULT_FORMAT_CHANGE, MST_FAULT_STALL,
                                    MST_FAULT_READ_ERROR, MST_FAULT_TIMESTAMP_JUMP, MST_FAULT_DAMAGED_MJPEG};
    f->kind = kinds[b % (mjpeg ? 7 : 6)];
    uint8_t v = rd8(in);
    switch (f->kind) {
    case MST_FAULT_OVERRUN: f->value = v % 8; break;
    /* Stalls are real waits: at most 20 ms, so an input stays fast. */
    case MST_FAULT_STALL: f->value = v * 80; break;
    case MST_FAULT_READ_ERROR: f->value = 1 + v % 120; break;
    case MST_FAULT_TIMESTAMP_JUMP: f->value = (int64_t)(int8_t)v * 100000; break;
    case MST_FAULT_DAMAGED_MJPEG: f->value = 1 + v % 4; f->damage = 1 + rd8(in) % 5; break;
    case MST_FAULT_FORMAT_CHANGE:
        if (video && !mjpeg) {
            static const uint32_t formats[] = {FOURCC('Y', 'U', 'Y', 'V'), FOURCC('N', 'V', '1', '2'), FOURCC('Y', 'U', '1', '2'),
                                               FOURCC('U', 'Y', 'V', 'Y')};
            f->width = 2 + 2 * (v % 40);
            f->height = 2 + 2 * (rd8(in) % 30);
            f->pixel_format = formats[rd8(in) % 4];
        } else {
            f->sample_rate = 8000u * (1 + v % 6);
            f->channels = 1 + rd8(in) % 4;
        }
        break;
    default: break;
    }
}

static void op_fake_device(In *in) {
    uint8_t b = rd8(in);
    bool video = !(b & 1);
    static const char *const names[] = {"fz0", "fz1", "cam", "", NULL, "a/b:c"};
    const char *name = names[rd8(in) % 6];
    static const uint32_t formats[] = {FOURCC('Y', 'U', 'Y', 'V'), FOURCC('N', 'V', '1', '2'), FOURCC('Y', 'U', '1', '2'),
                                       FOURCC('M', 'J', 'P', 'G'), FOURCC('U', 'Y', 'V', 'Y'), 0};
    uint32_t format = formats[rd8(in) % 6];
    bool mjpeg = video && format == FOURCC('M', 'J', 'P', 'G');
    MstFault faults[4];
    size_t nf = rd8(in) % 5;
    for (size_t i = 0; i < nf; i++) rd_fault(in, &faults[i], video, mjpeg);
    MstFakeDeviceInit init = {.struct_size = sizeof init,
                              .kind = (b & 0x80) ? (int32_t)(rd8(in) % 6) : video ? MST_DEVICE_KIND_VIDEO_INPUT : MST_DEVICE_KIND_AUDIO_INPUT,
                              .name = name,
                              .label = (b & 2) ? NULL : "fuzz",
                              .width = 2 + 2 * (rd8(in) % 40),
                              .height = 2 + 2 * (rd8(in) % 30),
                              .pixel_format = format,
                              .bytes_per_line = (b & 4) ? rd8(in) : 0,
                              .frame_rate = (b & 8) ? rd_double(in) : 30.0,
                              .sample_rate = (b & 8) ? rd32(in) : 8000u * (1 + rd8(in) % 6),
                              .channels = (b & 0x10) ? rd8(in) : 1 + rd8(in) % 4,
                              .sample_format = (b & 0x10) ? rd8(in) % 10 : 1 + rd8(in) % 4,
                              .pacing = (b & 0x40) ? (int32_t)rd8(in) % 4 : MST_FAKE_PACING_LOSSLESS,
                              .frame_count = rd8(in) % 24,
                              .faults = nf ? faults : NULL,
                              .num_faults = nf};
    /* An MJPG camera's JPEG: the rest of the input (so the decoder sees fuzzed bytes through
     * the camera path too); the input then ends here. */
    const uint8_t *jpeg = in->p;
    size_t jpeg_len = in->n;
    if (mjpeg && jpeg_len > 0) {
        init.mjpeg_frames = &jpeg;
        init.mjpeg_sizes = &jpeg_len;
        init.num_mjpeg_frames = 1;
        in->p += in->n;
        in->n = 0;
    }
    MstFakeDevice *dev = NULL;
    if (CHK(mst_fake_device_add(&init, &dev), S_OK | S_ANY_FAIL) != MST_OK) return;
    const char *id = NULL;
    CHK(mst_fake_device_get_id(dev, &id), S_OK);
    ENSURE(id && strncmp(id, "fake:", 5) == 0 && name && strcmp(id + 5, name) == 0, "fake device \"%s\" has id \"%s\"",
           name ? name : "(NULL)", id ? id : "(NULL)");
    /* Copied: the caller's id string outlives nothing here. */
    char idbuf[64];
    snprintf(idbuf, sizeof idbuf, "%s", id);
    MstTrack *t = NULL;
    MstStatus st = video ? CHK(mst_track_create_camera(idbuf, NULL, NULL, &t), S_OK | S_ANY_FAIL)
                         : CHK(mst_track_create_microphone(idbuf, NULL, &t), S_OK | S_ANY_FAIL);
    uint8_t s = rd8(in);
    bool reacquiring = false;
    if (st == MST_OK && (s & 0x20)) {
        /* Reacquire: an unplug then mutes the track instead of ending it (the reads below time
         * out); the counters must still add up. Refused once an unplug at frame 0 ended it. */
        uint32_t ms = (s & 1) ? MST_REACQUIRE_FOREVER : 1 + ((s >> 2) & 7);
        reacquiring = CHK(mst_track_set_reacquire(t, ms), S_OK | S_STATE | S_NODEV) == MST_OK;
    }
    if (st == MST_OK) {
        MstProcessorOptions o = {.struct_size = sizeof o, .max_buffer_size = 1 + s % 4, .flags = 0};
        MstProcessor *p = NULL;
        if (CHK(mst_processor_create(t, &o, &p), S_OK) == MST_OK) {
            int reads = 1 + (s >> 2) % 8;
            for (int i = 0; i < reads; i++) {
                if (i == 2 && (s & 0x40)) {
                    MstFault f;
                    rd_fault(in, &f, video, mjpeg);
                    CHK(mst_fake_device_inject(dev, &f), S_OK | S_ARG | S_UNSUP | S_STATE);
                }
                MstFrame *f = NULL;
                MstStatus r = CHK(mst_processor_read(p, 5, &f), S_OK | S_AGAIN | S_TIMEOUT | S_ENDED | S_INTR);
                if (r == MST_OK) CHK(mst_frame_free(f), S_OK);
                if (r == MST_ERR_ENDED) break;
            }
            /* Each counter is its own snapshot (mst_processor_get_stats): they add up once the
             * device's thread can deliver no more, after the processor is closed. */
            CHK(mst_processor_close(p), S_OK);
            MstProcessorStats ps = MST_STRUCT_INIT(MstProcessorStats);
            CHK(mst_processor_get_stats(p, &ps), S_OK);
            ENSURE(ps.total == ps.delivered + discarded_in_queue(&ps) + ps.queued,
                   "fake device processor stats: total %llu != delivered %llu + discarded in the queue %llu + queued %llu",
                   (unsigned long long)ps.total, (unsigned long long)ps.delivered,
                   (unsigned long long)discarded_in_queue(&ps), (unsigned long long)ps.queued);
            CHK(mst_processor_free(p), S_OK);
        }
        MstCameraStats cs = MST_STRUCT_INIT(MstCameraStats);
        CHK(mst_track_get_camera_stats(t, &cs), video ? S_OK : S_TYPE);
        MstCaptureStats ks = MST_STRUCT_INIT(MstCaptureStats);
        CHK(mst_track_get_capture_stats(t, &ks), video ? S_TYPE : S_OK);
        if (s & 0x80) {
            /* The device goes first: its open track ends. */
            CHK(mst_fake_device_free(dev), S_OK);
            dev = NULL;
            MstReadyState rs = 0;
            bool muted = false;
            CHK(mst_track_get_ready_state(t, &rs), S_OK);
            CHK(mst_track_get_muted(t, &muted), S_OK);
            /* Reacquiring, it waits muted (unless its timeout has passed already). */
            ENSURE(rs == MST_READY_STATE_ENDED || (reacquiring && muted), "a track of a freed fake device is still live%s",
                   reacquiring ? " and not muted" : "");
        }
        CHK(mst_track_free(t), S_OK);
    }
    if (dev) {
        MstFault f;
        rd_fault(in, &f, video, mjpeg);
        CHK(mst_fake_device_inject(dev, (s & 2) ? NULL : &f), (s & 2) ? S_NULL : S_OK | S_ARG | S_UNSUP | S_STATE);
        CHK(mst_fake_device_free(dev), S_OK);
        CHK(mst_fake_device_free(dev), S_STATE | S_ARG);
    }
}

enum op {
    OP_CREATE_VIDEO, OP_WRAP_VIDEO, OP_CREATE_AUDIO, OP_WRAP_AUDIO, OP_QUICK_VIDEO, OP_QUICK_AUDIO,
    OP_FRAME_CLONE, OP_FRAME_CLOSE, OP_FRAME_KIND, OP_VIDEO_INFO, OP_AUDIO_INFO, OP_VIDEO_PLANE,
    OP_VIDEO_COPY, OP_AUDIO_COPY, OP_GEN_CREATE, OP_GEN_TRACK, OP_GEN_WRITE, OP_GEN_CLOSE,
    OP_GEN_MUTED, OP_GEN_FREE, OP_TRACK_CLONE, OP_TRACK_STOP, OP_TRACK_FREE, OP_TRACK_ENABLED,
    OP_TRACK_CONSTRAINTS, OP_TRACK_SETTINGS, OP_TRACK_CAPABILITIES, OP_TRACK_GETTERS, OP_TRACK_CALLBACK,
    OP_PROC_CREATE, OP_PROC_READ, OP_PROC_STATS, OP_PROC_CLOSE, OP_PROC_FREE, OP_PROC_FD, OP_PROC_WAKEUP,
    OP_MISC,
    /* Appended after the first 37, whose ids the committed corpus was made with. */
    OP_TRACK_CONTENT_HINT,
    /* Threads, callbacks and the rest of the API (c-tests/fuzz/symbols.sh checks that every
     * exported function is called somewhere here). */
    OP_RACE, OP_PROC_CALLBACK, OP_LOG, OP_KERNEL_THREADS, OP_DEVICES, OP_SOURCES, OP_SINKS, OP_COLOR_SPACE, OP_FAKE_DEVICE,
    OP_DEVICE_CHANGE,
    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "create_video", "wrap_video", "create_audio", "wrap_audio", "quick_video", "quick_audio",
    "frame_clone", "frame_close", "frame_kind", "video_info", "audio_info", "plane",
    "video_copy", "audio_copy", "generator_create", "generator_track", "generator_write", "generator_close",
    "generator_muted", "generator_free", "track_clone", "track_stop", "track_free", "track_enabled",
    "track_constraints", "track_settings", "track_capabilities", "track_getters", "track_callback",
    "processor_create", "processor_read", "processor_stats", "processor_close", "processor_free", "processor_fd",
    "processor_wakeup", "misc", "track_content_hint", "race", "processor_callback", "log", "kernel_threads",
    "devices", "sources", "sinks", "color_space", "fake_device", "device_change",
};

static void run_op(In *in, int op) {
    switch (op) {
    case OP_CREATE_VIDEO: op_create_video(in, false); break;
    case OP_WRAP_VIDEO: op_create_video(in, true); break;
    case OP_CREATE_AUDIO: op_create_audio(in, false); break;
    case OP_WRAP_AUDIO: op_create_audio(in, true); break;
    case OP_QUICK_VIDEO: op_quick_frame(in, true); break;
    case OP_QUICK_AUDIO: op_quick_frame(in, false); break;
    case OP_FRAME_CLONE: op_frame_clone(in); break;
    case OP_FRAME_CLOSE: op_frame_close(in); break;
    case OP_FRAME_KIND: op_frame_kind(in); break;
    case OP_VIDEO_INFO: op_frame_info(in, true); break;
    case OP_AUDIO_INFO: op_frame_info(in, false); break;
    case OP_VIDEO_PLANE: op_plane(in); break;
    case OP_VIDEO_COPY: op_video_copy(in); break;
    case OP_AUDIO_COPY: op_audio_copy(in); break;
    case OP_GEN_CREATE: op_generator_create(in); break;
    case OP_GEN_TRACK: op_generator_track(in); break;
    case OP_GEN_WRITE: op_generator_write(in); break;
    case OP_GEN_CLOSE: op_generator_close(in); break;
    case OP_GEN_MUTED: op_generator_muted(in); break;
    case OP_GEN_FREE: op_generator_free(in); break;
    case OP_TRACK_CLONE: op_track_clone(in); break;
    case OP_TRACK_STOP: op_track_stop(in); break;
    case OP_TRACK_FREE: op_track_free(in); break;
    case OP_TRACK_ENABLED: op_track_enabled(in); break;
    case OP_TRACK_CONSTRAINTS: op_track_constraints(in); break;
    case OP_TRACK_SETTINGS: op_track_settings(in); break;
    case OP_TRACK_CAPABILITIES: op_track_capabilities(in); break;
    case OP_TRACK_GETTERS: op_track_getters(in); break;
    case OP_TRACK_CALLBACK: op_track_callback(in); break;
    case OP_PROC_CREATE: op_processor_create(in); break;
    case OP_PROC_READ: op_processor_read(in); break;
    case OP_PROC_STATS: op_processor_stats(in); break;
    case OP_PROC_CLOSE: op_processor_close(in); break;
    case OP_PROC_FREE: op_processor_free(in); break;
    case OP_PROC_FD: op_processor_fd(in); break;
    case OP_PROC_WAKEUP: op_processor_wakeup(in); break;
    case OP_TRACK_CONTENT_HINT: op_track_content_hint(in); break;
    case OP_RACE: op_race(in); break;
    case OP_PROC_CALLBACK: op_processor_callback(in); break;
    case OP_LOG: op_log(in); break;
    case OP_KERNEL_THREADS: op_kernel_threads(in); break;
    case OP_DEVICES: op_devices(in); break;
    case OP_SOURCES: op_sources(in); break;
    case OP_SINKS: op_sinks(in); break;
    case OP_COLOR_SPACE: op_frame_color_space(in); break;
    case OP_FAKE_DEVICE: op_fake_device(in); break;
    case OP_DEVICE_CHANGE: op_device_change(in); break;
    default: op_misc(in); break;
    }
}

static void release_all(int type) {
    for (int i = 0; i < capacity(type); i++) {
        uintptr_t h = slot_handle(type, i);
        if (!h) continue;
        switch (type) {
        case T_FRAME: CHK(mst_frame_free((MstFrame *)h), S_OK); S.frames[i].h = NULL; break;
        case T_TRACK: CHK(mst_track_free((MstTrack *)h), S_OK); S.tracks[i].h = NULL; break;
        case T_GEN: CHK(mst_generator_free((MstGenerator *)h), S_OK); S.gens[i].h = NULL; break;
        default:
            if (S.procs[i].fd >= 0) poll_check(&S.procs[i]);
            CHK(mst_processor_free((MstProcessor *)h), S_OK);
            S.procs[i].h = NULL;
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    memset(&S, 0, sizeof S);
    if (g_trace < 0) g_trace = getenv("MST_FUZZ_TRACE") != NULL;
    g_clock = 0;
    g_op_index = 0;
    g_op_name = "setup";
    remember_message();
    In in = {data, size};
    uint8_t order = rd8(&in);
    while (in.n > 0 && g_op_index < MAX_OPS) {
        int op = rd8(&in) % OP_COUNT;
        g_op_name = op_names[op];
        run_op(&in, op);
        g_op_index++;
    }

    /* Epilogue: release everything in one of four orders, then nothing may be left. */
    static const int orders[4][T_COUNT] = {
        {T_FRAME, T_PROC, T_TRACK, T_GEN},
        {T_GEN, T_TRACK, T_PROC, T_FRAME},
        {T_TRACK, T_GEN, T_FRAME, T_PROC},
        {T_PROC, T_FRAME, T_GEN, T_TRACK},
    };
    g_op_name = "epilogue";
    for (int k = 0; k < T_COUNT; k++) release_all(orders[order % 4][k]);
    for (int i = 0; i < MAX_WRAPS; i++) {
        Wrap *w = &S.wraps[i];
        if (!w->used) continue;
        if (w->has_release) ENSURE(w->released, "wrapped memory (%zu bytes) was not released after every frame was closed", w->len);
        else free(w->buf); /* a wrap without a release callback */
    }
    for (int i = 0; i < MAX_REGS; i++) {
        Reg *r = &S.regs[i];
        if (r->used && r->registered) ENSURE(r->destroyed == 1, "a callback's destroy-notify did not run after its track was freed");
    }
    /* The log callback goes; every one installed is destroyed exactly once (perhaps on a library
     * thread just finishing a message: waited for, for up to 10 s). */
    CHK(mst_set_log_callback(NULL, NULL, NULL), S_OK);
    for (int i = 0; i < g_nlogs; i++) {
        for (int k = 0; k < 10000 && g_logs[i].destroyed == 0; k++) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        ENSURE(g_logs[i].destroyed == 1, "log callback %d: destroy-notify ran %d times", i, (int)g_logs[i].destroyed);
        g_logs[i].destroyed = 0;
        g_logs[i].messages = 0;
    }
    g_nlogs = 0;
    CHK(mst_set_device_change_callback(NULL, NULL, NULL), S_OK);
    check_devregs_destroyed(-1);
    for (int i = 0; i < g_ndevregs; i++) g_devregs[i].destroyed = g_devregs[i].calls = 0;
    g_ndevregs = 0;
    for (int i = 0; i < S.nfds; i++) {
        errno = 0;
        ENSURE(fcntl(S.fds[i], F_GETFD) == -1 && errno == EBADF, "processor fd %d is still open after mst_processor_free", S.fds[i]);
    }
    return 0;
}
