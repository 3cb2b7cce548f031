/* Runs fuzz_api.c's LLVMFuzzerTestOneInput on saved inputs without libFuzzer or clang, so the
 * committed corpus (c-tests/fuzz/corpus) replays as the ctest `fuzz_corpus`, under ASan/UBSan
 * and valgrind too. Arguments: files, or directories whose regular files are all run (not
 * recursively), in name order. `--every N` (first) runs only every Nth file of a directory
 * (the 1st, the N+1th, ...): valgrind's build uses it, since the whole corpus under memcheck
 * takes longer than a test may (the plain and ASan builds replay all of it). A contract violation abort()s inside the input that breaks it;
 * the input's path is printed first. Exits 1 when an argument cannot be read or nothing ran. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) abort();
    for (;;) {
        if (len == cap) {
            cap *= 2;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) abort();
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs every `every`th regular file in `dir`, in name order; returns how many ran, or -1. */
static long run_dir(const char *dir, long every) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) abort();
            names = grown;
        }
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        names[count] = malloc(n);
        if (!names[count]) abort();
        snprintf(names[count], n, "%s/%s", dir, e->d_name);
        count++;
    }
    closedir(d);
    if (count) qsort(names, count, sizeof *names, by_name);
    long ran = 0, seen = 0;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && seen++ % every == 0) {
            if (run_file(names[i]) != 0) ran = -1;
            else if (ran >= 0) ran++;
        }
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv) {
    int first = 1;
    long every = 1;
    if (argc > 2 && strcmp(argv[1], "--every") == 0) {
        char *end = NULL;
        every = strtol(argv[2], &end, 10);
        if (!end || *end != '\0' || every < 1) {
            fprintf(stderr, "replay: --every wants a whole number of at least 1, not '%s'\n", argv[2]);
            return 2;
        }
        first = 3;
    }
    if (argc <= first) {
        fprintf(stderr, "usage: %s [--every N] FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    long total = 0;
    int status = 0;
    for (int i = first; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        long ran = S_ISDIR(st.st_mode) ? run_dir(argv[i], every) : (run_file(argv[i]) == 0 ? 1 : -1);
        if (ran < 0) status = 1;
        else total += ran;
    }
    printf("replay: %ld inputs ran\n", total);
    if (total == 0) {
        fprintf(stderr, "replay: no input ran\n");
        status = 1;
    }
    return status;
}
