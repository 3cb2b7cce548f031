/* Bad input, published: every exported function (every line of abi/symbols.txt has a row here,
 * or this test fails) gets, where it applies, NULL for each pointer argument, a stale handle
 * (freed), a foreign handle (the address of a local), a handle of another type, a frame or
 * track of the wrong kind, out-of-range enum values, zero and huge sizes, and a double free.
 * Each call must return a non-OK status listed in the function's Errors line in mst.h, with a
 * message that starts with the function's name and names the argument, and must leave every
 * out-parameter as it was (a canary); the only MST_OK answers allowed are those mst.h promises
 * in the words quoted with them ("NULL is MST_OK", ...).
 *
 * The results make doc/bad-input.md, the published table: this test fails when the committed
 * file differs from what the library answers now. MST_BAD_INPUT_UPDATE=1 rewrites it instead
 * (then review and commit the diff). Handle values in messages print as "0x…": they depend on
 * addresses and on the order handles were made. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#ifndef MST_ROOT_DIR
#error "c-tests/CMakeLists.txt defines MST_ROOT_DIR, the libmst source tree"
#endif

enum { C_NULL, C_STALE, C_FOREIGN, C_WRONG_TYPE, C_WRONG_KIND, C_ENUM, C_ZERO, C_HUGE, C_DOUBLE_FREE, NCOLS };
static const char *const col_names[NCOLS] = {
    "NULL", "stale handle", "foreign handle", "wrong handle type", "wrong kind",
    "out-of-range enum", "zero size", "huge size", "double free",
};

struct row {
    const char *group;
    const char *fn;
    bool no_arguments; /* nothing to pass it: every case is n/a */
    char *cell[NCOLS];
};
static struct row rows[200];
static size_t nrows;
static struct row *cur;
static int findings;
static char *header; /* mst.h with comment prefixes removed and whitespace collapsed */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    CHECK(s != NULL);
    size_t n;
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            s = realloc(s, cap);
            CHECK(s != NULL);
        }
    }
    fclose(f);
    s[len] = '\0';
    return s;
}

static void finding(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FINDING %s: ", cur->fn);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    findings++;
}

static void append(int col, const char *text) {
    char **c = &cur->cell[col];
    size_t old = *c ? strlen(*c) : 0;
    *c = realloc(*c, old + strlen(text) + 5);
    CHECK(*c != NULL);
    if (old) memcpy(*c + old, "<br>", 4), old += 4;
    strcpy(*c + old, text);
}

static void begin(const char *group, const char *fn) {
    CHECK(nrows < sizeof rows / sizeof rows[0]);
    cur = &rows[nrows++];
    cur->group = group;
    cur->fn = fn;
}

/* A function that takes nothing, so no case applies. */
static void begin_no_arguments(const char *group, const char *fn) {
    begin(group, fn);
    cur->no_arguments = true;
}

static void na(int col, const char *why) {
    char text[256];
    snprintf(text, sizeof text, "n/a (%s)", why);
    append(col, text);
}

/* ---- mst.h: each function's doc comment and Errors line -------------------------------- */

static const char *raw_header;

/* The doc comment of `fn` in mst.h, prefixes removed and whitespace collapsed (malloc'd). */
static char *doc_of(const char *fn) {
    size_t n = strlen(fn);
    for (const char *p = strstr(raw_header, fn); p; p = strstr(p + 1, fn)) {
        if (p[n] != '(' || (p[-1] != ' ' && p[-1] != '*')) continue;
        const char *line = p;
        while (line > raw_header && line[-1] != '\n') line--;
        if (*line == ' ' || *line == '/') continue; /* a mention inside a comment */
        const char *end = line;
        while (end > raw_header + 1 && !(end[-2] == '*' && end[-1] == '/')) end--;
        const char *start = end;
        while (start > raw_header + 2 && strncmp(start - 3, "/**", 3) != 0) start--;
        char *doc = malloc((size_t)(end - start) + 1);
        CHECK(doc != NULL);
        size_t k = 0;
        bool space = false;
        for (const char *q = start; q < end - 2; q++) {
            if (*q == '\n') {
                while (q[1] == ' ' || q[1] == '*') {
                    if (q[1] == '*' && q[2] == '/') break;
                    q++;
                }
                space = true;
                continue;
            }
            if (isspace((unsigned char)*q)) {
                space = true;
                continue;
            }
            if (space && k) doc[k++] = ' ';
            space = false;
            doc[k++] = *q;
        }
        doc[k] = '\0';
        return doc;
    }
    return NULL;
}

/* `status` (a name such as "MST_ERR_RANGE") is listed in fn's Errors line, or in that of a
 * function it refers to ("Errors: as mst_frame_create_video()"). */
static bool errors_list(const char *fn, const char *status, int depth) {
    char *doc = doc_of(fn);
    if (doc == NULL) return false;
    char *errors = strstr(doc, "Errors:");
    char *spec = errors ? strstr(errors, " Spec:") : NULL;
    bool found = false;
    if (errors && spec) {
        *spec = '\0';
        size_t n = strlen(status);
        for (const char *p = strstr(errors, status); p && !found; p = strstr(p + 1, status))
            found = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        for (const char *p = strstr(errors, "as mst_"); p && !found && depth < 3; p = strstr(p + 1, "as mst_")) {
            char other[80];
            size_t k = 0;
            for (const char *q = p + 3; (isalnum((unsigned char)*q) || *q == '_') && k + 1 < sizeof other; q++)
                other[k++] = *q;
            other[k] = '\0';
            found = errors_list(other, status, depth + 1);
        }
    }
    free(doc);
    return found;
}

/* ---- Out-parameter canaries ------------------------------------------------------------ */

#define SLOTS 4
#define SLOT_SIZE 2048
static _Alignas(64) unsigned char slots[SLOTS][SLOT_SIZE];
static unsigned char expected[SLOTS][SLOT_SIZE];
static int next_slot;

static void arm(void) {
    memset(slots, 0xa5, sizeof slots);
    memset(expected, 0xa5, sizeof expected);
    next_slot = 0;
}

static void *out_slot(void) {
    CHECK(next_slot < SLOTS);
    return slots[next_slot++];
}

/* An out-struct whose struct_size is `size`; the rest is canary. */
static void *out_struct(uint32_t size) {
    int i = next_slot;
    void *p = out_slot();
    memcpy(slots[i], &size, sizeof size);
    memcpy(expected[i], &size, sizeof size);
    return p;
}
#define OUT(T) ((T *)out_slot())
#define OUTS(T) ((T *)out_struct(sizeof(T)))
#define OUTSZ(T, n) ((T *)out_struct(n))

/* ---- Recording ------------------------------------------------------------------------- */

/* Set for a call whose message states something of this machine (the number of devices): the
 * number after it prints as "N", so the table is the same everywhere. */
static const char *machine_number;

/* Markdown-safe message: handle values as 0x…, no table breaks. */
static void normalize(const char *in, char *out, size_t cap) {
    size_t k = 0;
    for (const char *p = in; *p && k + 8 < cap; p++) {
        size_t m = machine_number ? strlen(machine_number) : 0;
        if (m && strncmp(p, machine_number, m) == 0 && isdigit((unsigned char)p[m])) {
            memcpy(out + k, p, m);
            k += m;
            p += m;
            while (isdigit((unsigned char)p[1])) p++;
            out[k++] = 'N';
            continue;
        }
        size_t digits = 0;
        if (p[0] == '0' && p[1] == 'x')
            while (isxdigit((unsigned char)p[2 + digits])) digits++;
        if (digits >= 9) { /* a handle or an address, not "0x16" in "coded size 0x16" */
            p += 2;
            while (isxdigit((unsigned char)p[1])) p++;
            k += (size_t)snprintf(out + k, cap - k, "0x\xe2\x80\xa6");
        } else if (*p == '|') {
            k += (size_t)snprintf(out + k, cap - k, "\\|");
        } else if (*p == '<') {
            k += (size_t)snprintf(out + k, cap - k, "&lt;");
        } else if (*p == '>') {
            k += (size_t)snprintf(out + k, cap - k, "&gt;");
        } else if (*p == '\n') {
            out[k++] = ' ';
        } else {
            out[k++] = *p;
        }
    }
    out[k] = '\0';
}

static bool contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return false;
}

/* The message names the argument described by `arg` ("`init`->number_of_frames 0"): its
 * name or one of its fields', in C ("number_of_frames") or in words ("number of frames",
 * "frames", "channel" for "channels", "data" for "data_len", "coded" size for coded_width),
 * any case. */
static bool names_argument(const char *msg, const char *arg) {
    char word[80];
    const char *p = arg;
    while (*p) {
        size_t k = 0;
        while (*p && !(isalnum((unsigned char)*p) || *p == '_')) {
            if (*p == ' ') return false; /* the value and comments follow */
            p++;
        }
        while ((isalnum((unsigned char)*p) || *p == '_') && k + 1 < sizeof word) word[k++] = *p++;
        word[k] = '\0';
        if (k == 0) break;
        if (contains_ci(msg, word)) return true;
        char *first_break = strchr(word, '_'), *last_break = strrchr(word, '_');
        if (last_break && contains_ci(msg, last_break + 1)) return true; /* "frames" */
        for (char *q = word; *q; q++)
            if (*q == '_') *q = ' ';
        if (contains_ci(msg, word)) return true;
        if (first_break) {
            *first_break = '\0';
            if (contains_ci(msg, word)) return true; /* "coded" size, "max"BufferSize */
            *first_break = ' ';
        }
        if (k > 4 && strcmp(word + k - 4, " len") == 0) word[k - 4] = '\0';
        else if (word[k - 1] == 's') word[k - 1] = '\0';
        if (contains_ci(msg, word)) return true;
    }
    return false;
}

