/* Devices through the C API on a machine with no sound card, using alsa-lib's `file` plugin
 * over its `null` plugin: mst_devices_enumerate() lists "default" as an input and an output;
 * mst_track_create_microphone() on a file-plugin capture PCM returns its infile exactly, in
 * 10 ms chunks with increasing timestamps, with the negotiated settings, and counts them;
 * impossible constraints are MST_ERR_OVERCONSTRAINED; unknown ids are MST_ERR_NO_DEVICE
 * naming the id; mst_audio_playback_open() on a file-plugin playback PCM writes exactly the
 * samples a processor on the same track reads, then at most a buffer of silence.
 *
 * ALSA_CONFIG_PATH is set before the first libmst call, hence before alsa-lib loads its
 * configuration (it reads the variable then). The stock alsa.conf stays first: it defines
 * the "null" PCM. The null slave has no clock, so nothing here measures time. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define RATE 48000
#define CHUNK 480
#define INFILE_FRAMES (20 * RATE)

static char dir[256];

static void path_in_dir(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) MST_TEST_FAIL_("cannot create %s", path);
    CHECK_EQ_INT(fwrite(data, 1, len, f), len);
    CHECK_EQ_INT(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) MST_TEST_FAIL_("cannot open %s", path);
    CHECK_EQ_INT(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    CHECK(n >= 0);
    CHECK_EQ_INT(fseek(f, 0, SEEK_SET), 0);
    uint8_t *buf = malloc((size_t)n + 1);
    CHECK(buf != NULL);
    CHECK_EQ_INT(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The infile: s16 stereo; left = the frame index's low 16 bits, right = its high bits, so a
 * chunk tells where in the file it starts. */
static int16_t *make_infile(void) {
    int16_t *s = malloc((size_t)INFILE_FRAMES * 4);
    CHECK(s != NULL);
    for (uint32_t i = 0; i < INFILE_FRAMES; i++) {
        s[2 * i] = (int16_t)(uint16_t)(i & 0xffff);
        s[2 * i + 1] = (int16_t)(uint16_t)(i >> 16);
    }
    return s;
}

static void configure_alsa(void) {
    char in[300], out[300], conf[300], text[2048], env[700];
    snprintf(dir, sizeof dir, "/tmp/mst-c-alsa-%ld", (long)getpid());
    snprintf(text, sizeof text, "mkdir -p %s", dir);
    CHECK_EQ_INT(system(text), 0);
    path_in_dir(in, sizeof in, "in.raw");
    path_in_dir(out, sizeof out, "out.raw");
    path_in_dir(conf, sizeof conf, "asound.conf");
    int16_t *samples = make_infile();
    write_file(in, samples, (size_t)INFILE_FRAMES * 4);
    free(samples);
    int n = snprintf(text, sizeof text,
                     "pcm.mst_capture { type file slave.pcm \"null\" file \"/dev/null\" infile \"%s\" format \"raw\" }\n"
                     "pcm.mst_play { type file slave.pcm \"null\" file \"%s\" format \"raw\" }\n",
                     in, out);
    CHECK(n > 0 && (size_t)n < sizeof text);
    write_file(conf, text, (size_t)n);
    snprintf(env, sizeof env, "/usr/share/alsa/alsa.conf:%s", conf);
    CHECK_EQ_INT(setenv("ALSA_CONFIG_PATH", env, 1), 0);
}

