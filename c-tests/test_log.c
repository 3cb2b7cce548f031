/* libmst is quiet: without a log callback, opening a PCM alsa-lib does not know (which makes
 * alsa-lib report "Unknown PCM ..." through its error handler, stderr by default) writes
 * nothing to stderr; with a callback, alsa-lib's message arrives there as a warning, naming
 * the PCM, and nothing on stderr either; mst_set_log_level() filters by level; a replaced
 * callback's destroy-notify runs exactly once. A callback may call libmst, replacing itself
 * included, without deadlock and without a message lost. alsa-lib's messages on a thread
 * libmst created (a playback writing to a full disk) reach the callback too, never stderr.
 * stderr is fd 2 pointed at a temporary file around each call. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define PCM "mst_test_log_no_such_pcm"

struct log {
    int messages;
    int warnings_from_alsa_naming_pcm;
    int destroyed;
    int calls_into_libmst_ok;
};

static void on_log(void *user_data, MstLogLevel level, const char *origin, const char *message) {
    struct log *log = user_data;
    log->messages++;
    if (level == MST_LOG_WARNING && strcmp(origin, "alsa-lib") == 0 && strstr(message, PCM) != NULL &&
        strchr(message, '\n') == NULL)
        log->warnings_from_alsa_naming_pcm++;
    /* No libmst lock is held: calling back in works. */
    if (mst_version() != NULL && strcmp(mst_status_str(MST_OK), "MST_OK: success") == 0)
        log->calls_into_libmst_ok++;
}

static void on_destroy(void *user_data) { ((struct log *)user_data)->destroyed++; }

/* fd 2 pointed at a temporary file until stderr_restore(), which returns how many bytes
 * reached it (and shows them). */
struct stderr_capture {
    int file;
    int saved;
};

static struct stderr_capture stderr_capture(void) {
    char path[] = "/tmp/mst-test-log-XXXXXX";
    struct stderr_capture c = {mkstemp(path), -1};
    CHECK(c.file >= 0);
    unlink(path);
    fflush(stderr);
    c.saved = dup(2);
    CHECK(c.saved >= 0);
    CHECK(dup2(c.file, 2) == 2);
    return c;
}

static long stderr_restore(struct stderr_capture c) {
    fflush(stderr);
    CHECK(dup2(c.saved, 2) == 2);
    close(c.saved);
    int capture = c.file;
    long written = lseek(capture, 0, SEEK_END);
    if (written > 0) {
        char text[2048] = {0};
        CHECK(pread(capture, text, sizeof text - 1, 0) >= 0);
        fprintf(stderr, "stderr got %ld bytes:\n%s\n", written, text);
    }
    close(capture);
    return written;
}

/* Opens PCM as a microphone with fd 2 redirected; returns how many bytes reached stderr. */
static long open_unknown_pcm_counting_stderr(void) {
    struct stderr_capture c = stderr_capture();
    MstTrack *track = NULL;
    MstStatus status = mst_track_create_microphone(PCM, NULL, &track);
    long written = stderr_restore(c);
    CHECK_EQ_INT(status, MST_ERR_NO_DEVICE);
    CHECK(track == NULL);
    /* What a callback called in between did not replace the call's own error. */
    CHECK(strstr(mst_last_error_message(), PCM) != NULL);
    return written;
}

/* A callback that calls back into libmst on every message: sets the level (a success and a
 * failure, which sets this thread's last error), reads the last error, and on message
 * number `replace_at` replaces itself with on_log(`next`). Its destroy-notify must not run
 * while it is still running. */
struct reentrant {
    int messages;
    int replace_at;
    struct log *next;
    int inside;
    int destroyed;
    int destroyed_inside;
    int calls_wrong;
};

static void on_log_reentrant(void *user_data, MstLogLevel level, const char *origin, const char *message) {
    (void)level, (void)origin, (void)message;
    struct reentrant *r = user_data;
    r->inside = 1;
    r->messages++;
    if (mst_set_log_level(MST_LOG_DEBUG) != MST_OK) r->calls_wrong++;
    if (mst_set_log_level(0) != MST_ERR_INVALID_ARG) r->calls_wrong++;
    if (strstr(mst_last_error_message(), "log level 0") == NULL) r->calls_wrong++;
    if (r->messages == r->replace_at && mst_set_log_callback(on_log, r->next, on_destroy) != MST_OK)
        r->calls_wrong++;
    r->inside = 0;
}