/* One call's outcome for argument description `arg` in column `col`. `allowed` quotes mst.h's
 * words that make MST_OK the right answer (NULL when an error is). */
static void record(int col, const char *arg, MstStatus st, const char *allowed) {
    char text[1200], msg[900];
    const char *status_text = mst_status_str(st);
    size_t len = strcspn(status_text, ":");
    if (st == MST_OK) {
        if (allowed == NULL) {
            finding("%s (%s) returned MST_OK", arg, col_names[col]);
        } else if (strstr(header, allowed) == NULL) {
            finding("the quoted contract \"%s\" is not in mst.h", allowed);
        }
        snprintf(text, sizeof text, "%s: **MST_OK**, as documented: \xe2\x80\x9c%s\xe2\x80\x9d", arg,
                 allowed ? allowed : "(nothing says so)");
        append(col, text);
        return;
    }
    if (allowed != NULL) finding("%s (%s): %.*s, but mst.h says \"%s\"", arg, col_names[col], (int)len, status_text, allowed);
    if (memcmp(slots, expected, sizeof slots) != 0) finding("%s (%s): an out-parameter was written on error", arg, col_names[col]);
    const char *m = mst_last_error_message();
    normalize(m ? m : "", msg, sizeof msg);
    char status_name[40];
    snprintf(status_name, sizeof status_name, "%.*s", (int)len, status_text);
    size_t fl = strlen(cur->fn);
    if (strncmp(msg, cur->fn, fl) != 0 || strncmp(msg + fl, ": ", 2) != 0 || msg[fl + 2] == '\0')
        finding("%s (%s): the message \"%s\" does not start with \"%s: \"", arg, col_names[col], msg, cur->fn);
    if (!names_argument(msg + (strncmp(msg, cur->fn, fl) == 0 ? fl : 0), arg))
        finding("%s (%s): the message \"%s\" does not name the argument", arg, col_names[col], msg);
    if (!errors_list(cur->fn, status_name, 0))
        finding("%s (%s): %s is not in the Errors line of %s in mst.h", arg, col_names[col], status_name, cur->fn);
    snprintf(text, sizeof text, "%s: **%s** %s", arg, status_name, msg);
    append(col, text);
}

#define TRY(col, arg, call)                                                                    \
    do {                                                                                       \
        arm();                                                                                 \
        MstStatus try_status_ = (call);                                                        \
        record(col, arg, try_status_, NULL);                                                   \
    } while (0)
#define TRY_OK(col, arg, allowed, call)                                                        \
    do {                                                                                       \
        arm();                                                                                 \
        MstStatus try_status_ = (call);                                                        \
        record(col, arg, try_status_, allowed);                                                \
    } while (0)
/* An optional pointer not passed as NULL here (it would open a device), with mst.h's words. */
static void null_allowed(const char *arg, const char *allowed) {
    char text[400];
    if (strstr(header, allowed) == NULL) finding("the quoted contract \"%s\" is not in mst.h", allowed);
    snprintf(text, sizeof text, "%s: allowed: \xe2\x80\x9c%s\xe2\x80\x9d (not called: it would open a device)", arg, allowed);
    append(C_NULL, text);
}

/* ---- The objects ----------------------------------------------------------------------- */

static void *foreign; /* the address of a local in main(): no libmst handle */
static MstTrack *vtrack, *atrack, *stale_track;
static MstFrame *vframe, *aframe, *stale_frame;
static MstGenerator *vgen, *stale_gen;
static MstProcessor *proc, *stale_proc;
static MstDeviceList *list, *stale_list;
static MstFileSink *sink, *stale_sink;
static MstAudioPlayback *playback, *stale_playback;
static MstFakeDevice *fake_camera, *fake_microphone, *stale_fake;
static char sink_path[300], alsa_dir[200];

static uint8_t pixels[64 * 64 * 4];
static float samples[480 * 2];

static void on_frame(void *user_data, MstFrame *frame) {
    (void)user_data;
    mst_frame_free(frame);
}
static void on_ended(void *user_data, MstEndReason reason) {
    (void)user_data;
    (void)reason;
}
static void on_mute(void *user_data, bool muted) {
    (void)user_data;
    (void)muted;
}
static void on_release(void *user_data) { (void)user_data; }

/* Every handle case for argument `arg` of type T, `call` using `H` for it. */
#define HANDLE_CASES(arg, T, stale_h, wrong_h, call)                                           \
    do {                                                                                       \
        { T *H = NULL; TRY(C_NULL, "`" arg "`", call); }                                       \
        if (stale_h) { T *H = (T *)(stale_h); TRY(C_STALE, "`" arg "`", call); }               \
        else na(C_STALE, "no such object can be opened where the tests run");                  \
        { T *H = (T *)foreign; TRY(C_FOREIGN, "`" arg "`", call); }                            \
        { T *H = (T *)(wrong_h); TRY(C_WRONG_TYPE, "`" arg "`", call); }                       \
    } while (0)

/* A _free function: NULL is MST_OK, then foreign, wrong type, double free. */
#define FREE_CASES(arg, T, fn, wrong_h, make_h)                                                \
    do {                                                                                       \
        TRY_OK(C_NULL, "`" arg "`", "NULL is MST_OK", fn(NULL));                               \
        na(C_STALE, "see double free");                                                        \
        TRY(C_FOREIGN, "`" arg "`", fn((T *)foreign));                                         \
        TRY(C_WRONG_TYPE, "`" arg "`", fn((T *)(wrong_h)));                                    \
        T *twice_ = (make_h);                                                                  \
        if (twice_) {                                                                          \
            CHECK_OK(fn(twice_));                                                              \
            TRY(C_DOUBLE_FREE, "`" arg "`", fn(twice_));                                       \
        } else {                                                                               \
            na(C_DOUBLE_FREE, "no such object can be opened where the tests run");             \
        }                                                                                      \
    } while (0)

static MstFrame *new_vframe(void) {
    MstVideoFrameInit init = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 16, 16, 0);
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_video(&init, pixels, 16 * 16 * 3 / 2, &f));
    return f;
}
static MstAudioDataInit audio_init(void) {
    MstAudioDataInit init = MST_STRUCT_INIT(MstAudioDataInit);
    init.format = MST_AUDIO_SAMPLE_FORMAT_F32;
    init.sample_rate = 48000;
    init.number_of_frames = 480;
    init.number_of_channels = 2;
    return init;
}
static MstFrame *new_aframe(void) {
    MstAudioDataInit init = audio_init();
    MstFrame *f = NULL;
    CHECK_OK(mst_frame_create_audio(&init, (const uint8_t *)samples, sizeof samples, &f));
    return f;
}
static MstTrack *new_vtrack(void) {
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_test_pattern(NULL, &t));
    return t;
}
static MstTrack *new_atrack(void) {
    MstTrack *t = NULL;
    CHECK_OK(mst_track_create_tone(NULL, &t));
    return t;
}
static MstGenerator *new_gen(int32_t kind) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(kind, &g));
    return g;
}
static MstProcessor *new_proc(void) {
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(vtrack, NULL, &p));
    return p;
}
static MstDeviceList *new_list(void) {
    MstDeviceList *l = NULL;
    CHECK_OK(mst_devices_enumerate(&l));
    return l;
}
static MstFileSink *new_sink(void) {
    MstFileSink *s = NULL;
    CHECK_OK(mst_file_sink_open(vtrack, sink_path, &s));
    return s;
}
/* alsa-lib's null plugin as a playback device (ALSA_CONFIG_PATH, set before libmst loads
 * alsa-lib's configuration). */
static MstAudioPlayback *new_playback(void) {
    MstAudioPlayback *p = NULL;
    CHECK_OK(mst_audio_playback_open(atrack, "mst_bad_input_null", &p));
    return p;
}

/* A fake device's init with every field valid (the defaults). */
static MstFakeDeviceInit fake_init(const char *name, int32_t kind) {
    MstFakeDeviceInit init = MST_STRUCT_INIT(MstFakeDeviceInit);
    init.kind = kind;
    init.name = name;
    return init;
}
static MstFakeDevice *new_fake(const char *name, int32_t kind) {
    MstFakeDeviceInit init = fake_init(name, kind);
    MstFakeDevice *d = NULL;
    CHECK_OK(mst_fake_device_add(&init, &d));
    return d;
}

static void configure_alsa(void) {
    char conf[300], env[400];
    snprintf(alsa_dir, sizeof alsa_dir, "/tmp/mst-c-bad-input-%ld", (long)getpid());
    snprintf(conf, sizeof conf, "%s.conf", alsa_dir);
    FILE *f = fopen(conf, "w");
    CHECK(f != NULL);
    fputs("pcm.mst_bad_input_null { type null }\n", f);
    CHECK(fclose(f) == 0);
    snprintf(env, sizeof env, "/usr/share/alsa/alsa.conf:%s", conf);
    CHECK_EQ_INT(setenv("ALSA_CONFIG_PATH", env, 1), 0);
}

/* ---- The rows, grouped by object ------------------------------------------------------- */

