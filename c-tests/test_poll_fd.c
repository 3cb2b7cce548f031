/* mst_processor_get_fd(): one fd per processor, level-triggered readable exactly while a frame or
 * the end is ready, for poll() and for epoll (EPOLLIN, level-triggered). */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common.h"

static int poll_readable(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, 0);
    CHECK(n >= 0);
    CHECK((p.revents & (POLLERR | POLLNVAL)) == 0);
    return n == 1 && (p.revents & POLLIN);
}

static int epoll_readable(int ep, int fd) {
    struct epoll_event ev[2];
    memset(ev, 0, sizeof ev);
    int n = epoll_wait(ep, ev, 2, 0);
    CHECK(n >= 0 && n <= 1);
    if (n == 1) {
        CHECK_EQ_INT(ev[0].data.fd, fd);
        CHECK(ev[0].events & EPOLLIN);
    }
    return n;
}

#define EXPECT_READABLE(fd, ep, want)                                                           \
    do {                                                                                        \
        int pr_ = poll_readable(fd), er_ = epoll_readable(ep, fd);                              \
        if (pr_ != (want) || er_ != (want))                                                     \
            MST_TEST_FAIL_("fd readable: poll %d, epoll %d; expected %d", pr_, er_, (int)(want)); \
    } while (0)

/* The fd said ready: a read without waiting gets the frame with timestamp want_ts. */
#define READ_ONE(p, want_ts) CHECK_EQ_INT(mst_test_read_video_info(p).timestamp, want_ts)

int main(void) {
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_get_track(g, &t));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &p));

    int fd = -1;
    CHECK_OK(mst_processor_get_fd(p, &fd));
    CHECK(fd >= 0);
    for (int i = 0; i < 3; i++) {
        int again = -1;
        CHECK_OK(mst_processor_get_fd(p, &again));
        CHECK_EQ_INT(again, fd);
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN; /* level-triggered */
    ev.data.fd = fd;
    CHECK_EQ_INT(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);

    EXPECT_READABLE(fd, ep, 0);
    mst_test_write_video_frame(g, 16, 16, 1);
    EXPECT_READABLE(fd, ep, 1);
    EXPECT_READABLE(fd, ep, 1); /* level-triggered: still reported without a read */
    mst_test_write_video_frame(g, 16, 16, 2);
    mst_test_write_video_frame(g, 16, 16, 3);
    READ_ONE(p, 1);
    EXPECT_READABLE(fd, ep, 1); /* frames remain */
    READ_ONE(p, 2);
    EXPECT_READABLE(fd, ep, 1);
    READ_ONE(p, 3);
    EXPECT_READABLE(fd, ep, 0); /* drained */
    MstFrame *none = NULL;
    CHECK_STATUS(mst_processor_read(p, 0, &none), MST_ERR_AGAIN);
    EXPECT_READABLE(fd, ep, 0);

    /* Overflow (drop-oldest) keeps it readable until the queue is empty. */
    for (int i = 10; i < 16; i++) mst_test_write_video_frame(g, 16, 16, i);
    EXPECT_READABLE(fd, ep, 1);
    for (int i = 12; i < 16; i++) {
        EXPECT_READABLE(fd, ep, 1);
        READ_ONE(p, i);
    }
    EXPECT_READABLE(fd, ep, 0);

    /* A second processor asked for its fd while a frame is already queued: readable at once. */
    MstProcessor *p2 = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(4), &p2));
    mst_test_write_video_frame(g, 16, 16, 20);
    READ_ONE(p, 20);
    int fd2 = -1;
    CHECK_OK(mst_processor_get_fd(p2, &fd2));
    CHECK(fd2 >= 0 && fd2 != fd);
    CHECK(poll_readable(fd2));
    CHECK(!poll_readable(fd));
    READ_ONE(p2, 20);
    CHECK(!poll_readable(fd2));

    /* The end: readable again, reads say MST_ERR_ENDED, and it stays readable. */
    CHECK_OK(mst_track_stop(t));
    EXPECT_READABLE(fd, ep, 1);
    CHECK(poll_readable(fd2));
    CHECK_STATUS(mst_processor_read(p, 0, &none), MST_ERR_ENDED);
    EXPECT_READABLE(fd, ep, 1);
    CHECK_STATUS(mst_processor_read(p, 0, &none), MST_ERR_ENDED);
    CHECK_STATUS(mst_processor_read(p2, -1, &none), MST_ERR_ENDED);
    CHECK(none == NULL);
    int again = -1;
    CHECK_OK(mst_processor_get_fd(p, &again)); /* still the same fd after the end */
    CHECK_EQ_INT(again, fd);

    /* A processor closed with mst_processor_close(): readable, ended. */
    MstGenerator *g2 = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g2));
    MstTrack *t2 = NULL;
    CHECK_OK(mst_generator_get_track(g2, &t2));
    MstProcessor *p3 = NULL;
    CHECK_OK(mst_processor_create(t2, MST_TEST_BUFFER(2), &p3));
    int fd3 = -1;
    CHECK_OK(mst_processor_get_fd(p3, &fd3));
    CHECK(!poll_readable(fd3));
    CHECK_OK(mst_processor_close(p3));
    CHECK(poll_readable(fd3));
    CHECK_STATUS(mst_processor_read(p3, 0, &none), MST_ERR_ENDED);

    CHECK_EQ_INT(close(ep), 0);
    CHECK_OK(mst_processor_free(p3));
    CHECK_OK(mst_track_free(t2));
    CHECK_OK(mst_generator_free(g2));
    CHECK_OK(mst_processor_free(p2));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
    printf("test_poll_fd: ok\n");
    return 0;
}