static void test_enumerate(void) {
    MstDeviceList *list = NULL;
    CHECK_OK(mst_devices_enumerate(&list));
    size_t count = 0;
    CHECK_OK(mst_device_list_get_count(list, &count));
    CHECK(count >= 2);
    int default_in = 0, default_out = 0;
    for (size_t i = 0; i < count; i++) {
        MstDeviceInfo d = MST_STRUCT_INIT(MstDeviceInfo);
        CHECK_OK(mst_device_list_get_device(list, i, &d));
        CHECK(d.device_id != NULL && d.label != NULL && d.group_id != NULL);
        CHECK(d.label[0] != 0 && d.group_id[0] != 0);
        CHECK(d.kind >= MST_DEVICE_KIND_AUDIO_INPUT && d.kind <= MST_DEVICE_KIND_VIDEO_OUTPUT);
        if (strcmp(d.device_id, "default") == 0) {
            default_in += d.kind == MST_DEVICE_KIND_AUDIO_INPUT;
            default_out += d.kind == MST_DEVICE_KIND_AUDIO_OUTPUT;
        }
        for (size_t j = 0; j < i; j++) {
            MstDeviceInfo e = MST_STRUCT_INIT(MstDeviceInfo);
            CHECK_OK(mst_device_list_get_device(list, j, &e));
            CHECK(!(e.kind == d.kind && strcmp(e.device_id, d.device_id) == 0));
        }
    }
    CHECK_EQ_INT(default_in, 1);
    CHECK_EQ_INT(default_out, 1);
    MstDeviceInfo d = MST_STRUCT_INIT(MstDeviceInfo);
    CHECK_STATUS(mst_device_list_get_device(list, count, &d), MST_ERR_RANGE);
    CHECK_STATUS(mst_device_list_get_count(list, NULL), MST_ERR_NULL_ARG);
    CHECK_OK(mst_device_list_free(list));
    CHECK_STATUS(mst_device_list_get_count(list, &count), MST_ERR_INVALID_STATE);
    CHECK_OK(mst_device_list_free(NULL));
}

static MstConstrainRange exact(double v) {
    MstConstrainRange r;
    memset(&r, 0, sizeof r);
    r.present = MST_CONSTRAIN_EXACT;
    r.exact = v;
    return r;
}

static void test_capture(void) {
    MstAudioConstraints c = MST_STRUCT_INIT(MstAudioConstraints);
    c.sample_rate = exact(RATE);
    c.channel_count = exact(2);
    c.sample_size = exact(16);
    MstTrack *track = NULL;
    CHECK_OK(mst_track_create_microphone("mst_capture", &c, &track));
    MstKind kind;
    CHECK_OK(mst_track_get_kind(track, &kind));
    CHECK_EQ_INT(kind, MST_KIND_AUDIO);
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(track, MST_TEST_BUFFER(1000), &p));
    int64_t last_pos = -1, last_ts = 0;
    uint8_t buf[CHUNK * 4];
    for (int n = 0; n < 50; n++) {
        MstFrame *f = NULL;
        CHECK_OK(mst_processor_read(p, 10000, &f));
        MstAudioDataInfo a = MST_STRUCT_INIT(MstAudioDataInfo);
        CHECK_OK(mst_frame_get_audio_info(f, &a));
        CHECK_EQ_INT(a.format, MST_AUDIO_SAMPLE_FORMAT_S16);
        CHECK_EQ_INT(a.number_of_channels, 2);
        CHECK_EQ_INT(a.number_of_frames, CHUNK);
        CHECK(a.sample_rate == (float)RATE);
        CHECK_OK(mst_frame_audio_copy_to(f, buf, sizeof buf, NULL));
        int64_t pos = (int64_t)((uint32_t)(buf[0] | buf[1] << 8) | (uint32_t)(buf[2] | buf[3] << 8) << 16);
        CHECK(pos + CHUNK <= INFILE_FRAMES);
        for (int i = 0; i < CHUNK; i++) { /* every frame is the infile's, in order */
            uint32_t want = (uint32_t)(pos + i);
            uint32_t got = (uint32_t)(buf[4 * i] | buf[4 * i + 1] << 8) | (uint32_t)(buf[4 * i + 2] | buf[4 * i + 3] << 8) << 16;
            CHECK_EQ_INT(got, want);
        }
        if (last_pos >= 0) {
            CHECK(pos > last_pos && (pos - last_pos) % CHUNK == 0);
            CHECK(a.timestamp > last_ts);
            if (pos == last_pos + CHUNK) CHECK_EQ_INT(a.timestamp - last_ts, 10000);
        }
        last_pos = pos;
        last_ts = a.timestamp;
        CHECK_OK(mst_frame_free(f));
    }
    MstSettings s = MST_STRUCT_INIT(MstSettings);
    CHECK_OK(mst_track_get_settings(track, &s));
    CHECK(s.present & MST_SETTING_SAMPLE_RATE);
    CHECK(s.sample_rate == RATE);
    CHECK_EQ_INT(s.channel_count, 2);
    CHECK_EQ_INT(s.sample_size, 16);
    MstCaptureStats cs = MST_STRUCT_INIT(MstCaptureStats);
    CHECK_OK(mst_track_get_capture_stats(track, &cs));
    CHECK(cs.chunks >= 50);
    CHECK_EQ_INT(cs.frames, cs.chunks * CHUNK);
    CHECK_OK(mst_track_stop(track));
    MstEndReason reason;
    CHECK_OK(mst_track_get_end_reason(track, &reason));
    CHECK_EQ_INT(reason, MST_END_REASON_STOPPED);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(track));

    /* NULL constraints: defaults (48000 Hz, 2 channels, 16 bits on this device). */
    CHECK_OK(mst_track_create_microphone("mst_capture", NULL, &track));
    CHECK_OK(mst_processor_create(track, MST_TEST_BUFFER(10), &p));
    MstFrame *f = NULL;
    CHECK_OK(mst_processor_read(p, 10000, &f));
    MstAudioDataInfo a = MST_STRUCT_INIT(MstAudioDataInfo);
    CHECK_OK(mst_frame_get_audio_info(f, &a));
    CHECK(a.sample_rate == 48000.0f);
    CHECK_EQ_INT(a.number_of_channels, 2);
    CHECK_EQ_INT(a.format, MST_AUDIO_SAMPLE_FORMAT_S16);
    CHECK_OK(mst_frame_free(f));
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(track));

    /* A generator's track has no capture stats. */
    MstGenerator *g = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &track));
    CHECK_STATUS(mst_track_get_capture_stats(track, &cs), MST_ERR_TYPE);
    CHECK_OK(mst_track_free(track));
    CHECK_OK(mst_generator_free(g));
}

