/* The spec's example 3.3, "Custom sink", in C:
 *
 *   tone ---------> audio processor --> reader thread --\  sendAudioToNetwork()
 *                                                         > one socket --> receiver thread
 *   test pattern -> video processor --> reader thread --/  sendVideoToNetwork()
 *
 * Two reader threads play worker.js's writeToSink(): each reads its processor until the end
 * and sends every frame to a "network" sink, then closes the frame. The network is a Unix
 * socket pair: each frame goes as a 32-byte header (kind, sequence, timestamp, size, hash)
 * followed by its bytes (I420 for video, interleaved s16 for audio); a receiver thread on the
 * other end reads the messages back and validates them. setupNetworkSinks() and
 * cleanupNetworkSinks() create the socket and receiver, and shut them down once both readers
 * are done (Promise.all).
 *
 * The check: the receiver got, in order, every frame the processors delivered, with the same
 * size, timestamp and bytes (hash) that the readers sent. The sources run in real time for
 * one second.
 *
 * Build, with libmst installed where pkg-config finds it:
 *   cc -std=c11 custom_sink.c -o custom_sink $(pkg-config --cflags --libs mst) -pthread
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mst.h"

#define WIDTH 320
#define HEIGHT 180
#define VIDEO_FRAMES 30 /* 1 s at 30 fps */
#define SAMPLE_RATE 48000
#define CHANNELS 2
#define AUDIO_CHUNKS 100 /* 1 s of 10 ms chunks */
#define CHUNK_FRAMES 480
#define READ_TIMEOUT_MS 20000 /* a stuck source fails instead of hanging */

#define HEADER_LEN 32
#define MESSAGE_MAGIC 0x4e54534du /* "MSTN" little-endian */

#define MST_TRY(call)                                                                          \
    do {                                                                                       \
        MstStatus try_status_ = (call);                                                        \
        if (try_status_ != MST_OK) {                                                           \
            fprintf(stderr, "custom_sink: %s failed: %s (%s)\n", #call,                         \
                    mst_status_str(try_status_), mst_last_error_message());                    \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "custom_sink: CHECK FAILED (%s): ", #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

static uint32_t fnv1a(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static void put_le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* What went over the network, one entry per frame, kept by each side. */
struct entry {
    uint64_t sequence;
    int64_t timestamp;
    uint32_t size;
    uint32_t hash;
};

struct log {
    struct entry *entries;
    size_t count, cap;
};

static void log_add(struct log *l, struct entry e) {
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        struct entry *bigger = realloc(l->entries, l->cap * sizeof *bigger);
        CHECK(bigger != NULL, "out of memory");
        l->entries = bigger;
    }
    l->entries[l->count++] = e;
}

/* ---- the network sink ------------------------------------------------------------------------ */

struct network {
    int send_fd, receive_fd;
    pthread_mutex_t send_lock; /* one message at a time on the shared socket */
    pthread_t receiver;
    struct log received[2]; /* [0] audio, [1] video */
    bool receiver_ok;
};

static int kind_index(MstKind kind) { return kind == MST_KIND_VIDEO; }

static bool read_exactly(int fd, uint8_t *buf, size_t n, bool *eof) {
    size_t got = 0;
    *eof = false;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            *eof = r == 0 && got == 0;
            return false;
        }
        got += (size_t)r;
    }
    return true;
}

/* The far end: reads messages until the senders shut the socket down, checking each. */
static void *receiver_main(void *arg) {
    struct network *net = arg;
    uint8_t header[HEADER_LEN];
    uint8_t *payload = NULL;
    size_t cap = 0;
    bool eof = false;
    while (read_exactly(net->receive_fd, header, HEADER_LEN, &eof)) {
        uint32_t magic = (uint32_t)get_le(header, 4), kind = (uint32_t)get_le(header + 4, 4);
        struct entry e = {get_le(header + 8, 8), (int64_t)get_le(header + 16, 8),
                          (uint32_t)get_le(header + 24, 4), (uint32_t)get_le(header + 28, 4)};
        if (magic != MESSAGE_MAGIC || (kind != MST_KIND_AUDIO && kind != MST_KIND_VIDEO)) {
            fprintf(stderr, "custom_sink: receiver: bad message header\n");
            free(payload);
            return NULL;
        }
        if (e.size > cap) {
            free(payload);
            payload = malloc(e.size);
            CHECK(payload != NULL, "out of memory");
            cap = e.size;
        }
        if (!read_exactly(net->receive_fd, payload, e.size, &eof)) {
            fprintf(stderr, "custom_sink: receiver: a message is cut short\n");
            free(payload);
            return NULL;
        }
        if (fnv1a(payload, e.size) != e.hash) {
            fprintf(stderr, "custom_sink: receiver: frame %llu's bytes do not match its hash\n",
                    (unsigned long long)e.sequence);
            free(payload);
            return NULL;
        }
        log_add(&net->received[kind_index((MstKind)kind)], e);
    }
    free(payload);
    net->receiver_ok = eof;
    if (!eof) fprintf(stderr, "custom_sink: receiver: read failed: %s\n", strerror(errno));
    return NULL;
}