static void global_rows(void) {
    const char *g = "Library";
    begin_no_arguments(g, "mst_version");
    begin(g, "mst_status_str");
    {
        const char *s = mst_status_str(1000);
        const char *want = "MST_ERR_UNKNOWN: not a status code";
        if (strcmp(s, want) != 0) finding("mst_status_str(1000) is \"%s\"", s);
        if (strstr(header, want) == NULL) finding("mst.h does not promise \"%s\"", want);
        append(C_ENUM, "`status` 1000: returns \xe2\x80\x9cMST_ERR_UNKNOWN: not a status code\xe2\x80\x9d, as documented");
    }
    begin_no_arguments(g, "mst_last_error_message");
    begin_no_arguments(g, "mst_last_error_constraint");
    begin(g, "mst_set_kernel_threads");
    TRY(C_ZERO, "`threads` 0", mst_set_kernel_threads(0));
    TRY(C_HUGE, "`threads` UINT32_MAX", mst_set_kernel_threads(UINT32_MAX));
    begin(g, "mst_get_kernel_threads");
    TRY(C_NULL, "`out`", mst_get_kernel_threads(NULL));
    begin(g, "mst_set_log_callback");
    TRY_OK(C_NULL, "`callback`", "NULL: drop them, the default", mst_set_log_callback(NULL, NULL, NULL));
    begin(g, "mst_set_log_level");
    TRY(C_ENUM, "`level` 0", mst_set_log_level(0));
    TRY(C_ENUM, "`level` 5", mst_set_log_level(5));
}

static void device_rows(void) {
    const char *g = "Devices";
    begin(g, "mst_devices_enumerate");
    TRY(C_NULL, "`out`", mst_devices_enumerate(NULL));
    begin(g, "mst_set_device_change_callback");
    TRY_OK(C_NULL, "`callback`", "NULL: no callback, the default", mst_set_device_change_callback(NULL, NULL, NULL));
    begin(g, "mst_device_list_get_count");
    HANDLE_CASES("list", MstDeviceList, stale_list, vtrack, mst_device_list_get_count(H, OUT(size_t)));
    TRY(C_NULL, "`out`", mst_device_list_get_count(list, NULL));
    begin(g, "mst_device_list_get_device");
    HANDLE_CASES("list", MstDeviceList, stale_list, vtrack, mst_device_list_get_device(H, 0, OUTS(MstDeviceInfo)));
    TRY(C_NULL, "`out`", mst_device_list_get_device(list, 0, NULL));
    TRY(C_ZERO, "`out`->struct_size 0", mst_device_list_get_device(list, 0, OUTSZ(MstDeviceInfo, 0)));
    TRY(C_HUGE, "`out`->struct_size UINT32_MAX", mst_device_list_get_device(list, 0, OUTSZ(MstDeviceInfo, UINT32_MAX)));
    machine_number = " has ";
    TRY(C_HUGE, "`index` SIZE_MAX", mst_device_list_get_device(list, SIZE_MAX, OUTS(MstDeviceInfo)));
    machine_number = NULL;
    begin(g, "mst_device_list_free");
    FREE_CASES("list", MstDeviceList, mst_device_list_free, vtrack, new_list());
}

/* The frame-creating functions share their cases; `wrap` selects the wrap_ variant. */
static MstStatus make_video(bool wrap, const MstVideoFrameInit *init, const uint8_t *data, size_t len, MstFrame **out) {
    return wrap ? mst_frame_wrap_video(init, data, len, on_release, NULL, out) : mst_frame_create_video(init, data, len, out);
}
static MstStatus make_audio(bool wrap, const MstAudioDataInit *init, const uint8_t *data, size_t len, MstFrame **out) {
    return wrap ? mst_frame_wrap_audio(init, data, len, on_release, NULL, out) : mst_frame_create_audio(init, data, len, out);
}

static void video_create_cases(bool wrap) {
    const size_t len = 16 * 16 * 3 / 2;
    MstVideoFrameInit ok = mst_test_video_init(MST_VIDEO_PIXEL_FORMAT_I420, 16, 16, 0), init;
    TRY(C_NULL, "`init`", make_video(wrap, NULL, pixels, len, OUT(MstFrame *)));
    TRY(C_NULL, "`data`", make_video(wrap, &ok, NULL, len, OUT(MstFrame *)));
    TRY(C_NULL, "`out`", make_video(wrap, &ok, pixels, len, NULL));
    init = ok, init.format = 99;
    TRY(C_ENUM, "`init`->format 99", make_video(wrap, &init, pixels, len, OUT(MstFrame *)));
    init = ok, init.color_primaries = 99;
    TRY(C_ENUM, "`init`->color_primaries 99", make_video(wrap, &init, pixels, len, OUT(MstFrame *)));
    init = ok, init.color_range = -1;
    TRY(C_ENUM, "`init`->color_range -1", make_video(wrap, &init, pixels, len, OUT(MstFrame *)));
    TRY(C_ZERO, "`data_len` 0", make_video(wrap, &ok, pixels, 0, OUT(MstFrame *)));
    init = ok, init.struct_size = 0;
    TRY(C_ZERO, "`init`->struct_size 0", make_video(wrap, &init, pixels, len, OUT(MstFrame *)));
    init = ok, init.coded_width = 0;
    TRY(C_ZERO, "`init`->coded_width 0", make_video(wrap, &init, pixels, len, OUT(MstFrame *)));
    TRY(C_HUGE, "`data_len` SIZE_MAX", make_video(wrap, &ok, pixels, SIZE_MAX, OUT(MstFrame *)));
    init = ok, init.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`init`->struct_size UINT32_MAX", make_video(wrap, &init, pixels, len, OUT(MstFrame *)));
    init = ok, init.coded_width = UINT32_MAX;
    TRY(C_HUGE, "`init`->coded_width UINT32_MAX", make_video(wrap, &init, pixels, len, OUT(MstFrame *)));
}

static void audio_create_cases(bool wrap) {
    const uint8_t *data = (const uint8_t *)samples;
    const size_t len = sizeof samples;
    MstAudioDataInit ok = audio_init(), init;
    TRY(C_NULL, "`init`", make_audio(wrap, NULL, data, len, OUT(MstFrame *)));
    TRY(C_NULL, "`data`", make_audio(wrap, &ok, NULL, len, OUT(MstFrame *)));
    TRY(C_NULL, "`out`", make_audio(wrap, &ok, data, len, NULL));
    init = ok, init.format = 99;
    TRY(C_ENUM, "`init`->format 99", make_audio(wrap, &init, data, len, OUT(MstFrame *)));
    TRY(C_ZERO, "`data_len` 0", make_audio(wrap, &ok, data, 0, OUT(MstFrame *)));
    init = ok, init.struct_size = 0;
    TRY(C_ZERO, "`init`->struct_size 0", make_audio(wrap, &init, data, len, OUT(MstFrame *)));
    init = ok, init.number_of_frames = 0;
    TRY(C_ZERO, "`init`->number_of_frames 0", make_audio(wrap, &init, data, len, OUT(MstFrame *)));
    init = ok, init.number_of_channels = 0;
    TRY(C_ZERO, "`init`->number_of_channels 0", make_audio(wrap, &init, data, len, OUT(MstFrame *)));
    init = ok, init.sample_rate = 0;
    TRY(C_ZERO, "`init`->sample_rate 0", make_audio(wrap, &init, data, len, OUT(MstFrame *)));
    TRY(C_HUGE, "`data_len` SIZE_MAX", make_audio(wrap, &ok, data, SIZE_MAX, OUT(MstFrame *)));
    init = ok, init.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`init`->struct_size UINT32_MAX", make_audio(wrap, &init, data, len, OUT(MstFrame *)));
    init = ok, init.number_of_frames = UINT32_MAX;
    TRY(C_HUGE, "`init`->number_of_frames UINT32_MAX", make_audio(wrap, &init, data, len, OUT(MstFrame *)));
    init = ok, init.number_of_channels = UINT32_MAX;
    TRY(C_HUGE, "`init`->number_of_channels UINT32_MAX", make_audio(wrap, &init, data, len, OUT(MstFrame *)));
}