static void test_errors(void) {
    MstTrack *track = (MstTrack *)0x1;
    MstAudioConstraints c = MST_STRUCT_INIT(MstAudioConstraints);
    c.sample_rate = exact(1000000);
    CHECK_STATUS(mst_track_create_microphone("mst_capture", &c, &track), MST_ERR_OVERCONSTRAINED);
    CHECK(strstr(mst_last_error_message(), "sampleRate") != NULL);
    CHECK(track == (MstTrack *)0x1); /* untouched on error */
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.sample_size = exact(24);
    CHECK_STATUS(mst_track_create_microphone("mst_capture", &c, &track), MST_ERR_OVERCONSTRAINED);
    CHECK(strstr(mst_last_error_message(), "sampleSize") != NULL);
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.channel_count.present = 0x100;
    CHECK_STATUS(mst_track_create_microphone("mst_capture", &c, &track), MST_ERR_INVALID_ARG);

    CHECK_STATUS(mst_track_create_microphone("mst_no_such_pcm", NULL, &track), MST_ERR_NO_DEVICE);
    CHECK(strstr(mst_last_error_message(), "mst_no_such_pcm") != NULL);
    CHECK_STATUS(mst_track_create_microphone("mst_capture", NULL, NULL), MST_ERR_NULL_ARG);

    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    /* A sentinel, so an out-pointer written on failure (even with NULL) would show. */
    MstAudioPlayback *const untouched = (MstAudioPlayback *)(uintptr_t)0x5a5a5a5a;
    MstAudioPlayback *pb = untouched;
    CHECK_STATUS(mst_audio_playback_open(t, "hw:CARD=NoSuchCard,DEV=0", &pb), MST_ERR_NO_DEVICE);
    CHECK(strstr(mst_last_error_message(), "hw:CARD=NoSuchCard,DEV=0") != NULL);
    CHECK(pb == untouched);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));

    CHECK_OK(mst_generator_create(MST_KIND_VIDEO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    CHECK_STATUS(mst_audio_playback_open(t, "mst_play", &pb), MST_ERR_TYPE);
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));

    CHECK_STATUS(mst_audio_playback_stop(NULL), MST_ERR_NULL_ARG);
    CHECK_OK(mst_audio_playback_free(NULL));
    MstAudioPlaybackStats st = MST_STRUCT_INIT(MstAudioPlaybackStats);
    CHECK_STATUS(mst_audio_playback_get_stats(NULL, &st), MST_ERR_NULL_ARG);
}