/* setupNetworkSinks() */
static void setup_network_sinks(struct network *net) {
    int fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair: %s", strerror(errno));
    net->send_fd = fds[0];
    net->receive_fd = fds[1];
    pthread_mutex_init(&net->send_lock, NULL);
    int rc = pthread_create(&net->receiver, NULL, receiver_main, net);
    CHECK(rc == 0, "pthread_create: %s", strerror(rc));
}

/* cleanupNetworkSinks(): end of stream for the receiver, then release everything. */
static void cleanup_network_sinks(struct network *net) {
    CHECK(shutdown(net->send_fd, SHUT_WR) == 0, "shutdown: %s", strerror(errno));
    int rc = pthread_join(net->receiver, NULL);
    CHECK(rc == 0, "pthread_join: %s", strerror(rc));
    close(net->send_fd);
    close(net->receive_fd);
    pthread_mutex_destroy(&net->send_lock);
}

static void send_message(struct network *net, MstKind kind, const struct entry *e,
                         const uint8_t *payload) {
    uint8_t header[HEADER_LEN];
    put_le(header, MESSAGE_MAGIC, 4);
    put_le(header + 4, (uint32_t)kind, 4);
    put_le(header + 8, e->sequence, 8);
    put_le(header + 16, (uint64_t)e->timestamp, 8);
    put_le(header + 24, e->size, 4);
    put_le(header + 28, e->hash, 4);
    const uint8_t *parts[2] = {header, payload};
    size_t lens[2] = {HEADER_LEN, e->size};
    pthread_mutex_lock(&net->send_lock);
    for (int i = 0; i < 2; i++) {
        size_t sent = 0;
        while (sent < lens[i]) {
            ssize_t w = send(net->send_fd, parts[i] + sent, lens[i] - sent, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            CHECK(w > 0, "send: %s", strerror(errno));
            sent += (size_t)w;
        }
    }
    pthread_mutex_unlock(&net->send_lock);
}

/* ---- worker.js ------------------------------------------------------------------------------- */

struct reader {
    MstProcessor *processor; /* borrowed */
    struct network *net;     /* borrowed */
    struct log sent;
    uint8_t *buf;
    size_t cap;
};

static uint8_t *reserve(struct reader *r, size_t len) {
    if (len > r->cap) {
        free(r->buf);
        r->buf = malloc(len);
        CHECK(r->buf != NULL, "out of memory");
        r->cap = len;
    }
    return r->buf;
}

/* sendVideoToNetwork(videoFrame): the visible pixels as packed I420. */
static void send_video(struct reader *r, const MstFrame *frame) {
    MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
    MST_TRY(mst_frame_get_video_info(frame, &info));
    MstVideoCopyOptions opts = MST_STRUCT_INIT(MstVideoCopyOptions);
    size_t len = 0;
    MST_TRY(mst_frame_video_allocation_size(frame, &opts, &len));
    uint8_t *buf = reserve(r, len);
    MST_TRY(mst_frame_video_copy_to(frame, buf, len, &opts, NULL));
    struct entry e = {info.sequence, info.timestamp, (uint32_t)len, fnv1a(buf, len)};
    send_message(r->net, MST_KIND_VIDEO, &e, buf);
    log_add(&r->sent, e);
}

/* sendAudioToNetwork(audioData): every channel, interleaved s16. */
static void send_audio(struct reader *r, const MstFrame *audio) {
    MstAudioDataInfo info = MST_STRUCT_INIT(MstAudioDataInfo);
    MST_TRY(mst_frame_get_audio_info(audio, &info));
    MstAudioCopyOptions opts = MST_STRUCT_INIT(MstAudioCopyOptions);
    opts.format = MST_AUDIO_SAMPLE_FORMAT_S16;
    size_t len = 0;
    MST_TRY(mst_frame_audio_allocation_size(audio, &opts, &len));
    uint8_t *buf = reserve(r, len);
    MST_TRY(mst_frame_audio_copy_to(audio, buf, len, &opts));
    struct entry e = {info.sequence, info.timestamp, (uint32_t)len, fnv1a(buf, len)};
    send_message(r->net, MST_KIND_AUDIO, &e, buf);
    log_add(&r->sent, e);
}

/* writeToSink(readable, sinkFunction) */
static void write_to_sink(struct reader *r, void (*sink)(struct reader *, const MstFrame *)) {
    for (;;) {
        MstFrame *frame = NULL;
        MstStatus st = mst_processor_read(r->processor, READ_TIMEOUT_MS, &frame);
        if (st == MST_ERR_ENDED) break;
        MST_TRY(st);
        sink(r, frame);
        MST_TRY(mst_frame_free(frame));
    }
    free(r->buf);
    r->buf = NULL;
}

static void *audio_reader_main(void *arg) {
    write_to_sink(arg, send_audio);
    return NULL;
}

static void *video_reader_main(void *arg) {
    write_to_sink(arg, send_video);
    return NULL;
}

/* ---- main.js --------------------------------------------------------------------------------- */

static void compare(const char *what, const struct log *sent, const struct log *received,
                    const MstProcessorStats *stats, uint32_t size) {
    CHECK(stats->ended && stats->total == stats->delivered + stats->discarded + stats->queued,
          "%s processor: total %llu != delivered %llu + discarded %llu + queued %llu", what,
          (unsigned long long)stats->total, (unsigned long long)stats->delivered,
          (unsigned long long)stats->discarded, (unsigned long long)stats->queued);
    CHECK(sent->count == stats->delivered && received->count == sent->count,
          "%s: the processor delivered %llu frames, the reader sent %zu, the receiver got %zu",
          what, (unsigned long long)stats->delivered, sent->count, received->count);
    CHECK(sent->count >= 1, "%s: nothing was sent", what);
    for (size_t i = 0; i < sent->count; i++) {
        const struct entry *s = &sent->entries[i], *r = &received->entries[i];
        CHECK(s->sequence == r->sequence && s->timestamp == r->timestamp && s->size == r->size &&
                  s->hash == r->hash,
              "%s message %zu: sent frame %llu at %lld us, %u bytes, hash %08x; received frame "
              "%llu at %lld us, %u bytes, hash %08x",
              what, i, (unsigned long long)s->sequence, (long long)s->timestamp, s->size, s->hash,
              (unsigned long long)r->sequence, (long long)r->timestamp, r->size, r->hash);
        CHECK(s->size == size, "%s frame %llu has %u bytes, not %u", what,
              (unsigned long long)s->sequence, s->size, size);
        CHECK(i == 0 || (s->sequence > sent->entries[i - 1].sequence &&
                         s->timestamp > sent->entries[i - 1].timestamp),
              "%s frames out of order at message %zu", what, i);
    }
}

int main(void) {
    MstToneOptions tone_opts = MST_STRUCT_INIT(MstToneOptions);
    tone_opts.sample_rate = SAMPLE_RATE;
    tone_opts.channels = CHANNELS;
    tone_opts.chunk_frames = CHUNK_FRAMES;
    tone_opts.chunk_count = AUDIO_CHUNKS;
    MstTestPatternOptions video_opts = MST_STRUCT_INIT(MstTestPatternOptions);
    video_opts.width = WIDTH;
    video_opts.height = HEIGHT;
    video_opts.frame_rate = 30.0;
    video_opts.frame_count = VIDEO_FRAMES;

    MstTrack *audio_track = NULL, *video_track = NULL;
    MstProcessor *audio = NULL, *video = NULL;
    MST_TRY(mst_track_create_tone(&tone_opts, &audio_track));
    MST_TRY(mst_processor_create(audio_track, NULL, &audio)); /* the default queues */
    MST_TRY(mst_track_create_test_pattern(&video_opts, &video_track));
    MST_TRY(mst_processor_create(video_track, NULL, &video));

    static struct network net; /* static: zeroed */
    setup_network_sinks(&net);
    struct reader audio_reader = {audio, &net, {0}, NULL, 0};
    struct reader video_reader = {video, &net, {0}, NULL, 0};
    pthread_t threads[2];
    int rc = pthread_create(&threads[0], NULL, audio_reader_main, &audio_reader);
    CHECK(rc == 0, "pthread_create: %s", strerror(rc));
    rc = pthread_create(&threads[1], NULL, video_reader_main, &video_reader);
    CHECK(rc == 0, "pthread_create: %s", strerror(rc));
    for (int i = 0; i < 2; i++) {
        rc = pthread_join(threads[i], NULL);
        CHECK(rc == 0, "pthread_join: %s", strerror(rc));
    }
    cleanup_network_sinks(&net);

    MstProcessorStats as = MST_STRUCT_INIT(MstProcessorStats);
    MstProcessorStats vs = MST_STRUCT_INIT(MstProcessorStats);
    MST_TRY(mst_processor_get_stats(audio, &as));
    MST_TRY(mst_processor_get_stats(video, &vs));
    MST_TRY(mst_processor_free(audio));
    MST_TRY(mst_processor_free(video));
    MST_TRY(mst_track_free(audio_track));
    MST_TRY(mst_track_free(video_track));

    printf("custom_sink: audio: processor total %llu, delivered %llu, discarded %llu; sent %zu, "
           "received %zu\n",
           (unsigned long long)as.total, (unsigned long long)as.delivered,
           (unsigned long long)as.discarded, audio_reader.sent.count, net.received[0].count);
    printf("custom_sink: video: processor total %llu, delivered %llu, discarded %llu; sent %zu, "
           "received %zu\n",
           (unsigned long long)vs.total, (unsigned long long)vs.delivered,
           (unsigned long long)vs.discarded, video_reader.sent.count, net.received[1].count);

    CHECK(net.receiver_ok, "the receiver stopped early (see above)");
    compare("audio", &audio_reader.sent, &net.received[0], &as,
            CHUNK_FRAMES * CHANNELS * (uint32_t)sizeof(int16_t));
    compare("video", &video_reader.sent, &net.received[1], &vs, WIDTH * HEIGHT * 3 / 2);
    free(audio_reader.sent.entries);
    free(video_reader.sent.entries);
    free(net.received[0].entries);
    free(net.received[1].entries);
    printf("custom_sink: OK\n");
    return 0;
}