static void frame_rows(void) {
    const char *g = "Frames";
    static uint8_t dest[64 * 64 * 4];
    begin(g, "mst_frame_create_video");
    video_create_cases(false);
    begin(g, "mst_frame_wrap_video");
    video_create_cases(true);
    begin(g, "mst_frame_create_audio");
    audio_create_cases(false);
    begin(g, "mst_frame_wrap_audio");
    audio_create_cases(true);

    begin(g, "mst_frame_clone");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_clone(H, OUT(MstFrame *)));
    TRY(C_NULL, "`out`", mst_frame_clone(vframe, NULL));
    begin(g, "mst_frame_close");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_close(H));
    begin(g, "mst_frame_free");
    FREE_CASES("frame", MstFrame, mst_frame_free, vtrack, new_vframe());
    begin(g, "mst_frame_get_kind");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_get_kind(H, OUT(MstKind)));
    TRY(C_NULL, "`out`", mst_frame_get_kind(vframe, NULL));

    begin(g, "mst_frame_get_video_info");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_get_video_info(H, OUTS(MstVideoFrameInfo)));
    TRY(C_NULL, "`out`", mst_frame_get_video_info(vframe, NULL));
    TRY(C_WRONG_KIND, "`frame` (audio)", mst_frame_get_video_info(aframe, OUTS(MstVideoFrameInfo)));
    TRY(C_ZERO, "`out`->struct_size 0", mst_frame_get_video_info(vframe, OUTSZ(MstVideoFrameInfo, 0)));
    TRY(C_HUGE, "`out`->struct_size UINT32_MAX", mst_frame_get_video_info(vframe, OUTSZ(MstVideoFrameInfo, UINT32_MAX)));
    begin(g, "mst_frame_get_audio_info");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_get_audio_info(H, OUTS(MstAudioDataInfo)));
    TRY(C_NULL, "`out`", mst_frame_get_audio_info(aframe, NULL));
    TRY(C_WRONG_KIND, "`frame` (video)", mst_frame_get_audio_info(vframe, OUTS(MstAudioDataInfo)));
    TRY(C_ZERO, "`out`->struct_size 0", mst_frame_get_audio_info(aframe, OUTSZ(MstAudioDataInfo, 0)));
    TRY(C_HUGE, "`out`->struct_size UINT32_MAX", mst_frame_get_audio_info(aframe, OUTSZ(MstAudioDataInfo, UINT32_MAX)));
    begin(g, "mst_frame_get_color_space");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_get_color_space(H, OUTS(MstVideoColorSpace)));
    TRY(C_NULL, "`out`", mst_frame_get_color_space(vframe, NULL));
    TRY(C_WRONG_KIND, "`frame` (audio)", mst_frame_get_color_space(aframe, OUTS(MstVideoColorSpace)));
    TRY(C_ZERO, "`out`->struct_size 0", mst_frame_get_color_space(vframe, OUTSZ(MstVideoColorSpace, 0)));
    TRY(C_HUGE, "`out`->struct_size UINT32_MAX", mst_frame_get_color_space(vframe, OUTSZ(MstVideoColorSpace, UINT32_MAX)));
    begin(g, "mst_frame_get_dmabuf");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_get_dmabuf(H, OUT(int32_t), OUTS(MstPlaneLayouts)));
    TRY(C_NULL, "`out_fd`", mst_frame_get_dmabuf(vframe, NULL, OUTS(MstPlaneLayouts)));
    TRY(C_NULL, "`out_layout`", mst_frame_get_dmabuf(vframe, OUT(int32_t), NULL));
    TRY(C_WRONG_KIND, "`frame` (audio)", mst_frame_get_dmabuf(aframe, OUT(int32_t), OUTS(MstPlaneLayouts)));
    TRY(C_ZERO, "`out_layout`->struct_size 0", mst_frame_get_dmabuf(vframe, OUT(int32_t), OUTSZ(MstPlaneLayouts, 0)));
    TRY(C_HUGE, "`out_layout`->struct_size UINT32_MAX",
        mst_frame_get_dmabuf(vframe, OUT(int32_t), OUTSZ(MstPlaneLayouts, UINT32_MAX)));
    begin(g, "mst_frame_get_dmabuf_plane");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_get_dmabuf_plane(H, 0, OUT(int32_t), OUT(MstPlaneLayout)));
    TRY(C_NULL, "`out_fd`", mst_frame_get_dmabuf_plane(vframe, 0, NULL, OUT(MstPlaneLayout)));
    TRY(C_NULL, "`out_layout`", mst_frame_get_dmabuf_plane(vframe, 0, OUT(int32_t), NULL));
    TRY(C_WRONG_KIND, "`frame` (audio)", mst_frame_get_dmabuf_plane(aframe, 0, OUT(int32_t), OUT(MstPlaneLayout)));
    TRY(C_HUGE, "`plane` UINT32_MAX", mst_frame_get_dmabuf_plane(vframe, UINT32_MAX, OUT(int32_t), OUT(MstPlaneLayout)));

    begin(g, "mst_frame_get_video_plane");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack,
                 mst_frame_get_video_plane(H, 0, OUT(const uint8_t *), OUT(size_t), OUT(size_t)));
    TRY(C_NULL, "`out_data`", mst_frame_get_video_plane(vframe, 0, NULL, OUT(size_t), OUT(size_t)));
    TRY(C_NULL, "`out_stride`", mst_frame_get_video_plane(vframe, 0, OUT(const uint8_t *), NULL, OUT(size_t)));
    TRY(C_NULL, "`out_len`", mst_frame_get_video_plane(vframe, 0, OUT(const uint8_t *), OUT(size_t), NULL));
    TRY(C_WRONG_KIND, "`frame` (audio)", mst_frame_get_video_plane(aframe, 0, OUT(const uint8_t *), OUT(size_t), OUT(size_t)));
    TRY(C_HUGE, "`plane` UINT32_MAX", mst_frame_get_video_plane(vframe, UINT32_MAX, OUT(const uint8_t *), OUT(size_t), OUT(size_t)));
    begin(g, "mst_frame_get_audio_plane");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_get_audio_plane(H, 0, OUT(const uint8_t *), OUT(size_t)));
    TRY(C_NULL, "`out_data`", mst_frame_get_audio_plane(aframe, 0, NULL, OUT(size_t)));
    TRY(C_NULL, "`out_len`", mst_frame_get_audio_plane(aframe, 0, OUT(const uint8_t *), NULL));
    TRY(C_WRONG_KIND, "`frame` (video)", mst_frame_get_audio_plane(vframe, 0, OUT(const uint8_t *), OUT(size_t)));
    TRY(C_HUGE, "`plane` UINT32_MAX", mst_frame_get_audio_plane(aframe, UINT32_MAX, OUT(const uint8_t *), OUT(size_t)));

    MstVideoCopyOptions vok = MST_STRUCT_INIT(MstVideoCopyOptions), vo;
    begin(g, "mst_frame_video_allocation_size");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_video_allocation_size(H, &vok, OUT(size_t)));
    TRY(C_NULL, "`out`", mst_frame_video_allocation_size(vframe, &vok, NULL));
    TRY_OK(C_NULL, "`options`", "NULL = defaults", mst_frame_video_allocation_size(vframe, NULL, OUT(size_t)));
    TRY(C_WRONG_KIND, "`frame` (audio)", mst_frame_video_allocation_size(aframe, &vok, OUT(size_t)));
    vo = vok, vo.format = 99;
    TRY(C_ENUM, "`options`->format 99", mst_frame_video_allocation_size(vframe, &vo, OUT(size_t)));
    vo = vok, vo.struct_size = 0;
    TRY(C_ZERO, "`options`->struct_size 0", mst_frame_video_allocation_size(vframe, &vo, OUT(size_t)));
    vo = vok, vo.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`options`->struct_size UINT32_MAX", mst_frame_video_allocation_size(vframe, &vo, OUT(size_t)));
    vo = vok, vo.rect.width = UINT32_MAX, vo.rect.height = 2;
    TRY(C_HUGE, "`options`->rect.width UINT32_MAX", mst_frame_video_allocation_size(vframe, &vo, OUT(size_t)));
    vo = vok, vo.num_planes = UINT32_MAX;
    TRY(C_HUGE, "`options`->num_planes UINT32_MAX", mst_frame_video_allocation_size(vframe, &vo, OUT(size_t)));

    begin(g, "mst_frame_video_copy_to");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_video_copy_to(H, dest, sizeof dest, &vok, OUTS(MstPlaneLayouts)));
    TRY(C_NULL, "`destination`", mst_frame_video_copy_to(vframe, NULL, sizeof dest, &vok, OUTS(MstPlaneLayouts)));
    TRY_OK(C_NULL, "`options`", "`options` may be NULL (defaults)", mst_frame_video_copy_to(vframe, dest, sizeof dest, NULL, OUTS(MstPlaneLayouts)));
    TRY_OK(C_NULL, "`out_layout`", "`out_layout` may be NULL", mst_frame_video_copy_to(vframe, dest, sizeof dest, &vok, NULL));
    TRY(C_WRONG_KIND, "`frame` (audio)", mst_frame_video_copy_to(aframe, dest, sizeof dest, &vok, OUTS(MstPlaneLayouts)));
    vo = vok, vo.format = 99;
    TRY(C_ENUM, "`options`->format 99", mst_frame_video_copy_to(vframe, dest, sizeof dest, &vo, OUTS(MstPlaneLayouts)));
    TRY(C_ZERO, "`destination_len` 0", mst_frame_video_copy_to(vframe, dest, 0, &vok, OUTS(MstPlaneLayouts)));
    vo = vok, vo.struct_size = 0;
    TRY(C_ZERO, "`options`->struct_size 0", mst_frame_video_copy_to(vframe, dest, sizeof dest, &vo, OUTS(MstPlaneLayouts)));
    TRY(C_ZERO, "`out_layout`->struct_size 0", mst_frame_video_copy_to(vframe, dest, sizeof dest, &vok, OUTSZ(MstPlaneLayouts, 0)));
    TRY(C_HUGE, "`destination_len` SIZE_MAX", mst_frame_video_copy_to(vframe, dest, SIZE_MAX, &vok, OUTS(MstPlaneLayouts)));
    vo = vok, vo.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`options`->struct_size UINT32_MAX", mst_frame_video_copy_to(vframe, dest, sizeof dest, &vo, OUTS(MstPlaneLayouts)));
    TRY(C_HUGE, "`out_layout`->struct_size UINT32_MAX", mst_frame_video_copy_to(vframe, dest, sizeof dest, &vok, OUTSZ(MstPlaneLayouts, UINT32_MAX)));

    MstAudioCopyOptions aok = MST_STRUCT_INIT(MstAudioCopyOptions), ao;
    begin(g, "mst_frame_audio_allocation_size");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_audio_allocation_size(H, &aok, OUT(size_t)));
    TRY(C_NULL, "`out`", mst_frame_audio_allocation_size(aframe, &aok, NULL));
    TRY_OK(C_NULL, "`options`", "NULL = plane 0, all frames", mst_frame_audio_allocation_size(aframe, NULL, OUT(size_t)));
    TRY(C_WRONG_KIND, "`frame` (video)", mst_frame_audio_allocation_size(vframe, &aok, OUT(size_t)));
    ao = aok, ao.format = 99;
    TRY(C_ENUM, "`options`->format 99", mst_frame_audio_allocation_size(aframe, &ao, OUT(size_t)));
    ao = aok, ao.struct_size = 0;
    TRY(C_ZERO, "`options`->struct_size 0", mst_frame_audio_allocation_size(aframe, &ao, OUT(size_t)));
    ao = aok, ao.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`options`->struct_size UINT32_MAX", mst_frame_audio_allocation_size(aframe, &ao, OUT(size_t)));
    ao = aok, ao.plane_index = UINT32_MAX;
    TRY(C_HUGE, "`options`->plane_index UINT32_MAX", mst_frame_audio_allocation_size(aframe, &ao, OUT(size_t)));
    ao = aok, ao.frame_offset = UINT32_MAX;
    TRY(C_HUGE, "`options`->frame_offset UINT32_MAX", mst_frame_audio_allocation_size(aframe, &ao, OUT(size_t)));
    ao = aok, ao.frame_count = UINT32_MAX;
    TRY(C_HUGE, "`options`->frame_count UINT32_MAX", mst_frame_audio_allocation_size(aframe, &ao, OUT(size_t)));

    begin(g, "mst_frame_audio_copy_to");
    HANDLE_CASES("frame", MstFrame, stale_frame, vtrack, mst_frame_audio_copy_to(H, dest, sizeof dest, &aok));
    TRY(C_NULL, "`destination`", mst_frame_audio_copy_to(aframe, NULL, sizeof dest, &aok));
    TRY_OK(C_NULL, "`options`", "NULL = plane 0, all frames", mst_frame_audio_copy_to(aframe, dest, sizeof dest, NULL));
    TRY(C_WRONG_KIND, "`frame` (video)", mst_frame_audio_copy_to(vframe, dest, sizeof dest, &aok));
    ao = aok, ao.format = 99;
    TRY(C_ENUM, "`options`->format 99", mst_frame_audio_copy_to(aframe, dest, sizeof dest, &ao));
    TRY(C_ZERO, "`destination_len` 0", mst_frame_audio_copy_to(aframe, dest, 0, &aok));
    ao = aok, ao.struct_size = 0;
    TRY(C_ZERO, "`options`->struct_size 0", mst_frame_audio_copy_to(aframe, dest, sizeof dest, &ao));
    TRY(C_HUGE, "`destination_len` SIZE_MAX", mst_frame_audio_copy_to(aframe, dest, SIZE_MAX, &aok));
    ao = aok, ao.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`options`->struct_size UINT32_MAX", mst_frame_audio_copy_to(aframe, dest, sizeof dest, &ao));
    ao = aok, ao.frame_offset = UINT32_MAX;
    TRY(C_HUGE, "`options`->frame_offset UINT32_MAX", mst_frame_audio_copy_to(aframe, dest, sizeof dest, &ao));
}

