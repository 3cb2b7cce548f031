// mst.hpp, the C++17 layer: RAII handles freed once (ASan and valgrind runs of this test
// catch leaks and double frees), exceptions carrying the status and message, moves leaving
// empty handles, reads that end without throwing, callbacks whose std::function is destroyed
// (once: a second delete is a double free those runs catch), plane spans that are the C
// API's, the latest-only processor, and the sinks' and device list's owners. Frames over the
// caller's memory release it once, when the media's last reference goes; the log callback
// gets alsa-lib's messages, may call libmst, cannot throw into C, and is destroyed once.
#include "mst.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);            \
      std::exit(1);                                                                            \
    }                                                                                          \
  } while (0)

// CHECK_THROWS(expr, status): expr throws mst::Error with `status` and a message naming `fn`.
#define CHECK_THROWS(expr, want, fn)                                                           \
  do {                                                                                         \
    bool thrown_ = false;                                                                      \
    try {                                                                                      \
      expr;                                                                                    \
    } catch (const mst::Error &e) {                                                            \
      thrown_ = true;                                                                          \
      if (e.status() != (want) || std::string(e.what()).find(fn) != 0 ||                       \
          std::strlen(e.what()) <= std::strlen(fn) + 2) {                                      \
        std::fprintf(stderr, "%s:%d: %s threw %s (%d): %s\n", __FILE__, __LINE__, #expr,       \
                     mst_status_str(e.status()), (int)e.status(), e.what());                   \
        std::exit(1);                                                                          \
      }                                                                                        \
    }                                                                                          \
    if (!thrown_) {                                                                            \
      std::fprintf(stderr, "%s:%d: %s did not throw\n", __FILE__, __LINE__, #expr);            \
      std::exit(1);                                                                            \
    }                                                                                          \
  } while (0)

namespace {

constexpr std::uint32_t kWidth = 64, kHeight = 48;

// An I420 frame whose luma bytes are `luma`, chroma 0x80.
mst::Frame video_frame(std::int64_t timestamp, std::uint8_t luma) {
  std::vector<std::uint8_t> pixels(kWidth * kHeight * 3 / 2, 0x80);
  std::memset(pixels.data(), luma, kWidth * kHeight);
  auto init = mst::init<MstVideoFrameInit>();
  init.format = MST_VIDEO_PIXEL_FORMAT_I420;
  init.coded_width = kWidth;
  init.coded_height = kHeight;
  init.timestamp = timestamp;
  return mst::Frame::video(init, pixels.data(), pixels.size());
}

void test_errors() {
  CHECK_THROWS(mst::Generator(static_cast<MstKind>(7)), MST_ERR_TYPE, "mst_generator_create");
  mst::Generator generator(MST_KIND_VIDEO);
  mst::Track track = generator.track();
  mst::ProcessorOptions too_big;
  too_big.max_buffer_size = 70000;
  CHECK_THROWS(mst::Processor(track, too_big), MST_ERR_TYPE, "mst_processor_create");
  CHECK_THROWS(track.set_content_hint("music"), MST_ERR_INVALID_ARG, "mst_track_set_content_hint");
  track.set_content_hint("detail");
  CHECK(track.content_hint() == "detail");

  // An audio track has no capabilities: any constraint is overconstrained, and the
  // exception names the property.
  mst::Generator audio(MST_KIND_AUDIO);
  auto constraints = mst::init<MstVideoConstraints>();
  constraints.width.present = MST_CONSTRAIN_EXACT;
  constraints.width.exact = 320;
  try {
    audio.track().apply_constraints(constraints);
    CHECK(!"apply_constraints on an audio track did not throw");
  } catch (const mst::Error &e) {
    CHECK(e.status() == MST_ERR_OVERCONSTRAINED);
    CHECK(e.constraint() == "width");
  }
}

void test_moves() {
  mst::Frame a = video_frame(1, 10);
  MstFrame *raw = a.get();
  mst::Frame b = std::move(a);
  CHECK(!a && a.get() == nullptr); // NOLINT(bugprone-use-after-move): the point of the test
  CHECK(b && b.get() == raw);
  // Calls on the moved-from handle reach libmst with NULL: an error, not a crash.
  CHECK_THROWS(a.video_info(), MST_ERR_NULL_ARG, "mst_frame_get_video_info");
  CHECK_THROWS(a.color_space(), MST_ERR_NULL_ARG, "mst_frame_get_color_space");
  std::int32_t fd = -1;
  MstPlaneLayouts layout{};
  CHECK_THROWS(a.dmabuf(fd, layout), MST_ERR_NULL_ARG, "mst_frame_get_dmabuf");
  // Move-assigning over a live frame frees it (a leak otherwise, under ASan and valgrind).
  mst::Frame c = video_frame(2, 20);
  c = std::move(b);
  CHECK(c.get() == raw && !b);
  CHECK(c.video_info().timestamp == 1);
  // release() hands the handle back to C.
  MstFrame *released = c.release();
  CHECK(!c && released == raw);
  CHECK(mst_frame_free(released) == MST_OK);

  mst::Generator g1(MST_KIND_VIDEO);
  mst::Generator g2 = std::move(g1);
  CHECK(!g1 && g2);
  mst::Track t = g2.track();
  mst::Track t2;
  t2 = std::move(t);
  CHECK(!t && t2.kind() == MST_KIND_VIDEO);
}

void test_video_round_trip() {
  mst::Generator generator(MST_KIND_VIDEO);
  mst::Track track = generator.track();
  mst::ProcessorOptions options;
  options.max_buffer_size = 4;
  mst::Processor processor(track, options);
  CHECK(processor.stats().max_buffer_size == 4);

  for (std::int64_t i = 0; i < 3; i++) {
    mst::Frame frame = video_frame(i * 1000, static_cast<std::uint8_t>(16 + i));
    generator.write(frame);
    // The write closed the frame; the handle is still ours (and freed at scope end).
    CHECK(frame);
    CHECK_THROWS(frame.video_plane(0), MST_ERR_INVALID_STATE, "mst_frame_get_video_plane");
  }
  // A closed frame is the spec's TypeError, and errors that writable (so another generator).
  mst::Generator errored(MST_KIND_VIDEO);
  mst::Frame closed = video_frame(9, 9);
  closed.close();
  CHECK_THROWS(errored.write(closed), MST_ERR_TYPE, "mst_generator_write");
  CHECK(errored.state() == MST_WRITABLE_STATE_ERRORED);

  for (std::int64_t i = 0; i < 3; i++) {
    mst::ReadResult result = processor.read(0);
    CHECK(result && result.status == mst::ReadStatus::frame);
    const mst::Frame &frame = result.frame;
    CHECK(frame.kind() == MST_KIND_VIDEO);
    MstVideoFrameInfo info = frame.video_info();
    CHECK(info.timestamp == i * 1000);
    CHECK(info.coded_width == kWidth && info.num_planes == 3);
    CHECK(info.sequence == static_cast<std::uint64_t>(i + 1));
    MstVideoColorSpace space = frame.color_space();  // I420 written without one: BT.709 limited
    CHECK(space.matrix == MST_VIDEO_MATRIX_BT709 && space.range == MST_VIDEO_COLOR_RANGE_LIMITED);
    std::int32_t fd = -1;
    MstPlaneLayouts layout{};
    CHECK(!frame.dmabuf(fd, layout) && fd == -1);  // a generator's frame is no driver buffer
    for (std::uint32_t plane = 0; plane < info.num_planes; plane++) {
      mst::VideoPlane view = frame.video_plane(plane);
      const std::uint8_t *data = nullptr;
      std::size_t stride = 0, len = 0;
      CHECK(mst_frame_get_video_plane(frame.get(), plane, &data, &stride, &len) == MST_OK);
      CHECK(view.data.data() == data && view.data.size() == len && view.stride == stride);
      CHECK(view.stride >= (plane == 0 ? kWidth : kWidth / 2));
      CHECK(view.data.size() >= view.stride * ((plane == 0 ? kHeight : kHeight / 2) - 1));
      CHECK(view.data[0] == (plane == 0 ? 16 + i : 0x80));
    }
    CHECK_THROWS(frame.video_plane(3), MST_ERR_RANGE, "mst_frame_get_video_plane");
    CHECK_THROWS(frame.audio_info(), MST_ERR_TYPE, "mst_frame_get_audio_info");
    std::vector<std::uint8_t> copy = frame.video_copy();
    CHECK(copy.size() == kWidth * kHeight * 3 / 2 && copy[0] == 16 + i);
  }
  CHECK(processor.read(0).status == mst::ReadStatus::again);
  CHECK(processor.read(1).status == mst::ReadStatus::timeout);
  MstProcessorStats stats = processor.stats();
  CHECK(stats.total == 3 && stats.delivered == 3 && stats.discarded == 0 && !stats.ended);

  generator.close();
  CHECK(generator.state() == MST_WRITABLE_STATE_CLOSED);
  // The end is a status, not an exception, and stays so.
  CHECK(processor.read(-1).status == mst::ReadStatus::ended);
  CHECK(processor.read(0).status == mst::ReadStatus::ended);
  CHECK(track.ready_state() == MST_READY_STATE_ENDED);
  CHECK(track.end_reason() == MST_END_REASON_WRITABLE_CLOSED);
}

void test_audio_round_trip() {
  mst::Generator generator(MST_KIND_AUDIO);
  mst::Processor processor(generator.track());
  constexpr std::uint32_t frames = 480, channels = 2;
  std::vector<float> samples(frames * channels, 0.25f);
  auto init = mst::init<MstAudioDataInit>();
  init.format = MST_AUDIO_SAMPLE_FORMAT_F32;
  init.sample_rate = 48000;
  init.number_of_frames = frames;
  init.number_of_channels = channels;
  generator.write(mst::Frame::audio(init, samples.data(), samples.size() * sizeof(float)));

  mst::ReadResult result = processor.read(0);
  CHECK(result);
  MstAudioDataInfo info = result.frame.audio_info();
  CHECK(info.number_of_frames == frames && info.number_of_channels == channels);
  mst::span<const std::uint8_t> plane = result.frame.audio_plane(0);
  const std::uint8_t *data = nullptr;
  std::size_t len = 0;
  CHECK(mst_frame_get_audio_plane(result.frame.get(), 0, &data, &len) == MST_OK);
  CHECK(plane.data() == data && plane.size() == len && len == frames * channels * sizeof(float));
  float first = 0;
  std::memcpy(&first, plane.data(), sizeof first);
  CHECK(first == 0.25f);
  auto to_s16 = mst::init<MstAudioCopyOptions>();
  to_s16.format = MST_AUDIO_SAMPLE_FORMAT_S16;
  CHECK(result.frame.audio_copy(to_s16).size() == frames * channels * 2);
}

void test_latest_only() {
  mst::Generator generator(MST_KIND_VIDEO);
  mst::ProcessorOptions options;
  options.latest_only = true;
  mst::Processor processor(generator.track(), options);
  for (std::int64_t i = 0; i < 3; i++) generator.write(video_frame(i, 0));
  mst::ReadResult result = processor.read(0);
  CHECK(result && result.frame.video_info().timestamp == 2);
  CHECK(result.frame.video_info().discarded_before == 2);
  CHECK(processor.read(0).status == mst::ReadStatus::again);
  MstProcessorStats stats = processor.stats();
  CHECK(stats.max_buffer_size == 1 && stats.discarded_superseded == 2 && stats.delivered == 1);
}

// Callbacks: each std::function (holding a probe) is destroyed when mst.h says, once.
void test_callbacks() {
  struct Collected {
    std::mutex lock;
    std::condition_variable changed;
    std::vector<std::int64_t> timestamps;
    bool ended = false;
  };
  auto collected = std::make_shared<Collected>();
  auto frame_probe = std::make_shared<int>(0);
  std::weak_ptr<int> frame_alive = frame_probe;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);

  mst::Generator generator(MST_KIND_VIDEO);
  mst::Track track = generator.track();
  MstEndReason ended_reason = MST_END_REASON_NONE;
  int ended_calls = 0;
  {
    auto ended_probe = std::make_shared<int>(0);
    std::weak_ptr<int> ended_alive = ended_probe;
    track.on_ended([ended_probe, &ended_reason, &ended_calls](MstEndReason reason) {
      ended_reason = reason;
      ended_calls++;
    });
    ended_probe.reset();
    CHECK(!ended_alive.expired()); // held by the registration

    mst::ProcessorOptions options;
    options.max_buffer_size = 8;
    mst::Processor processor(track, options);
    processor.set_callback([collected, frame_probe](mst::Frame frame) {
      std::lock_guard<std::mutex> guard(collected->lock);
      if (frame)
        collected->timestamps.push_back(frame.video_info().timestamp);
      else
        collected->ended = true;
      collected->changed.notify_all();
    });
    frame_probe.reset();
    CHECK(!frame_alive.expired()); // held by the registration
    CHECK_THROWS(processor.read(0), MST_ERR_INVALID_STATE, "mst_processor_read");

    for (std::int64_t i = 0; i < 3; i++) generator.write(video_frame(i, 0));
    {
      std::unique_lock<std::mutex> guard(collected->lock);
      CHECK(collected->changed.wait_until(guard, deadline, [&] { return collected->timestamps.size() == 3; }));
      CHECK((collected->timestamps == std::vector<std::int64_t>{0, 1, 2}));
    }
    generator.close(); // ends the track: the ended callback runs here, on this thread
    CHECK(ended_calls == 1 && ended_reason == MST_END_REASON_WRITABLE_CLOSED);
    CHECK(ended_alive.expired()); // destroyed after it fired
    {
      std::unique_lock<std::mutex> guard(collected->lock);
      CHECK(collected->changed.wait_until(guard, deadline, [&] { return collected->ended; }));
    }
  } // the processor is freed: its callback thread has exited and destroyed the function
  CHECK(frame_alive.expired());

  // A failed registration (an empty handle) still destroys the function, once, and throws.
  auto failed_probe = std::make_shared<int>(0);
  std::weak_ptr<int> failed_alive = failed_probe;
  mst::Track empty;
  CHECK_THROWS(empty.on_ended([failed_probe](MstEndReason) {}), MST_ERR_NULL_ARG, "mst_track_set_ended_callback");
  mst::Processor empty_processor;
  CHECK_THROWS(empty_processor.set_callback([failed_probe](mst::Frame) {}), MST_ERR_NULL_ARG,
               "mst_processor_set_callback");
  failed_probe.reset();
  CHECK(failed_alive.expired());

  // A callback that never fires is destroyed when the track goes away.
  auto never_probe = std::make_shared<int>(0);
  std::weak_ptr<int> never_alive = never_probe;
  {
    mst::Generator g(MST_KIND_AUDIO);
    mst::Track t = g.track();
    t.on_mute([never_probe](bool) {});
    never_probe.reset();
    CHECK(!never_alive.expired());
  }
  CHECK(never_alive.expired());
}

// Track operations on the test pattern: clone, constraints, settings, stop, and a read loop
// that ends when the source does.
void test_track() {
  auto pattern = mst::init<MstTestPatternOptions>();
  pattern.width = 64;
  pattern.height = 48;
  pattern.unpaced = true;
  pattern.frame_count = 3;
  mst::Track track = mst::Track::test_pattern(pattern);
  CHECK(track.kind() == MST_KIND_VIDEO && !track.id().empty() && track.enabled());
  mst::Track clone = track.clone();
  CHECK(clone.id() != track.id());

  auto constraints = mst::init<MstVideoConstraints>();
  constraints.width.present = MST_CONSTRAIN_EXACT;
  constraints.width.exact = 32;
  constraints.height.present = MST_CONSTRAIN_EXACT;
  constraints.height.exact = 24;
  clone.apply_constraints(constraints);
  MstVideoConstraints applied = clone.constraints();
  CHECK(applied.width.present == MST_CONSTRAIN_EXACT && applied.width.exact == 32);
  CHECK(clone.capabilities().width_max == 64);

  mst::Processor processor(clone);
  int frames = 0;
  while (auto result = processor.read()) {
    MstVideoFrameInfo info = result.frame.video_info();
    CHECK(info.visible_rect.width == 32 && info.visible_rect.height == 24);
    frames++;
  }
  CHECK(frames >= 1 && frames <= 3);
  CHECK(processor.read(0).status == mst::ReadStatus::ended);
  MstSettings settings = clone.settings();
  CHECK((settings.present & MST_SETTING_WIDTH) && settings.width == 32 && settings.height == 24);
  CHECK(clone.end_reason() == MST_END_REASON_SOURCE_ENDED);

  mst::Generator generator(MST_KIND_VIDEO);
  mst::Track live = generator.track();
  mst::Track second = live.clone();
  second.stop();
  CHECK(second.ready_state() == MST_READY_STATE_ENDED && second.end_reason() == MST_END_REASON_STOPPED);
  CHECK(live.ready_state() == MST_READY_STATE_LIVE);
}

// The sinks and the device list: a Y4M file through FileSink, device-less constructors
// throwing (their handles never exist), the device list read whole.
void test_sinks_and_devices() {
  auto pattern = mst::init<MstTestPatternOptions>();
  pattern.width = 32;
  pattern.height = 16;
  pattern.unpaced = true;
  pattern.frame_count = 2;
  mst::Track track = mst::Track::test_pattern(pattern);
  mst::FileSink sink(track, "test_cpp.y4m");
  mst::Processor processor(track);
  while (processor.read()) {
  }
  sink.stop();
  MstFileStats stats = sink.stats();
  CHECK(stats.frames_written >= 1 && stats.bytes_written > stats.frames_written * 32 * 16);
  CHECK_THROWS(mst::FileSink(track, "no-such-directory/test_cpp.y4m"), MST_ERR_IO, "mst_file_sink_open");

  CHECK_THROWS(mst::VideoOutput(track, "v4l2:no-such-device:0"), MST_ERR_NO_DEVICE, "mst_video_output_open");
  mst::Track tone = mst::Track::tone();
  CHECK_THROWS(mst::VideoOutput(tone, nullptr), MST_ERR_TYPE, "mst_video_output_open");
  CHECK_THROWS(mst::AudioPlayback(track, nullptr), MST_ERR_TYPE, "mst_audio_playback_open");

  mst::DeviceList devices = mst::DeviceList::enumerate();
  std::size_t count = devices.size();
  for (std::size_t i = 0; i < count; i++) {
    mst::DeviceInfo info = devices.at(i);
    CHECK(!info.device_id.empty() && info.kind >= MST_DEVICE_KIND_AUDIO_INPUT &&
          info.kind <= MST_DEVICE_KIND_VIDEO_OUTPUT);
  }
  CHECK_THROWS(devices.at(count), MST_ERR_RANGE, "mst_device_list_get_device");
}

// A fake camera (1.2): listed, opened as a camera by its id, its scripted unplug ends the
// track after exactly the frames before it; destroying the owner removes it from the list.
void test_fake_device() {
  MstFault unplug = mst::init<MstFault>();
  unplug.kind = MST_FAULT_UNPLUG;
  unplug.at = 3;
  auto init = mst::init<MstFakeDeviceInit>();
  init.kind = MST_DEVICE_KIND_VIDEO_INPUT;
  init.name = "cpp";
  init.width = 32;
  init.height = 16;
  init.faults = &unplug;
  init.num_faults = 1;
  std::string id;
  {
    mst::FakeDevice fake = mst::FakeDevice::add(init);
    id = fake.id();
    CHECK(id == "fake:cpp");
    CHECK_THROWS(mst::FakeDevice::add(init), MST_ERR_INVALID_ARG, "mst_fake_device_add");
    mst::Track camera = mst::Track::camera(id.c_str());
    mst::Processor processor(camera);
    for (std::int64_t n = 0; n < 3; n++) {
      mst::ReadResult result = processor.read(30000);
      CHECK(result && result.frame.video_info().timestamp == (n * 1000000 + 15) / 30);  // 30 fps by default, rounded
    }
    CHECK(processor.read(30000).status == mst::ReadStatus::ended);
    CHECK(camera.end_reason() == MST_END_REASON_DEVICE_LOST);
    MstFault late = mst::init<MstFault>();
    late.kind = 99;
    CHECK_THROWS(fake.inject(late), MST_ERR_INVALID_ARG, "mst_fake_device_inject");
  }
  CHECK_THROWS(mst::Track::camera(id.c_str()), MST_ERR_NO_DEVICE, "mst_track_create_camera");
}

// Frames over the caller's memory: no copy (the plane is the buffer, after a trip through a
// generator and a processor too), the release function runs once when the media's last
// reference goes and not before, and is destroyed with its captures; a failed wrap never
// calls it and destroys it at once.
void test_wrap() {
  auto buffer = std::make_shared<std::vector<std::uint8_t>>(kWidth * kHeight * 3 / 2, 0x80);
  int released = 0;
  auto init = mst::init<MstVideoFrameInit>();
  init.format = MST_VIDEO_PIXEL_FORMAT_I420;
  init.coded_width = kWidth;
  init.coded_height = kHeight;
  {
    mst::Frame frame =
        mst::Frame::wrap_video(init, buffer->data(), buffer->size(), [buffer, &released] { released++; });
    CHECK(buffer.use_count() == 2);
    CHECK(frame.video_plane(0).data.data() == buffer->data());
    mst::Frame clone = frame.clone();
    frame = mst::Frame();
    CHECK(released == 0);

    mst::Generator generator(MST_KIND_VIDEO);
    mst::Processor processor(generator.track());
    generator.write(clone);
    clone = mst::Frame();
    CHECK(released == 0);
    mst::ReadResult result = processor.read(0);
    CHECK(result && result.frame.video_plane(0).data.data() == buffer->data());
    CHECK(released == 0);
  }
  CHECK(released == 1);
  CHECK(buffer.use_count() == 1);

  auto bad = init;
  bad.coded_width = 0;
  CHECK_THROWS(mst::Frame::wrap_video(bad, buffer->data(), buffer->size(), [buffer, &released] { released++; }),
               MST_ERR_INVALID_ARG, "mst_frame_wrap_video");
  CHECK(released == 1);
  CHECK(buffer.use_count() == 1);
  // Nothing to release: fine too.
  CHECK(mst::Frame::wrap_video(init, buffer->data(), buffer->size(), {}).video_info().coded_width == kWidth);

  auto samples = std::make_shared<std::vector<float>>(480, 0.25f);
  auto audio = mst::init<MstAudioDataInit>();
  audio.format = MST_AUDIO_SAMPLE_FORMAT_F32;
  audio.sample_rate = 48000;
  audio.number_of_frames = 480;
  audio.number_of_channels = 1;
  {
    mst::Frame frame = mst::Frame::wrap_audio(audio, samples->data(), samples->size() * sizeof(float),
                                              [samples, &released] { released++; });
    CHECK(samples.use_count() == 2);
    CHECK(static_cast<const void *>(frame.audio_plane(0).data()) == samples->data());
    CHECK(released == 1);
  }
  CHECK(released == 2);
  CHECK(samples.use_count() == 1);
  audio.number_of_channels = 0;
  CHECK_THROWS(mst::Frame::wrap_audio(audio, samples->data(), samples->size() * sizeof(float),
                                      [samples, &released] { released++; }),
               MST_ERR_INVALID_ARG, "mst_frame_wrap_audio");
  CHECK(released == 2);
  CHECK(samples.use_count() == 1);
}

// The log: alsa-lib's message about a PCM it does not know reaches the callback (which calls
// libmst itself); a replaced callback is destroyed with its captures; one that throws loses
// its message, not the program, and still gets the next; an empty function removes it.
void test_log() {
  constexpr const char *pcm = "mst_test_cpp_no_such_pcm";
  struct Seen {
    std::mutex mutex;
    int naming_pcm = 0;
    bool level_set = true;
  };
  auto seen = std::make_shared<Seen>();
  mst::set_log_callback([seen, pcm](MstLogLevel level, std::string_view origin, std::string_view message) {
    std::lock_guard<std::mutex> lock(seen->mutex);
    if (level == MST_LOG_WARNING && origin == "alsa-lib" && message.find(pcm) != std::string_view::npos)
      seen->naming_pcm++;
    try {
      mst::set_log_level(MST_LOG_WARNING);
    } catch (const mst::Error &) {
      seen->level_set = false;
    }
  });
  CHECK(seen.use_count() == 2);
  CHECK_THROWS(mst::Track::microphone(pcm), MST_ERR_NO_DEVICE, "mst_track_create_microphone");
  CHECK(seen->naming_pcm >= 1 && seen->level_set);

  int thrown = 0;
  mst::set_log_callback([&thrown](MstLogLevel, std::string_view, std::string_view) {
    thrown++;
    throw std::runtime_error("the logger broke");
  });
  CHECK(seen.use_count() == 1);
  CHECK_THROWS(mst::Track::microphone(pcm), MST_ERR_NO_DEVICE, "mst_track_create_microphone");
  CHECK(thrown >= 1);
  int before = thrown;
  CHECK_THROWS(mst::Track::microphone(pcm), MST_ERR_NO_DEVICE, "mst_track_create_microphone");
  CHECK(thrown > before);

  mst::set_log_callback({});
  before = thrown;
  CHECK_THROWS(mst::Track::microphone(pcm), MST_ERR_NO_DEVICE, "mst_track_create_microphone");
  CHECK(thrown == before);
  CHECK_THROWS(mst::set_log_level(static_cast<MstLogLevel>(0)), MST_ERR_INVALID_ARG, "mst_set_log_level");
}

// Device changes (1.3): one call when a fake device arrives and one when it goes, the list
// read in the call agreeing; removed, libmst's copy is gone before the call returns.
void test_device_change() {
  struct Seen {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<bool> listed;  // per call: whether "fake:cpp-watch" was in the list
  };
  auto seen = std::make_shared<Seen>();
  mst::set_device_change_callback([seen] {
    bool here = false;
    mst::DeviceList devices = mst::DeviceList::enumerate();
    for (std::size_t i = 0; i < devices.size(); i++)
      here |= devices.at(i).device_id == "fake:cpp-watch";
    std::lock_guard<std::mutex> lock(seen->mutex);
    seen->listed.push_back(here);
    seen->changed.notify_all();
  });
  auto wait_for = [&seen](std::size_t calls) {
    std::unique_lock<std::mutex> lock(seen->mutex);
    // Only to tell a hang: a busy machine is slow, not wrong.
    return seen->changed.wait_for(lock, std::chrono::seconds(60), [&] { return seen->listed.size() >= calls; });
  };
  auto init = mst::init<MstFakeDeviceInit>();
  init.kind = MST_DEVICE_KIND_AUDIO_INPUT;
  init.name = "cpp-watch";
  {
    mst::FakeDevice fake = mst::FakeDevice::add(init);
    CHECK(wait_for(1));
  }
  CHECK(wait_for(2));
  mst::set_device_change_callback({});
  CHECK(seen.use_count() == 1);
  std::lock_guard<std::mutex> lock(seen->mutex);
  CHECK(seen->listed == std::vector<bool>({true, false}));
}

// Reacquire (1.3): freed, the fake camera's track waits muted; the same camera added again is
// taken and frames flow.
void test_reacquire() {
  auto init = mst::init<MstFakeDeviceInit>();
  init.kind = MST_DEVICE_KIND_VIDEO_INPUT;
  init.name = "cpp-re";
  init.width = 32;
  init.height = 16;
  auto fake = std::make_unique<mst::FakeDevice>(mst::FakeDevice::add(init));
  mst::Track camera = mst::Track::camera("fake:cpp-re");
  camera.set_reacquire(MST_REACQUIRE_FOREVER);
  mst::Processor processor(camera);
  CHECK(processor.read(30000));
  fake.reset();
  CHECK(camera.muted() && camera.end_reason() == MST_END_REASON_NONE);
  mst::FakeDevice back = mst::FakeDevice::add(init);
  // Only to tell a hang: a busy machine is slow, not wrong.
  for (int i = 0; i < 30000 && camera.muted(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(!camera.muted());
  CHECK(processor.read(30000));
  camera.stop();
  CHECK(camera.end_reason() == MST_END_REASON_STOPPED);
}

} // namespace

int main() {
  CHECK(mst::version() == MST_VERSION_STRING);
  test_errors();
  test_moves();
  test_video_round_trip();
  test_audio_round_trip();
  test_latest_only();
  test_callbacks();
  test_track();
  test_sinks_and_devices();
  test_fake_device();
  test_wrap();
  test_log();
  test_device_change();
  test_reacquire();
  std::puts("test_cpp: ok");
  return 0;
}
