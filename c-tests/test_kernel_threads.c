/* mst_set_kernel_threads(): 2 by default; 1 keeps a 1080p conversion on the calling thread (no
 * "mst-kernel-helper" thread appears), 2 splits it with that helper; both give the same bytes;
 * other values are refused with MST_ERR_RANGE and change nothing. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Whether this process has a thread named `name` (/proc/self/task/N/comm). */
static int has_thread(const char *name) {
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[64] = {0};
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f) && strncmp(comm, name, strlen(name)) == 0)
            found = 1;
        fclose(f);
    }
    closedir(d);
    return found;
}

/* A 1920x1080 I420 frame converted to BGRA by copyTo, into `out`. */
static void convert_1080p(struct MstFrame *frame, uint8_t *out, size_t len) {
    MstVideoCopyOptions opt = MST_STRUCT_INIT(MstVideoCopyOptions);
    opt.format = MST_VIDEO_PIXEL_FORMAT_BGRA;
    CHECK_OK(mst_frame_video_copy_to(frame, out, len, &opt, NULL));
}

int main(void) {
    uint32_t n = 0;
    CHECK_OK(mst_get_kernel_threads(&n));
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(mst_get_kernel_threads(NULL), MST_ERR_NULL_ARG);

    const uint32_t w = 1920, h = 1080;
    size_t size = (size_t)w * h * 3 / 2;
    uint8_t *yuv = malloc(size);
    CHECK(yuv != NULL);
    for (size_t i = 0; i < size; i++)
        yuv[i] = (uint8_t)(i * 2654435761u >> 24);
    MstVideoFrameInit init = MST_STRUCT_INIT(MstVideoFrameInit);
    init.format = MST_VIDEO_PIXEL_FORMAT_I420;
    init.coded_width = w;
    init.coded_height = h;
    struct MstFrame *frame = NULL;
    CHECK_OK(mst_frame_create_video(&init, yuv, size, &frame));
    size_t len = (size_t)w * h * 4;
    uint8_t *one = malloc(len), *two = malloc(len);
    CHECK(one != NULL && two != NULL);

    /* One thread: the conversion runs here, and no helper exists yet. */
    CHECK_OK(mst_set_kernel_threads(1));
    CHECK_OK(mst_get_kernel_threads(&n));
    CHECK_EQ_INT(n, 1);
    convert_1080p(frame, one, len);
    CHECK(!has_thread("mst-kernel-help"));

    /* Two: the helper exists from the first split on; the bytes are the same. The caller does
     * the helper's half itself when the helper has not started it, which under valgrind (one
     * thread at a time) or on a busy machine can be every half, before the new thread has run
     * at all: its name is its own to set when it first runs, so it is waited for (20 s). */
    CHECK_OK(mst_set_kernel_threads(2));
    convert_1080p(frame, two, len);
    int named = 0;
    for (int i = 0; i < 2000 && !(named = has_thread("mst-kernel-help")); i++)
        mst_test_sleep_ms(10);
    CHECK(named);
    CHECK(memcmp(one, two, len) == 0);

    /* Out of range: refused, with a message, and nothing changes. */
    CHECK_EQ_INT(mst_set_kernel_threads(0), MST_ERR_RANGE);
    CHECK(strstr(mst_last_error_message(), "1 or 2") != NULL);
    CHECK_EQ_INT(mst_set_kernel_threads(3), MST_ERR_RANGE);
    CHECK_OK(mst_get_kernel_threads(&n));
    CHECK_EQ_INT(n, 2);

    CHECK_OK(mst_frame_free(frame));
    free(one);
    free(two);
    free(yuv);
    return 0;
}