/* A write the sink rejects errors the writable, so each such case gets its own generator. */
#define FRESH_WRITE(col, arg, kind, frame_expr)                                                \
    do {                                                                                       \
        MstGenerator *fresh_ = new_gen(kind);                                                  \
        TRY(col, arg, mst_generator_write(fresh_, (MstFrame *)(frame_expr)));                  \
        CHECK_OK(mst_generator_free(fresh_));                                                  \
    } while (0)

static void generator_rows(void) {
    const char *g = "Generators";
    begin(g, "mst_generator_create");
    TRY(C_NULL, "`out`", mst_generator_create(MST_KIND_VIDEO, NULL));
    TRY(C_ENUM, "`kind` 0", mst_generator_create(0, OUT(MstGenerator *)));
    TRY(C_ENUM, "`kind` 3", mst_generator_create(3, OUT(MstGenerator *)));
    begin(g, "mst_generator_get_track");
    HANDLE_CASES("generator", MstGenerator, stale_gen, vtrack, mst_generator_get_track(H, OUT(MstTrack *)));
    TRY(C_NULL, "`out`", mst_generator_get_track(vgen, NULL));
    begin(g, "mst_generator_write");
    HANDLE_CASES("generator", MstGenerator, stale_gen, vtrack, mst_generator_write(H, vframe));
    FRESH_WRITE(C_NULL, "`frame`", MST_KIND_VIDEO, NULL);
    FRESH_WRITE(C_STALE, "`frame`", MST_KIND_VIDEO, stale_frame);
    FRESH_WRITE(C_FOREIGN, "`frame`", MST_KIND_VIDEO, foreign);
    FRESH_WRITE(C_WRONG_TYPE, "`frame`", MST_KIND_VIDEO, vtrack);
    FRESH_WRITE(C_WRONG_KIND, "`frame` (audio to a video generator)", MST_KIND_VIDEO, aframe);
    FRESH_WRITE(C_WRONG_KIND, "`frame` (video to an audio generator)", MST_KIND_AUDIO, vframe);
    begin(g, "mst_generator_close");
    HANDLE_CASES("generator", MstGenerator, stale_gen, vtrack, mst_generator_close(H));
    begin(g, "mst_generator_get_state");
    HANDLE_CASES("generator", MstGenerator, stale_gen, vtrack, mst_generator_get_state(H, OUT(MstWritableState)));
    TRY(C_NULL, "`out`", mst_generator_get_state(vgen, NULL));
    begin(g, "mst_generator_set_muted");
    HANDLE_CASES("generator", MstGenerator, stale_gen, vtrack, mst_generator_set_muted(H, true));
    begin(g, "mst_generator_get_muted");
    HANDLE_CASES("generator", MstGenerator, stale_gen, vtrack, mst_generator_get_muted(H, OUT(bool)));
    TRY(C_NULL, "`out`", mst_generator_get_muted(vgen, NULL));
    begin(g, "mst_generator_free");
    FREE_CASES("generator", MstGenerator, mst_generator_free, vtrack, new_gen(MST_KIND_VIDEO));
}

static void source_rows(void) {
    const char *g = "Sources (tracks on a device, a test pattern, a tone)";
    MstTestPatternOptions pok = MST_STRUCT_INIT(MstTestPatternOptions), po;
    begin(g, "mst_track_create_test_pattern");
    TRY(C_NULL, "`out`", mst_track_create_test_pattern(&pok, NULL));
    po = pok, po.format = 99;
    TRY(C_ENUM, "`options`->format 99", mst_track_create_test_pattern(&po, OUT(MstTrack *)));
    po = pok, po.struct_size = 0;
    TRY(C_ZERO, "`options`->struct_size 0", mst_track_create_test_pattern(&po, OUT(MstTrack *)));
    po = pok, po.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`options`->struct_size UINT32_MAX", mst_track_create_test_pattern(&po, OUT(MstTrack *)));
    po = pok, po.width = UINT32_MAX;
    TRY(C_HUGE, "`options`->width UINT32_MAX", mst_track_create_test_pattern(&po, OUT(MstTrack *)));
    po = pok, po.frame_rate = 1e300;
    TRY(C_HUGE, "`options`->frame_rate 1e300", mst_track_create_test_pattern(&po, OUT(MstTrack *)));

    MstToneOptions tok = MST_STRUCT_INIT(MstToneOptions), to;
    begin(g, "mst_track_create_tone");
    TRY(C_NULL, "`out`", mst_track_create_tone(&tok, NULL));
    to = tok, to.format = 99;
    TRY(C_ENUM, "`options`->format 99", mst_track_create_tone(&to, OUT(MstTrack *)));
    to = tok, to.struct_size = 0;
    TRY(C_ZERO, "`options`->struct_size 0", mst_track_create_tone(&to, OUT(MstTrack *)));
    to = tok, to.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`options`->struct_size UINT32_MAX", mst_track_create_tone(&to, OUT(MstTrack *)));
    to = tok, to.channels = UINT32_MAX;
    TRY(C_HUGE, "`options`->channels UINT32_MAX", mst_track_create_tone(&to, OUT(MstTrack *)));
    to = tok, to.sample_rate = UINT32_MAX;
    TRY(C_HUGE, "`options`->sample_rate UINT32_MAX", mst_track_create_tone(&to, OUT(MstTrack *)));
    to = tok, to.chunk_frames = UINT32_MAX;
    TRY(C_HUGE, "`options`->chunk_frames UINT32_MAX", mst_track_create_tone(&to, OUT(MstTrack *)));

    MstVideoConstraints vcok = MST_STRUCT_INIT(MstVideoConstraints), vc;
    MstCameraOptions cok = MST_STRUCT_INIT(MstCameraOptions), co;
    begin(g, "mst_track_create_camera");
    TRY(C_NULL, "`out`", mst_track_create_camera(NULL, NULL, NULL, NULL));
    null_allowed("`device_id`", "NULL or \"default\" = the first V4L2 video input");
    null_allowed("`constraints`, `options`", "`device_id`, `constraints` and `options` (NULL = defaults) borrowed");
    vc = vcok, vc.resize_mode = 99;
    TRY(C_ENUM, "`constraints`->resize_mode 99", mst_track_create_camera(NULL, &vc, &cok, OUT(MstTrack *)));
    vc = vcok, vc.width.present = 0x100;
    TRY(C_ENUM, "`constraints`->width.present 0x100", mst_track_create_camera(NULL, &vc, &cok, OUT(MstTrack *)));
    co = cok, co.pixel_format = 0x3f3f3f3f;
    TRY(C_ENUM, "`options`->pixel_format 0x3f3f3f3f", mst_track_create_camera(NULL, &vcok, &co, OUT(MstTrack *)));
    vc = vcok, vc.struct_size = 0;
    TRY(C_ZERO, "`constraints`->struct_size 0", mst_track_create_camera(NULL, &vc, &cok, OUT(MstTrack *)));
    co = cok, co.struct_size = 0;
    TRY(C_ZERO, "`options`->struct_size 0", mst_track_create_camera(NULL, &vcok, &co, OUT(MstTrack *)));
    vc = vcok, vc.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`constraints`->struct_size UINT32_MAX", mst_track_create_camera(NULL, &vc, &cok, OUT(MstTrack *)));
    co = cok, co.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`options`->struct_size UINT32_MAX", mst_track_create_camera(NULL, &vcok, &co, OUT(MstTrack *)));

    MstAudioConstraints acok = MST_STRUCT_INIT(MstAudioConstraints), ac;
    begin(g, "mst_track_create_microphone");
    TRY(C_NULL, "`out`", mst_track_create_microphone(NULL, NULL, NULL));
    null_allowed("`device_id`", "NULL = \"default\") and returns a live audio track");
    null_allowed("`constraints`", "from `constraints` (NULL = none)");
    ac = acok, ac.sample_rate.present = 0x100;
    TRY(C_ENUM, "`constraints`->sample_rate.present 0x100", mst_track_create_microphone(NULL, &ac, OUT(MstTrack *)));
    ac = acok, ac.struct_size = 0;
    TRY(C_ZERO, "`constraints`->struct_size 0", mst_track_create_microphone(NULL, &ac, OUT(MstTrack *)));
    ac = acok, ac.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`constraints`->struct_size UINT32_MAX", mst_track_create_microphone(NULL, &ac, OUT(MstTrack *)));
}

