/* libmst is quiet: without a log callback, opening a PCM alsa-lib does not know (which makes
 * alsa-lib report "Unknown PCM ..." through its error handler, stderr by default) writes
 * nothing to stderr; with a callback, alsa-lib's message arrives there as a warning, naming
 * the PCM, and nothing on stderr either; mst_set_log_level() filters by level; a replaced
 * callback's destroy-notify runs exactly once. stderr is fd 2 pointed at a temporary file
 * around each call. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Opens PCM as a microphone with fd 2 redirected; returns how many bytes reached stderr. */
static long open_unknown_pcm_counting_stderr(void) {
    char path[] = "/tmp/mst-test-log-XXXXXX";
    int capture = mkstemp(path);
    CHECK(capture >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    CHECK(saved >= 0);
    CHECK(dup2(capture, 2) == 2);
    MstTrack *track = NULL;
    MstStatus status = mst_track_create_microphone(PCM, NULL, &track);
    fflush(stderr);
    CHECK(dup2(saved, 2) == 2);
    close(saved);
    CHECK_EQ_INT(status, MST_ERR_NO_DEVICE);
    CHECK(track == NULL);
    CHECK(strstr(mst_last_error_message(), PCM) != NULL);
    long written = lseek(capture, 0, SEEK_END);
    if (written > 0) {
        char text[2048] = {0};
        CHECK(pread(capture, text, sizeof text - 1, 0) >= 0);
        fprintf(stderr, "stderr got %ld bytes:\n%s\n", written, text);
    }
    close(capture);
    return written;
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
    puts("test_log: silent by default; alsa-lib's messages reach the callback");
    return 0;
}