static void on_destroy_reentrant(void *user_data) {
    struct reentrant *r = user_data;
    r->destroyed++;
    if (r->inside) r->destroyed_inside++;
}

/* Messages from alsa-lib naming /dev/full, and on which kind of thread they came. */
struct from_threads {
    atomic_int on_libmst_thread;
    atomic_int elsewhere;
};

static pthread_t main_thread;

static void on_log_threads(void *user_data, MstLogLevel level, const char *origin, const char *message) {
    struct from_threads *t = user_data;
    if (level != MST_LOG_WARNING || strcmp(origin, "alsa-lib") != 0 || strstr(message, "/dev/full") == NULL ||
        strchr(message, '\n') != NULL)
        return;
    char name[16] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    if (!pthread_equal(pthread_self(), main_thread) && strncmp(name, "mst-", 4) == 0)
        atomic_fetch_add(&t->on_libmst_thread, 1);
    else
        atomic_fetch_add(&t->elsewhere, 1);
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* alsa-lib's "file" PCM (alsa.conf) over /dev/full: opening works, the playback thread's
 * first write of a period fails with ENOSPC, which alsa-lib reports through its error handler
 * on that thread ("... /dev/full write failed ..."), and the playback fails with
 * MST_ERR_IO. Plays a tone there for `wait_ms` at most, until `*until` (if given) is
 * nonzero; returns the stop's status and how many bytes reached stderr meanwhile. */
#define FULL_DISK_PCM "file:'/dev/full',raw"

static MstStatus play_to_full_disk(long wait_ms, atomic_int *until, long *stderr_bytes) {
    MstToneOptions options = MST_STRUCT_INIT(MstToneOptions);
    MstTrack *tone = NULL;
    CHECK_OK(mst_track_create_tone(&options, &tone));
    struct stderr_capture c = stderr_capture();
    MstAudioPlayback *playback = NULL;
    MstStatus opened = mst_audio_playback_open(tone, FULL_DISK_PCM, &playback);
    for (long waited = 0; opened == MST_OK && waited < wait_ms && !(until && atomic_load(until)); waited += 10)
        sleep_ms(10);
    MstStatus stopped = opened == MST_OK ? mst_audio_playback_stop(playback) : opened;
    *stderr_bytes = stderr_restore(c);
    CHECK_OK(opened);
    CHECK_OK(mst_audio_playback_free(playback));
    CHECK_OK(mst_track_free(tone));
    return stopped;
}

int main(void) {
    /* No callback (the default): silent. */
    CHECK_EQ_INT(open_unknown_pcm_counting_stderr(), 0);

    struct log first = {0};
    CHECK_OK(mst_set_log_callback(on_log, &first, on_destroy));
    CHECK_EQ_INT(open_unknown_pcm_counting_stderr(), 0);
    CHECK(first.warnings_from_alsa_naming_pcm >= 1);
    CHECK_EQ_INT(first.calls_into_libmst_ok, first.messages);
    CHECK_EQ_INT(first.destroyed, 0);

    /* Errors only: alsa-lib's warnings are filtered out. */
    CHECK_OK(mst_set_log_level(MST_LOG_ERROR));
    int before = first.messages;
    CHECK_EQ_INT(open_unknown_pcm_counting_stderr(), 0);
    CHECK_EQ_INT(first.messages, before);
    CHECK_STATUS(mst_set_log_level(0), MST_ERR_INVALID_ARG);
    CHECK_STATUS(mst_set_log_level(MST_LOG_DEBUG + 1), MST_ERR_INVALID_ARG);
    CHECK_OK(mst_set_log_level(MST_LOG_DEBUG));
    CHECK_EQ_INT(open_unknown_pcm_counting_stderr(), 0);
    CHECK(first.messages > before);

    /* Replacing runs the old destroy-notify once; the new callback gets the messages. */
    struct log second = {0};
    CHECK_OK(mst_set_log_callback(on_log, &second, on_destroy));
    CHECK_EQ_INT(first.destroyed, 1);
    int first_messages = first.messages;
    CHECK_EQ_INT(open_unknown_pcm_counting_stderr(), 0);
    CHECK(second.warnings_from_alsa_naming_pcm >= 1);
    CHECK_EQ_INT(first.messages, first_messages);

    /* Removing runs it once too, and silence is back. */
    CHECK_OK(mst_set_log_callback(NULL, NULL, NULL));
    CHECK_EQ_INT(second.destroyed, 1);
    int second_messages = second.messages;
    CHECK_EQ_INT(open_unknown_pcm_counting_stderr(), 0);
    CHECK_EQ_INT(second.messages, second_messages);
    CHECK_OK(mst_set_log_callback(NULL, NULL, NULL));
    CHECK_EQ_INT(first.destroyed, 1);
    CHECK_EQ_INT(second.destroyed, 1);

    /* A NULL callback's user data is released at once: libmst keeps nothing of it. */
    struct log unused = {0};
    CHECK_OK(mst_set_log_callback(NULL, &unused, on_destroy));
    CHECK_EQ_INT(unused.destroyed, 1);

    /* Re-entry. Each open of the unknown PCM delivers the same messages at a level: count
     * them with a plain callback, then expect exactly as many through one that calls libmst
     * on every message and replaces itself in the middle of the second open. */
    CHECK_OK(mst_set_log_level(MST_LOG_DEBUG));
    struct log plain = {0};
    CHECK_OK(mst_set_log_callback(on_log, &plain, on_destroy));
    CHECK_EQ_INT(open_unknown_pcm_counting_stderr(), 0);
    int per_open = plain.messages;
    CHECK(per_open >= 1);
    struct log after = {0};
    struct reentrant r = {.replace_at = per_open + 1, .next = &after};
    CHECK_OK(mst_set_log_callback(on_log_reentrant, &r, on_destroy_reentrant));
    CHECK_EQ_INT(plain.destroyed, 1);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(open_unknown_pcm_counting_stderr(), 0);
    CHECK_EQ_INT(r.calls_wrong, 0);
    CHECK_EQ_INT(r.messages, per_open + 1);
    CHECK_EQ_INT(r.messages + after.messages, 3 * per_open);
    CHECK_EQ_INT(r.destroyed, 1);
    CHECK_EQ_INT(r.destroyed_inside, 0);
    CHECK_EQ_INT(after.destroyed, 0);
    CHECK_EQ_INT(plain.messages, per_open);

    /* alsa-lib on a libmst thread, no callback: silent. The playback's MST_ERR_IO shows its
     * thread reached the failing write (so alsa-lib had its say); until then, wait longer. */
    main_thread = pthread_self();
    CHECK_OK(mst_set_log_callback(NULL, NULL, NULL));
    CHECK_EQ_INT(after.destroyed, 1);
    MstStatus stopped = MST_OK;
    for (long wait_ms = 50; stopped == MST_OK && wait_ms <= 12800; wait_ms *= 2) {
        long bytes = -1;
        stopped = play_to_full_disk(wait_ms, NULL, &bytes);
        CHECK_EQ_INT(bytes, 0);
    }
    CHECK_STATUS(stopped, MST_ERR_IO);
    CHECK(strstr(mst_last_error_message(), "/dev/full") != NULL);

    /* With a callback: the message arrives there, from the playback thread. */
    struct from_threads threads = {0};
    CHECK_OK(mst_set_log_callback(on_log_threads, &threads, NULL));
    long bytes = -1;
    CHECK_STATUS(play_to_full_disk(30000, &threads.on_libmst_thread, &bytes), MST_ERR_IO);
    CHECK_EQ_INT(bytes, 0);
    CHECK(atomic_load(&threads.on_libmst_thread) >= 1);
    CHECK_EQ_INT(atomic_load(&threads.elsewhere), 0);
    CHECK_OK(mst_set_log_callback(NULL, NULL, NULL));

    puts("test_log: silent by default; alsa-lib's messages reach the callback, from libmst's threads too, and "
         "the callback may call libmst");
    return 0;
}