#define TRACK_GETTER(fn, T)                                                                    \
    do {                                                                                       \
        begin(g, #fn);                                                                         \
        HANDLE_CASES("track", MstTrack, stale_track, vgen, fn(H, OUT(T)));                     \
        TRY(C_NULL, "`out`", fn(vtrack, NULL));                                                \
    } while (0)
#define TRACK_STRUCT_GETTER(fn, T, track)                                                      \
    do {                                                                                       \
        begin(g, #fn);                                                                         \
        HANDLE_CASES("track", MstTrack, stale_track, vgen, fn(H, OUTS(T)));                    \
        TRY(C_NULL, "`out`", fn(track, NULL));                                                 \
        TRY(C_ZERO, "`out`->struct_size 0", fn(track, OUTSZ(T, 0)));                           \
        TRY(C_HUGE, "`out`->struct_size UINT32_MAX", fn(track, OUTSZ(T, UINT32_MAX)));         \
    } while (0)

static void track_rows(void) {
    const char *g = "Tracks";
    TRACK_GETTER(mst_track_get_kind, MstKind);
    TRACK_GETTER(mst_track_get_id, const char *);
    TRACK_GETTER(mst_track_get_label, const char *);
    TRACK_GETTER(mst_track_get_enabled, bool);
    begin(g, "mst_track_set_enabled");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_track_set_enabled(H, true));
    TRACK_GETTER(mst_track_get_muted, bool);
    TRACK_GETTER(mst_track_get_content_hint, const char *);
    begin(g, "mst_track_set_content_hint");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_track_set_content_hint(H, "motion"));
    TRY(C_NULL, "`hint`", mst_track_set_content_hint(vtrack, NULL));
    TRY(C_WRONG_KIND, "`hint` \"music\" (an audio hint for a video track)", mst_track_set_content_hint(vtrack, "music"));
    TRY(C_ENUM, "`hint` \"loud\"", mst_track_set_content_hint(atrack, "loud"));
    TRACK_GETTER(mst_track_get_ready_state, MstReadyState);
    TRACK_GETTER(mst_track_get_end_reason, MstEndReason);
    begin(g, "mst_track_stop");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_track_stop(H));
    begin(g, "mst_track_set_reacquire");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_track_set_reacquire(H, MST_REACQUIRE_FOREVER));
    TRY(C_WRONG_KIND, "`track` (a generator's)", mst_track_set_reacquire(vtrack, MST_REACQUIRE_FOREVER));
    TRACK_GETTER(mst_track_clone, MstTrack *);
    begin(g, "mst_track_free");
    FREE_CASES("track", MstTrack, mst_track_free, vgen, new_vtrack());

    MstVideoConstraints ok = MST_STRUCT_INIT(MstVideoConstraints), c;
    begin(g, "mst_track_apply_constraints");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_track_apply_constraints(H, &ok));
    TRY(C_NULL, "`constraints`", mst_track_apply_constraints(vtrack, NULL));
    c = ok, c.resize_mode = 99;
    TRY(C_ENUM, "`constraints`->resize_mode 99", mst_track_apply_constraints(vtrack, &c));
    c = ok, c.frame_rate.present = 0x100;
    TRY(C_ENUM, "`constraints`->frame_rate.present 0x100", mst_track_apply_constraints(vtrack, &c));
    c = ok, c.struct_size = 0;
    TRY(C_ZERO, "`constraints`->struct_size 0", mst_track_apply_constraints(vtrack, &c));
    c = ok, c.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`constraints`->struct_size UINT32_MAX", mst_track_apply_constraints(vtrack, &c));
    TRACK_STRUCT_GETTER(mst_track_get_constraints, MstVideoConstraints, vtrack);
    TRACK_STRUCT_GETTER(mst_track_get_settings, MstSettings, vtrack);
    TRACK_STRUCT_GETTER(mst_track_get_capabilities, MstCapabilities, vtrack);
    TRACK_STRUCT_GETTER(mst_track_get_camera_stats, MstCameraStats, vtrack);
    TRY(C_WRONG_KIND, "`track` (a test pattern, not a camera)", mst_track_get_camera_stats(vtrack, OUTS(MstCameraStats)));
    TRACK_STRUCT_GETTER(mst_track_get_capture_stats, MstCaptureStats, atrack);
    TRY(C_WRONG_KIND, "`track` (a tone, not a microphone)", mst_track_get_capture_stats(atrack, OUTS(MstCaptureStats)));

    begin(g, "mst_track_set_ended_callback");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_track_set_ended_callback(H, on_ended, NULL, NULL));
    TRY_OK(C_NULL, "`callback`", "NULL `callback` removes it", mst_track_set_ended_callback(vtrack, NULL, NULL, NULL));
    begin(g, "mst_track_set_mute_callback");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_track_set_mute_callback(H, on_mute, NULL, NULL));
    TRY_OK(C_NULL, "`callback`", "NULL `callback` removes it", mst_track_set_mute_callback(vtrack, NULL, NULL, NULL));
}

static void processor_rows(void) {
    const char *g = "Processors";
    MstProcessorOptions ok = MST_STRUCT_INIT(MstProcessorOptions), o;
    begin(g, "mst_processor_create");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_processor_create(H, &ok, OUT(MstProcessor *)));
    TRY(C_NULL, "`out`", mst_processor_create(vtrack, &ok, NULL));
    o = ok, o.flags = 0x80;
    TRY(C_ENUM, "`options`->flags 0x80", mst_processor_create(vtrack, &o, OUT(MstProcessor *)));
    o = ok, o.struct_size = 0;
    TRY(C_ZERO, "`options`->struct_size 0", mst_processor_create(vtrack, &o, OUT(MstProcessor *)));
    o = ok, o.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`options`->struct_size UINT32_MAX", mst_processor_create(vtrack, &o, OUT(MstProcessor *)));
    o = ok, o.max_buffer_size = 65536;
    TRY(C_HUGE, "`options`->max_buffer_size 65536", mst_processor_create(vtrack, &o, OUT(MstProcessor *)));
    begin(g, "mst_processor_read");
    HANDLE_CASES("processor", MstProcessor, stale_proc, vtrack, mst_processor_read(H, 0, OUT(MstFrame *)));
    TRY(C_NULL, "`out`", mst_processor_read(proc, 0, NULL));
    begin(g, "mst_processor_get_fd");
    HANDLE_CASES("processor", MstProcessor, stale_proc, vtrack, mst_processor_get_fd(H, OUT(int)));
    TRY(C_NULL, "`out_fd`", mst_processor_get_fd(proc, NULL));
    begin(g, "mst_processor_wakeup");
    HANDLE_CASES("processor", MstProcessor, stale_proc, vtrack, mst_processor_wakeup(H));
    begin(g, "mst_processor_set_callback");
    HANDLE_CASES("processor", MstProcessor, stale_proc, vtrack, mst_processor_set_callback(H, on_frame, NULL, NULL));
    TRY_OK(C_NULL, "`callback`", "A NULL `callback` stops the thread", mst_processor_set_callback(proc, NULL, NULL, NULL));
    begin(g, "mst_processor_get_stats");
    HANDLE_CASES("processor", MstProcessor, stale_proc, vtrack, mst_processor_get_stats(H, OUTS(MstProcessorStats)));
    TRY(C_NULL, "`out`", mst_processor_get_stats(proc, NULL));
    TRY(C_ZERO, "`out`->struct_size 0", mst_processor_get_stats(proc, OUTSZ(MstProcessorStats, 0)));
    TRY(C_HUGE, "`out`->struct_size UINT32_MAX", mst_processor_get_stats(proc, OUTSZ(MstProcessorStats, UINT32_MAX)));
    begin(g, "mst_processor_close");
    HANDLE_CASES("processor", MstProcessor, stale_proc, vtrack, mst_processor_close(H));
    begin(g, "mst_processor_free");
    FREE_CASES("processor", MstProcessor, mst_processor_free, vtrack, new_proc());
}