static void test_playback(void) {
    MstGenerator *g = NULL;
    MstTrack *t = NULL;
    CHECK_OK(mst_generator_create(MST_KIND_AUDIO, &g));
    CHECK_OK(mst_generator_get_track(g, &t));
    MstAudioPlayback *pb = NULL;
    CHECK_OK(mst_audio_playback_open(t, "mst_play", &pb));
    MstProcessor *p = NULL;
    CHECK_OK(mst_processor_create(t, MST_TEST_BUFFER(100), &p));
    enum { CHUNKS = 30 };
    static int16_t samples[CHUNKS * CHUNK * 2];
    for (int i = 0; i < CHUNKS * CHUNK; i++) { /* a ramp on the left, its negation on the right */
        samples[2 * i] = (int16_t)(i * 7);
        samples[2 * i + 1] = (int16_t)-(i * 7);
    }
    for (int n = 0; n < CHUNKS; n++) {
        MstAudioDataInit init = MST_STRUCT_INIT(MstAudioDataInit);
        init.format = MST_AUDIO_SAMPLE_FORMAT_S16;
        init.sample_rate = RATE;
        init.number_of_frames = CHUNK;
        init.number_of_channels = 2;
        init.timestamp = (int64_t)n * 10000;
        MstFrame *f = NULL;
        CHECK_OK(mst_frame_create_audio(&init, (const uint8_t *)&samples[n * CHUNK * 2], CHUNK * 4, &f));
        CHECK_OK(mst_generator_write(g, f));
        CHECK_OK(mst_frame_free(f));
    }
    /* What a processor on the same track read (before the end empties its queue). */
    static uint8_t expected[CHUNKS * CHUNK * 4];
    for (int n = 0; n < CHUNKS; n++) {
        MstFrame *f = NULL;
        CHECK_OK(mst_processor_read(p, 0, &f));
        CHECK_OK(mst_frame_audio_copy_to(f, expected + (size_t)n * CHUNK * 4, CHUNK * 4, NULL));
        CHECK_OK(mst_frame_free(f));
    }
    CHECK_OK(mst_generator_close(g));
    MstAudioPlaybackStats st = MST_STRUCT_INIT(MstAudioPlaybackStats);
    CHECK_OK(mst_audio_playback_get_stats(pb, &st));
    CHECK_OK(mst_audio_playback_stop(pb)); /* the track ended: plays everything out */
    CHECK_OK(mst_audio_playback_stop(pb)); /* stopped already: the same outcome */
    CHECK_OK(mst_audio_playback_get_stats(pb, &st)); /* the final counters, after stop */
    CHECK_EQ_INT(st.frames_played, CHUNKS * CHUNK);
    CHECK_EQ_INT(st.chunks_dropped, 0);
    CHECK_EQ_INT(st.chunks_rejected, 0);
    CHECK_OK(mst_audio_playback_free(pb));
    CHECK_STATUS(mst_audio_playback_get_stats(pb, &st), MST_ERR_INVALID_STATE);
    CHECK_STATUS(mst_audio_playback_free(pb), MST_ERR_INVALID_STATE);
    char out[300];
    path_in_dir(out, sizeof out, "out.raw");
    size_t len = 0;
    uint8_t *written = read_file(out, &len);
    /* The samples, then the silence the sink ends a stream with (so a device never plays stale
     * buffer contents past the end): at most a buffer of 4 periods. */
    CHECK(len >= sizeof expected && len <= sizeof expected + 4 * CHUNK * 4);
    CHECK(memcmp(written, expected, sizeof expected) == 0);
    for (size_t i = sizeof expected; i < len; i++) CHECK(written[i] == 0);
    CHECK(memcmp(expected, samples, sizeof expected) == 0);
    free(written);
    CHECK_OK(mst_processor_free(p));
    CHECK_OK(mst_track_free(t));
    CHECK_OK(mst_generator_free(g));
}

int main(void) {
    configure_alsa();
    test_enumerate();
    test_capture();
    test_errors();
    test_playback();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    printf("alsa host: ok\n");
    return 0;
}
