/* Receives alsa-lib's error messages on the threads where libmst calls alsa-lib, instead of
 * alsa-lib printing them to stderr.
 *
 * alsa-lib reports through a C-variadic handler; a thread-local one (snd_lib_error_set_local,
 * alsa-lib >= 1.1.6) gets the arguments as a va_list, which only C can format portably. The
 * local handler, unlike snd_lib_error_set_handler, leaves the application's own use of
 * alsa-lib alone: it applies to the threads that set it, and only while the application has
 * not installed a global handler of its own.
 *
 * Declared here rather than through <alsa/error.h>, which needs the rest of asoundlib.h. */
#include <stdarg.h>
#include <stdio.h>

typedef void (*snd_local_error_handler_t)(const char *file, int line, const char *func, int err,
                                          const char *fmt, va_list arg);
snd_local_error_handler_t snd_lib_error_set_local(snd_local_error_handler_t func);

/* Rust's receiver: the message formatted, without alsa-lib's "ALSA lib " prefix. */
typedef void (*mst_alsa_sink)(const char *file, int line, const char *func, int err, const char *message);

static mst_alsa_sink sink;

static void handler(const char *file, int line, const char *func, int err, const char *fmt, va_list arg) {
    char message[1024];
    vsnprintf(message, sizeof message, fmt, arg);
    mst_alsa_sink s = __atomic_load_n(&sink, __ATOMIC_ACQUIRE);
    if (s)
        s(file, line, func, err, message);
}

/* Routes this thread's alsa-lib messages to `s`; returns the previous local handler. */
void *mst_alsa_errors_quiet(mst_alsa_sink s) {
    __atomic_store_n(&sink, s, __ATOMIC_RELEASE);
    return (void *)snd_lib_error_set_local(handler);
}

/* Puts back what mst_alsa_errors_quiet returned. */
void mst_alsa_errors_restore(void *previous) { snd_lib_error_set_local((snd_local_error_handler_t)previous); }