static void sink_rows(void) {
    const char *g = "Sinks (file, audio playback, video output)";
    begin(g, "mst_file_sink_open");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_file_sink_open(H, sink_path, OUT(MstFileSink *)));
    TRY(C_NULL, "`path`", mst_file_sink_open(vtrack, NULL, OUT(MstFileSink *)));
    TRY(C_NULL, "`out`", mst_file_sink_open(vtrack, sink_path, NULL));
    TRY(C_ZERO, "`path` \"\"", mst_file_sink_open(vtrack, "", OUT(MstFileSink *)));
    begin(g, "mst_file_sink_stop");
    HANDLE_CASES("sink", MstFileSink, stale_sink, vtrack, mst_file_sink_stop(H));
    begin(g, "mst_file_sink_get_stats");
    HANDLE_CASES("sink", MstFileSink, stale_sink, vtrack, mst_file_sink_get_stats(H, OUTS(MstFileStats)));
    TRY(C_NULL, "`out`", mst_file_sink_get_stats(sink, NULL));
    TRY(C_ZERO, "`out`->struct_size 0", mst_file_sink_get_stats(sink, OUTSZ(MstFileStats, 0)));
    TRY(C_HUGE, "`out`->struct_size UINT32_MAX", mst_file_sink_get_stats(sink, OUTSZ(MstFileStats, UINT32_MAX)));
    begin(g, "mst_file_sink_free");
    FREE_CASES("sink", MstFileSink, mst_file_sink_free, vtrack, new_sink());

    begin(g, "mst_audio_playback_open");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_audio_playback_open(H, "mst_bad_input_null", OUT(MstAudioPlayback *)));
    TRY(C_NULL, "`out`", mst_audio_playback_open(atrack, "mst_bad_input_null", NULL));
    null_allowed("`device_id`", "or any ALSA PCM name; NULL = \"default\") from a library");
    TRY(C_WRONG_KIND, "`track` (video)", mst_audio_playback_open(vtrack, "mst_bad_input_null", OUT(MstAudioPlayback *)));
    begin(g, "mst_audio_playback_stop");
    HANDLE_CASES("playback", MstAudioPlayback, stale_playback, vtrack, mst_audio_playback_stop(H));
    begin(g, "mst_audio_playback_get_stats");
    HANDLE_CASES("playback", MstAudioPlayback, stale_playback, vtrack, mst_audio_playback_get_stats(H, OUTS(MstAudioPlaybackStats)));
    TRY(C_NULL, "`out`", mst_audio_playback_get_stats(playback, NULL));
    TRY(C_ZERO, "`out`->struct_size 0", mst_audio_playback_get_stats(playback, OUTSZ(MstAudioPlaybackStats, 0)));
    TRY(C_HUGE, "`out`->struct_size UINT32_MAX", mst_audio_playback_get_stats(playback, OUTSZ(MstAudioPlaybackStats, UINT32_MAX)));
    begin(g, "mst_audio_playback_free");
    FREE_CASES("playback", MstAudioPlayback, mst_audio_playback_free, vtrack, new_playback());

    begin(g, "mst_video_output_open");
    HANDLE_CASES("track", MstTrack, stale_track, vgen, mst_video_output_open(H, NULL, OUT(MstVideoOutput *)));
    TRY(C_NULL, "`out`", mst_video_output_open(vtrack, NULL, NULL));
    null_allowed("`device_id`", "NULL = \"default\", the first output node");
    TRY(C_WRONG_KIND, "`track` (audio)", mst_video_output_open(atrack, NULL, OUT(MstVideoOutput *)));
    /* No V4L2 output node exists where ctest runs: no output handle can be made, so none can
     * be stale or freed twice here. */
    MstVideoOutput *no_output = NULL;
    begin(g, "mst_video_output_stop");
    HANDLE_CASES("output", MstVideoOutput, no_output, vtrack, mst_video_output_stop(H));
    begin(g, "mst_video_output_get_stats");
    HANDLE_CASES("output", MstVideoOutput, no_output, vtrack, mst_video_output_get_stats(H, OUTS(MstVideoOutputStats)));
    begin(g, "mst_video_output_free");
    FREE_CASES("output", MstVideoOutput, mst_video_output_free, vtrack, no_output);
}

static void fake_rows(void) {
    const char *g = "Fake devices";
    MstFakeDeviceInit ok = fake_init("bad-input-add", MST_DEVICE_KIND_VIDEO_INPUT), init;
    MstFault fault_ok = MST_STRUCT_INIT(MstFault), fault;
    fault_ok.kind = MST_FAULT_STALL;
    fault_ok.value = 1000;
    begin(g, "mst_fake_device_add");
    TRY(C_NULL, "`init`", mst_fake_device_add(NULL, OUT(MstFakeDevice *)));
    init = ok, init.name = NULL;
    TRY(C_NULL, "`init`->name", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    TRY(C_NULL, "`out`", mst_fake_device_add(&ok, NULL));
    init = ok, init.faults = NULL, init.num_faults = 1;
    TRY(C_NULL, "`init`->faults (num_faults 1)", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.pixel_format = 0x47504a4d; /* MJPG */
    init.mjpeg_frames = NULL, init.num_mjpeg_frames = 1;
    TRY(C_NULL, "`init`->mjpeg_frames (num_mjpeg_frames 1)", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.kind = MST_DEVICE_KIND_AUDIO_INPUT, fault = fault_ok, fault.kind = MST_FAULT_DAMAGED_MJPEG;
    fault.value = 1, fault.damage = MST_MJPEG_DAMAGE_TRUNCATED, init.faults = &fault, init.num_faults = 1;
    TRY(C_WRONG_KIND, "`init`->faults[0] (an MJPEG fault for a microphone)", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.kind = 99;
    TRY(C_ENUM, "`init`->kind 99", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.kind = MST_DEVICE_KIND_VIDEO_OUTPUT;
    TRY(C_ENUM, "`init`->kind MST_DEVICE_KIND_VIDEO_OUTPUT", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.pixel_format = 0x3f3f3f3f;
    TRY(C_ENUM, "`init`->pixel_format 0x3f3f3f3f", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.kind = MST_DEVICE_KIND_AUDIO_INPUT, init.sample_format = 99;
    TRY(C_ENUM, "`init`->sample_format 99", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.pacing = 99;
    TRY(C_ENUM, "`init`->pacing 99", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, fault = fault_ok, fault.kind = 99, init.faults = &fault, init.num_faults = 1;
    TRY(C_ENUM, "`init`->faults[0].kind 99", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.struct_size = 0;
    TRY(C_ZERO, "`init`->struct_size 0", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.name = "";
    TRY(C_ZERO, "`init`->name \"\"", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, fault = fault_ok, fault.struct_size = 0, init.faults = &fault, init.num_faults = 1;
    TRY(C_ZERO, "`init`->faults[0].struct_size 0", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`init`->struct_size UINT32_MAX", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.width = UINT32_MAX;
    TRY(C_HUGE, "`init`->width UINT32_MAX", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.frame_rate = 1e300;
    TRY(C_HUGE, "`init`->frame_rate 1e300", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.kind = MST_DEVICE_KIND_AUDIO_INPUT, init.channels = UINT32_MAX;
    TRY(C_HUGE, "`init`->channels UINT32_MAX", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.kind = MST_DEVICE_KIND_AUDIO_INPUT, init.sample_rate = UINT32_MAX;
    TRY(C_HUGE, "`init`->sample_rate UINT32_MAX", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, fault = fault_ok, init.faults = &fault, init.num_faults = SIZE_MAX;
    TRY(C_HUGE, "`init`->num_faults SIZE_MAX", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, init.pixel_format = 0x47504a4d; /* MJPG */
    {
        static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xd9};
        const uint8_t *frames[] = {jpeg};
        size_t sizes[] = {sizeof jpeg};
        init.mjpeg_frames = frames, init.mjpeg_sizes = sizes, init.num_mjpeg_frames = SIZE_MAX;
        TRY(C_HUGE, "`init`->num_mjpeg_frames SIZE_MAX", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    }
    init = ok, fault = fault_ok, fault.struct_size = UINT32_MAX, init.faults = &fault, init.num_faults = 1;
    TRY(C_HUGE, "`init`->faults[0].struct_size UINT32_MAX", mst_fake_device_add(&init, OUT(MstFakeDevice *)));
    init = ok, fault = fault_ok, fault.value = INT64_MAX, init.faults = &fault, init.num_faults = 1;
    TRY(C_HUGE, "`init`->faults[0].value INT64_MAX (a stall)", mst_fake_device_add(&init, OUT(MstFakeDevice *)));

    begin(g, "mst_fake_device_get_id");
    HANDLE_CASES("dev", MstFakeDevice, stale_fake, vtrack, mst_fake_device_get_id(H, OUT(const char *)));
    TRY(C_NULL, "`out`", mst_fake_device_get_id(fake_camera, NULL));

    begin(g, "mst_fake_device_inject");
    HANDLE_CASES("dev", MstFakeDevice, stale_fake, vtrack, mst_fake_device_inject(H, &fault_ok));
    TRY(C_NULL, "`fault`", mst_fake_device_inject(fake_camera, NULL));
    fault = fault_ok, fault.kind = MST_FAULT_DAMAGED_MJPEG, fault.value = 1, fault.damage = MST_MJPEG_DAMAGE_TRUNCATED;
    TRY(C_WRONG_KIND, "`fault` (an MJPEG fault for a microphone)", mst_fake_device_inject(fake_microphone, &fault));
    fault = fault_ok, fault.kind = 99;
    TRY(C_ENUM, "`fault`->kind 99", mst_fake_device_inject(fake_camera, &fault));
    fault = fault_ok, fault.kind = MST_FAULT_DAMAGED_MJPEG, fault.value = 1, fault.damage = 99;
    TRY(C_ENUM, "`fault`->damage 99", mst_fake_device_inject(fake_camera, &fault));
    fault = fault_ok, fault.struct_size = 0;
    TRY(C_ZERO, "`fault`->struct_size 0", mst_fake_device_inject(fake_camera, &fault));
    fault = fault_ok, fault.struct_size = UINT32_MAX;
    TRY(C_HUGE, "`fault`->struct_size UINT32_MAX", mst_fake_device_inject(fake_camera, &fault));
    fault = fault_ok, fault.value = INT64_MAX;
    TRY(C_HUGE, "`fault`->value INT64_MAX (a stall)", mst_fake_device_inject(fake_camera, &fault));
    fault = fault_ok, fault.kind = MST_FAULT_OVERRUN, fault.value = -1;
    TRY(C_HUGE, "`fault`->value -1 (frames an overrun loses)", mst_fake_device_inject(fake_camera, &fault));

    begin(g, "mst_fake_device_free");
    FREE_CASES("dev", MstFakeDevice, mst_fake_device_free, vtrack, new_fake("bad-input-twice", MST_DEVICE_KIND_VIDEO_INPUT));
}

/* ---- The table ------------------------------------------------------------------------- */

static char *render(void) {
    size_t cap = 1 << 20, len = 0;
    char *s = malloc(cap);
    CHECK(s != NULL);
#define EMIT(...)                                                                              \
    do {                                                                                       \
        int n_ = snprintf(s + len, cap - len, __VA_ARGS__);                                    \
        CHECK(n_ >= 0);                                                                        \
        while ((size_t)n_ >= cap - len) {                                                      \
            cap *= 2;                                                                          \
            s = realloc(s, cap);                                                               \
            CHECK(s != NULL);                                                                  \
            n_ = snprintf(s + len, cap - len, __VA_ARGS__);                                    \
        }                                                                                      \
        len += (size_t)n_;                                                                     \
    } while (0)
    EMIT("# Bad input: what every function answers\n\n"
         "Generated by `c-tests/test_bad_input.c`, which runs every call below and fails when this file\n"
         "differs from what the library answers (rerun it with `MST_BAD_INPUT_UPDATE=1` to rewrite the\n"
         "file, then review the diff). Every exported function of `abi/symbols.txt` has a row. The cases:\n\n"
         "- **NULL**: each pointer argument NULL in turn, the others valid.\n"
         "- **stale handle**: a handle of the right type that was freed.\n"
         "- **foreign handle**: a pointer that is no libmst handle (the address of a local variable).\n"
         "- **wrong handle type**: a live handle of another type (a track where a frame is expected, ...).\n"
         "- **wrong kind**: an audio frame or track where video is expected and the reverse, or a source\n"
         "  of another kind (a test pattern where a camera is expected).\n"
         "- **out-of-range enum**: a value no enum constant has (formats, kinds, levels, flags, bits).\n"
         "- **zero size**, **huge size**: lengths, counts, dimensions and `struct_size` of 0, and of\n"
         "  SIZE_MAX / UINT32_MAX or just past a limit.\n"
         "- **double free**: `_free` on a handle already freed.\n\n"
         "Each cell gives the argument, the status and `mst_last_error_message()` (handle values print as\n"
         "`0x…`, they vary from run to run; the number of devices as N, it varies from machine to\n"
         "machine). Every call leaves its out-parameters untouched (the test checks\n"
         "a canary) and every status is one the function's `Errors:` line in `mst.h` lists. MST_OK\n"
         "appears only where `mst.h` says so, quoted. \"n/a\": the case does not apply to the function.\n");
    const char *group = NULL;
    for (size_t r = 0; r < nrows; r++) {
        if (group == NULL || strcmp(group, rows[r].group) != 0) {
            group = rows[r].group;
            EMIT("\n## %s\n\n| function |", group);
            for (int c = 0; c < NCOLS; c++) EMIT(" %s |", col_names[c]);
            EMIT("\n|---|");
            for (int c = 0; c < NCOLS; c++) EMIT("---|");
            EMIT("\n");
        }
        EMIT("| `%s` |", rows[r].fn);
        for (int c = 0; c < NCOLS; c++) EMIT(" %s |", rows[r].cell[c] ? rows[r].cell[c] : "n/a");
        EMIT("\n");
    }
#undef EMIT
    return s;
}

/* Every symbol of abi/symbols.txt has a row, every row is a symbol there, and every row of a
 * function that takes arguments ran a case. */
static void check_symbols(void) {
    for (size_t r = 0; r < nrows; r++) {
        bool ran = false;
        for (int c = 0; c < NCOLS; c++) ran = ran || rows[r].cell[c] != NULL;
        if (ran == rows[r].no_arguments) {
            fprintf(stderr, "%s: %s\n", rows[r].fn,
                    ran ? "a function marked as taking no arguments ran a case"
                        : "no case ran: add its cases to test_bad_input.c");
            findings++;
        }
    }
    char *text = read_file(MST_ROOT_DIR "/abi/symbols.txt");
    if (text == NULL) MST_TEST_FAIL_("cannot read %s", MST_ROOT_DIR "/abi/symbols.txt");
    size_t listed = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == '\0') continue;
        char *at = strchr(line, '@');
        if (at) *at = '\0';
        listed++;
        bool found = false;
        for (size_t r = 0; r < nrows && !found; r++) found = strcmp(rows[r].fn, line) == 0;
        if (!found) {
            fprintf(stderr, "%s is exported (abi/symbols.txt) but has no row in test_bad_input.c\n", line);
            findings++;
        }
    }
    if (listed != nrows) {
        fprintf(stderr, "abi/symbols.txt lists %zu functions, test_bad_input.c has %zu rows\n", listed, nrows);
        findings++;
    }
    free(text);
}

int main(void) {
    int local = 0;
    foreign = &local;
    configure_alsa();
    raw_header = read_file(MST_ROOT_DIR "/include/mst.h");
    if (raw_header == NULL) MST_TEST_FAIL_("cannot read %s", MST_ROOT_DIR "/include/mst.h");
    {
        /* The whole header as one line of words, for quoted contracts. */
        size_t n = strlen(raw_header), k = 0;
        header = malloc(n + 1);
        CHECK(header != NULL);
        bool space = false;
        for (size_t i = 0; i < n; i++) {
            char ch = raw_header[i];
            if (ch == '\n') {
                while (raw_header[i + 1] == ' ' || (raw_header[i + 1] == '*' && raw_header[i + 2] != '/')) i++;
                space = true;
            } else if (isspace((unsigned char)ch)) {
                space = true;
            } else {
                if (space && k) header[k++] = ' ';
                space = false;
                header[k++] = ch;
            }
        }
        header[k] = '\0';
    }
    snprintf(sink_path, sizeof sink_path, "%s.y4m", alsa_dir);

    vframe = new_vframe();
    aframe = new_aframe();
    stale_frame = new_vframe();
    CHECK_OK(mst_frame_free(stale_frame));
    vtrack = new_vtrack();
    atrack = new_atrack();
    stale_track = new_vtrack();
    CHECK_OK(mst_track_free(stale_track));
    vgen = new_gen(MST_KIND_VIDEO);
    stale_gen = new_gen(MST_KIND_VIDEO);
    CHECK_OK(mst_generator_free(stale_gen));
    proc = new_proc();
    stale_proc = new_proc();
    CHECK_OK(mst_processor_free(stale_proc));
    list = new_list();
    stale_list = new_list();
    CHECK_OK(mst_device_list_free(stale_list));
    sink = new_sink();
    stale_sink = new_sink();
    CHECK_OK(mst_file_sink_free(stale_sink));
    playback = new_playback();
    stale_playback = new_playback();
    CHECK_OK(mst_audio_playback_free(stale_playback));
    fake_camera = new_fake("bad-input-camera", MST_DEVICE_KIND_VIDEO_INPUT);
    fake_microphone = new_fake("bad-input-microphone", MST_DEVICE_KIND_AUDIO_INPUT);
    stale_fake = new_fake("bad-input-stale", MST_DEVICE_KIND_VIDEO_INPUT);
    CHECK_OK(mst_fake_device_free(stale_fake));

    global_rows();
    device_rows();
    frame_rows();
    generator_rows();
    source_rows();
    track_rows();
    processor_rows();
    sink_rows();
    fake_rows();
    check_symbols();

    CHECK_OK(mst_audio_playback_free(playback));
    CHECK_OK(mst_fake_device_free(fake_camera));
    CHECK_OK(mst_fake_device_free(fake_microphone));
    CHECK_OK(mst_file_sink_free(sink));
    CHECK_OK(mst_device_list_free(list));
    CHECK_OK(mst_processor_free(proc));
    CHECK_OK(mst_generator_free(vgen));
    CHECK_OK(mst_track_free(vtrack));
    CHECK_OK(mst_track_free(atrack));
    CHECK_OK(mst_frame_free(vframe));
    CHECK_OK(mst_frame_free(aframe));
    unlink(sink_path);
    char conf[300];
    snprintf(conf, sizeof conf, "%s.conf", alsa_dir);
    unlink(conf);

    char *table = render();
    const char *path = MST_ROOT_DIR "/doc/bad-input.md";
    const char *update = getenv("MST_BAD_INPUT_UPDATE");
    int status = 0;
    if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "w");
        if (f == NULL) MST_TEST_FAIL_("cannot write %s", path);
        fputs(table, f);
        CHECK(fclose(f) == 0);
        printf("wrote %s (%zu functions)\n", path, nrows);
    } else {
        char *committed = read_file(path);
        if (committed == NULL || strcmp(committed, table) != 0) {
            char fresh[300];
            snprintf(fresh, sizeof fresh, "%s.md", alsa_dir);
            FILE *f = fopen(fresh, "w");
            if (f) fputs(table, f), fclose(f);
            fprintf(stderr, "%s differs from what the library answers now (written to %s: diff them);\n"
                            "if the change is intended, rerun with MST_BAD_INPUT_UPDATE=1 and commit the file\n",
                    path, fresh);
            status = 1;
        }
        free(committed);
    }
    if (findings) {
        fprintf(stderr, "%d finding(s) above\n", findings);
        status = 1;
    }
    for (size_t r = 0; r < nrows; r++)
        for (int c = 0; c < NCOLS; c++) free(rows[r].cell[c]);
    free(table);
    free(header);
    free((void *)raw_header);
    return status;
}
