// libmst for C++17: header-only RAII wrappers over mst.h. No library of its own: a program
// that includes this links libmst exactly as a C program does (pkg-config mst, or CMake's
// mst::mst).
//
// Handles. Each C handle type has a move-only owner (Frame, Track, Processor, Generator,
// FileSink, AudioPlayback, VideoOutput, DeviceList) whose destructor calls the matching
// mst_<object>_free(). Copying is impossible; a moved-from owner is empty (`!handle`, get()
// is nullptr) and its destructor does nothing, so no handle is freed twice. get() lends the
// C pointer for mixing with mst.h; release() gives up ownership of it. Calling a method on an
// empty owner passes NULL to libmst, which reports MST_ERR_NULL_ARG (thrown as mst::Error).
// The spec's end verbs (Frame::close, Track::stop, Processor::close, ...) never release a
// handle, as in C: only the destructor does.
//
// Errors are exceptions: every failing call throws mst::Error, which carries the MstStatus
// and mst_last_error_message() (read on the failing thread, at once). Why not an
// expected-like result: C++17 has no std::expected, a hand-rolled one would be one more type
// for every user to learn, and RAII constructors (Generator, Processor, FileSink, ...) can
// only report failure by throwing anyway. Outcomes that are not failures are not thrown:
// Processor::read() returns a ReadResult telling frame / again / timeout / interrupted /
// ended, so a read loop ends at the end of the stream without an exception.
//
// Threads. As in C, every handle may be used from any thread; an owner object itself is no
// more thread-safe than a raw pointer (do not move or destroy it while another thread uses
// it). Callbacks (Processor::set_callback, Track::on_ended, Track::on_mute) run on library
// threads or on the thread that causes the event, as mst.h documents for each. The
// std::function is held on the heap and deleted exactly once by the C destroy-notify
// (also when registration fails). Callbacks must not throw: an exception leaving one ends
// the program (std::terminate), since it cannot cross libmst's C frames. The one exception is
// the log callback (set_log_callback, since libmst 1.1), whose exceptions are dropped: a
// failing logger must not end the program. Frames over the caller's memory
// (Frame::wrap_video, Frame::wrap_audio) take a release function, run once when libmst is done
// with the memory; it must not throw either.
//
// Frames' plane views (mst::span) borrow the frame's memory: valid until its handle is
// closed (Frame::close, or a successful Generator::write of it) or freed; moving the Frame
// moves the handle and keeps them valid.
#ifndef MST_HPP
#define MST_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mst.h"

namespace mst {

// Error: a libmst call failed. what() is "<function>: <mst_last_error_message()>".
class Error : public std::runtime_error {
public:
  Error(MstStatus status, const std::string &message, std::string constraint = {})
      : std::runtime_error(message), status_(status), constraint_(std::move(constraint)) {}
  // The C status (negative: one of MST_ERR_*).
  MstStatus status() const noexcept { return status_; }
  // For MST_ERR_OVERCONSTRAINED: the property the constraints could not meet, else "".
  const std::string &constraint() const noexcept { return constraint_; }

private:
  MstStatus status_;
  std::string constraint_;
};

namespace detail {
inline std::string c_string(const char *text) { return text ? std::string(text) : std::string(); }

inline void check(MstStatus status, const char *function) {
  if (status == MST_OK) return;
  // libmst's messages begin with the function's name (since 1.2); older ones get it here.
  std::string message = c_string(mst_last_error_message());
  std::string prefix = std::string(function) + ": ";
  if (message.compare(0, prefix.size(), prefix) != 0) message = prefix + message;
  std::string constraint;
  if (status == MST_ERR_OVERCONSTRAINED) constraint = c_string(mst_last_error_constraint());
  throw Error(status, message, std::move(constraint));
}

// The owner of one C handle; Free is its mst_<object>_free.
template <typename T, MstStatus (*Free)(T *)> class Handle {
public:
  Handle() noexcept = default;
  // Adopts a handle from the C API: this owner frees it.
  explicit Handle(T *raw) noexcept : raw_(raw) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  Handle(Handle &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  Handle &operator=(Handle &&other) noexcept {
    if (this != &other) reset(std::exchange(other.raw_, nullptr));
    return *this;
  }
  // _free never fails on a live handle, and a destructor has no one to tell.
  ~Handle() { reset(); }

  T *get() const noexcept { return raw_; }
  explicit operator bool() const noexcept { return raw_ != nullptr; }
  // Gives up ownership: the caller frees the returned handle.
  T *release() noexcept { return std::exchange(raw_, nullptr); }
  void reset(T *raw = nullptr) noexcept {
    T *old = std::exchange(raw_, raw);
    if (old) (void)Free(old);
  }

private:
  T *raw_ = nullptr;
};

// The C trampolines: user_data is a heap std::function the destroy-notify deletes.
template <typename F> void destroy_function(void *user_data) noexcept {
  delete static_cast<F *>(user_data);
}
} // namespace detail

// MST_STRUCT_INIT for C++: a size-prefixed options/info struct, zeroed, struct_size set.
template <typename T> T init() { return MST_STRUCT_INIT(T); }

inline std::string version() { return detail::c_string(mst_version()); }
inline std::string status_str(MstStatus status) { return detail::c_string(mst_status_str(status)); }

// A read-only view of contiguous elements (C++17 lacks std::span).
template <typename T> class span {
public:
  constexpr span() noexcept = default;
  constexpr span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
  constexpr T *data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }
  constexpr T *begin() const noexcept { return data_; }
  constexpr T *end() const noexcept { return data_ + size_; }

private:
  T *data_ = nullptr;
  std::size_t size_ = 0;
};

// A video plane: `data` covers the bytes readable from its first coded sample, `stride` is
// its row pitch.
struct VideoPlane {
  span<const std::uint8_t> data;
  std::size_t stride = 0;
};

// A VideoFrame or AudioData (mst_frame_*). Move-only; freed by its destructor.
class Frame : public detail::Handle<MstFrame, mst_frame_free> {
public:
  using Handle::Handle;
  Frame() noexcept = default;

  // A new video frame holding a copy of `data` (mst_frame_create_video).
  static Frame video(const MstVideoFrameInit &init, const void *data, std::size_t size) {
    MstFrame *raw = nullptr;
    detail::check(mst_frame_create_video(&init, static_cast<const std::uint8_t *>(data), size, &raw),
                  "mst_frame_create_video");
    return Frame(raw);
  }
  // A new audio buffer holding a copy of `data` (mst_frame_create_audio).
  static Frame audio(const MstAudioDataInit &init, const void *data, std::size_t size) {
    MstFrame *raw = nullptr;
    detail::check(mst_frame_create_audio(&init, static_cast<const std::uint8_t *>(data), size, &raw),
                  "mst_frame_create_audio");
    return Frame(raw);
  }

  // Runs once when libmst no longer reads wrapped memory; must not throw (std::terminate).
  using ReleaseFunction = std::function<void()>;

  // A new video frame over `data`, without a copy (mst_frame_wrap_video). libmst reads the
  // memory until the last reference to the media goes (every Frame on it closed or freed, every
  // track and processor done with it), then calls `release` once, on the thread that drops
  // that reference, and destroys it; the memory must stay valid and unchanged until then. To
  // tie a buffer's life to the frame, move it into `release`'s captures. An empty `release`:
  // nothing to do. If this throws, libmst kept nothing: `release` is destroyed without being
  // called (what it captured is destroyed with it) and the memory is the caller's.
  static Frame wrap_video(const MstVideoFrameInit &init, const void *data, std::size_t size,
                          ReleaseFunction release) {
    return wrap(mst_frame_wrap_video, "mst_frame_wrap_video", init, data, size, std::move(release));
  }
  // A new audio buffer over `data`, without a copy (mst_frame_wrap_audio); as wrap_video.
  static Frame wrap_audio(const MstAudioDataInit &init, const void *data, std::size_t size,
                          ReleaseFunction release) {
    return wrap(mst_frame_wrap_audio, "mst_frame_wrap_audio", init, data, size, std::move(release));
  }

  // Another handle to the same media (WebCodecs clone()).
  Frame clone() const {
    MstFrame *raw = nullptr;
    detail::check(mst_frame_clone(get(), &raw), "mst_frame_clone");
    return Frame(raw);
  }
  // Releases the media now; the handle stays until the destructor.
  void close() { detail::check(mst_frame_close(get()), "mst_frame_close"); }

  MstKind kind() const {
    MstKind kind{};
    detail::check(mst_frame_get_kind(get(), &kind), "mst_frame_get_kind");
    return kind;
  }
  MstVideoFrameInfo video_info() const {
    auto info = init<MstVideoFrameInfo>();
    detail::check(mst_frame_get_video_info(get(), &info), "mst_frame_get_video_info");
    return info;
  }
  // WebCodecs' VideoFrame.colorSpace (libmst 1.2: check MST_VERSION_MINOR >= 2).
  MstVideoColorSpace color_space() const {
    auto space = init<MstVideoColorSpace>();
    detail::check(mst_frame_get_color_space(get(), &space), "mst_frame_get_color_space");
    return space;
  }
  // The frame's pixels as a DMA-BUF for GPU import (libmst 1.3): false when they are not one
  // (only zero-copy camera frames are). `fd` stays libmst's, open while this Frame is.
  bool dmabuf(std::int32_t &fd, MstPlaneLayouts &layout) const {
    layout = init<MstPlaneLayouts>();
    MstStatus status = mst_frame_get_dmabuf(get(), &fd, &layout);
    if (status == MST_ERR_UNSUPPORTED) return false;
    detail::check(status, "mst_frame_get_dmabuf");
    return true;
  }
  // One plane's DMA-BUF and where the plane is in it (libmst 1.3): for frames whose planes are
  // separate DMA-BUFs (NM12 / YM12 capture) as for one-buffer ones; false when that plane is
  // not one (no plane of most frames; a GREY camera frame's chroma, its luma being one).
  bool dmabuf_plane(std::uint32_t plane, std::int32_t &fd, MstPlaneLayout &layout) const {
    MstStatus status = mst_frame_get_dmabuf_plane(get(), plane, &fd, &layout);
    if (status == MST_ERR_UNSUPPORTED) return false;
    detail::check(status, "mst_frame_get_dmabuf_plane");
    return true;
  }
  MstAudioDataInfo audio_info() const {
    auto info = init<MstAudioDataInfo>();
    detail::check(mst_frame_get_audio_info(get(), &info), "mst_frame_get_audio_info");
    return info;
  }
  // Zero-copy view of video plane `plane`, valid while this Frame is open.
  VideoPlane video_plane(std::uint32_t plane) const {
    const std::uint8_t *data = nullptr;
    std::size_t stride = 0, size = 0;
    detail::check(mst_frame_get_video_plane(get(), plane, &data, &stride, &size), "mst_frame_get_video_plane");
    return VideoPlane{span<const std::uint8_t>(data, size), stride};
  }
  // Zero-copy view of audio plane `plane`, valid while this Frame is open.
  span<const std::uint8_t> audio_plane(std::uint32_t plane) const {
    const std::uint8_t *data = nullptr;
    std::size_t size = 0;
    detail::check(mst_frame_get_audio_plane(get(), plane, &data, &size), "mst_frame_get_audio_plane");
    return span<const std::uint8_t>(data, size);
  }
  // WebCodecs copyTo() into a new buffer (options: MstVideoCopyOptions, e.g. an RGBA format).
  std::vector<std::uint8_t> video_copy(const MstVideoCopyOptions &options = init<MstVideoCopyOptions>(),
                                       MstPlaneLayouts *layout = nullptr) const {
    std::size_t size = 0;
    detail::check(mst_frame_video_allocation_size(get(), &options, &size), "mst_frame_video_allocation_size");
    std::vector<std::uint8_t> bytes(size);
    auto ignored = init<MstPlaneLayouts>();
    detail::check(mst_frame_video_copy_to(get(), bytes.data(), bytes.size(), &options, layout ? layout : &ignored),
                  "mst_frame_video_copy_to");
    return bytes;
  }
  std::vector<std::uint8_t> audio_copy(const MstAudioCopyOptions &options = init<MstAudioCopyOptions>()) const {
    std::size_t size = 0;
    detail::check(mst_frame_audio_allocation_size(get(), &options, &size), "mst_frame_audio_allocation_size");
    std::vector<std::uint8_t> bytes(size);
    detail::check(mst_frame_audio_copy_to(get(), bytes.data(), bytes.size(), &options), "mst_frame_audio_copy_to");
    return bytes;
  }

private:
  static void call_release(void *user_data) noexcept {
    std::unique_ptr<ReleaseFunction> release(static_cast<ReleaseFunction *>(user_data));
    (*release)();
  }
  // wrap_video and wrap_audio: `wrap_fn` is mst_frame_wrap_video or mst_frame_wrap_audio.
  template <typename Init, typename WrapFn>
  static Frame wrap(WrapFn wrap_fn, const char *name, const Init &init, const void *data, std::size_t size,
                    ReleaseFunction release) {
    MstFrame *raw = nullptr;
    auto held = release ? std::make_unique<ReleaseFunction>(std::move(release)) : nullptr;
    detail::check(wrap_fn(&init, static_cast<const std::uint8_t *>(data), size, held ? call_release : nullptr,
                          held.get(), &raw),
                  name);
    held.release(); // libmst owns it now: call_release deletes it
    return Frame(raw);
  }
};

// A MediaStreamTrack (mst_track_*). Move-only; the destructor releases this handle, and the
// track stops when nothing else (another handle, a processor, a sink) uses it.
class Track : public detail::Handle<MstTrack, mst_track_free> {
public:
  using Handle::Handle;
  Track() noexcept = default;
  using EndedFunction = std::function<void(MstEndReason)>;
  using MuteFunction = std::function<void(bool)>;

  static Track test_pattern(const MstTestPatternOptions &options = init<MstTestPatternOptions>()) {
    MstTrack *raw = nullptr;
    detail::check(mst_track_create_test_pattern(&options, &raw), "mst_track_create_test_pattern");
    return Track(raw);
  }
  static Track tone(const MstToneOptions &options = init<MstToneOptions>()) {
    MstTrack *raw = nullptr;
    detail::check(mst_track_create_tone(&options, &raw), "mst_track_create_tone");
    return Track(raw);
  }
  // device_id nullptr = "default"; constraints/options nullptr = none.
  static Track camera(const char *device_id = nullptr, const MstVideoConstraints *constraints = nullptr,
                      const MstCameraOptions *options = nullptr) {
    MstTrack *raw = nullptr;
    detail::check(mst_track_create_camera(device_id, constraints, options, &raw), "mst_track_create_camera");
    return Track(raw);
  }
  static Track microphone(const char *device_id = nullptr, const MstAudioConstraints *constraints = nullptr) {
    MstTrack *raw = nullptr;
    detail::check(mst_track_create_microphone(device_id, constraints, &raw), "mst_track_create_microphone");
    return Track(raw);
  }

  // A new track on the same source (MediaStreamTrack.clone()).
  Track clone() const {
    MstTrack *raw = nullptr;
    detail::check(mst_track_clone(get(), &raw), "mst_track_clone");
    return Track(raw);
  }
  // Ends this track (MediaStreamTrack.stop()); the handle stays valid.
  void stop() { detail::check(mst_track_stop(get()), "mst_track_stop"); }
  // A camera or microphone track waits, muted, for its unplugged device to come back (the same
  // device, by identity) for up to `timeout_ms` (MST_REACQUIRE_FOREVER: until stopped; 0: off,
  // the default). libmst 1.3.
  void set_reacquire(std::uint32_t timeout_ms) {
    detail::check(mst_track_set_reacquire(get(), timeout_ms), "mst_track_set_reacquire");
  }

  MstKind kind() const {
    MstKind kind{};
    detail::check(mst_track_get_kind(get(), &kind), "mst_track_get_kind");
    return kind;
  }
  std::string id() const { return string_of(mst_track_get_id, "mst_track_get_id"); }
  std::string label() const { return string_of(mst_track_get_label, "mst_track_get_label"); }
  std::string content_hint() const { return string_of(mst_track_get_content_hint, "mst_track_get_content_hint"); }
  void set_content_hint(const std::string &hint) {
    detail::check(mst_track_set_content_hint(get(), hint.c_str()), "mst_track_set_content_hint");
  }
  bool enabled() const {
    bool value = false;
    detail::check(mst_track_get_enabled(get(), &value), "mst_track_get_enabled");
    return value;
  }
  void set_enabled(bool enabled) { detail::check(mst_track_set_enabled(get(), enabled), "mst_track_set_enabled"); }
  bool muted() const {
    bool value = false;
    detail::check(mst_track_get_muted(get(), &value), "mst_track_get_muted");
    return value;
  }
  MstReadyState ready_state() const {
    MstReadyState state{};
    detail::check(mst_track_get_ready_state(get(), &state), "mst_track_get_ready_state");
    return state;
  }
  MstEndReason end_reason() const {
    MstEndReason reason{};
    detail::check(mst_track_get_end_reason(get(), &reason), "mst_track_get_end_reason");
    return reason;
  }

  // applyConstraints(): throws Error (MST_ERR_OVERCONSTRAINED with constraint()) and changes
  // nothing when they cannot be met.
  void apply_constraints(const MstVideoConstraints &constraints) {
    detail::check(mst_track_apply_constraints(get(), &constraints), "mst_track_apply_constraints");
  }
  MstVideoConstraints constraints() const {
    auto out = init<MstVideoConstraints>();
    detail::check(mst_track_get_constraints(get(), &out), "mst_track_get_constraints");
    return out;
  }
  MstSettings settings() const {
    auto out = init<MstSettings>();
    detail::check(mst_track_get_settings(get(), &out), "mst_track_get_settings");
    return out;
  }
  MstCapabilities capabilities() const {
    auto out = init<MstCapabilities>();
    detail::check(mst_track_get_capabilities(get(), &out), "mst_track_get_capabilities");
    return out;
  }
  MstCameraStats camera_stats() const {
    auto out = init<MstCameraStats>();
    detail::check(mst_track_get_camera_stats(get(), &out), "mst_track_get_camera_stats");
    return out;
  }
  MstCaptureStats capture_stats() const {
    auto out = init<MstCaptureStats>();
    detail::check(mst_track_get_capture_stats(get(), &out), "mst_track_get_capture_stats");
    return out;
  }

  // The ended event: runs once, on the thread that ends the track, with no libmst lock held.
  // An empty function removes the callback. The function is destroyed after it fired, when
  // replaced, when the track goes away, or (before this throws) when registration fails.
  void on_ended(EndedFunction callback) {
    if (!callback) {
      detail::check(mst_track_set_ended_callback(get(), nullptr, nullptr, nullptr), "mst_track_set_ended_callback");
      return;
    }
    auto *held = new EndedFunction(std::move(callback));
    detail::check(mst_track_set_ended_callback(get(), call_ended, held, detail::destroy_function<EndedFunction>),
                  "mst_track_set_ended_callback");
  }
  // The mute and unmute events, with the new muted value; as on_ended for the function's life.
  void on_mute(MuteFunction callback) {
    if (!callback) {
      detail::check(mst_track_set_mute_callback(get(), nullptr, nullptr, nullptr), "mst_track_set_mute_callback");
      return;
    }
    auto *held = new MuteFunction(std::move(callback));
    detail::check(mst_track_set_mute_callback(get(), call_mute, held, detail::destroy_function<MuteFunction>),
                  "mst_track_set_mute_callback");
  }

private:
  std::string string_of(MstStatus (*getter)(const MstTrack *, const char **), const char *function) const {
    const char *text = nullptr;
    detail::check(getter(get(), &text), function);
    return detail::c_string(text);
  }
  static void call_ended(void *user_data, MstEndReason reason) noexcept {
    (*static_cast<EndedFunction *>(user_data))(reason);
  }
  static void call_mute(void *user_data, bool muted) noexcept { (*static_cast<MuteFunction *>(user_data))(muted); }
};

// A MediaStreamTrackGenerator: a writable and its own track.
class Generator : public detail::Handle<MstGenerator, mst_generator_free> {
public:
  using Handle::Handle;
  Generator() noexcept = default;
  // kind: MST_KIND_VIDEO or MST_KIND_AUDIO.
  explicit Generator(MstKind kind) {
    MstGenerator *raw = nullptr;
    detail::check(mst_generator_create(kind, &raw), "mst_generator_create");
    reset(raw);
  }

  // A new handle to the generator's own track.
  Track track() const {
    MstTrack *raw = nullptr;
    detail::check(mst_generator_get_track(get(), &raw), "mst_generator_get_track");
    return Track(raw);
  }
  // Sends `frame` to the track. A successful write closes the frame (the media moves on);
  // the Frame object still owns its handle, which its destructor frees. A rejected write
  // (a frame of the other kind, a closed frame) throws MST_ERR_TYPE and errors the writable.
  void write(const Frame &frame) { detail::check(mst_generator_write(get(), frame.get()), "mst_generator_write"); }
  // Closes the writable; the generator's tracks end.
  void close() { detail::check(mst_generator_close(get()), "mst_generator_close"); }
  MstWritableState state() const {
    MstWritableState state{};
    detail::check(mst_generator_get_state(get(), &state), "mst_generator_get_state");
    return state;
  }
  void set_muted(bool muted) { detail::check(mst_generator_set_muted(get(), muted), "mst_generator_set_muted"); }
  bool muted() const {
    bool value = false;
    detail::check(mst_generator_get_muted(get(), &value), "mst_generator_get_muted");
    return value;
  }
};

// What one Processor::read() gave.
enum class ReadStatus {
  frame,       // `frame` holds the frame read
  again,       // timeout 0 and nothing queued (MST_ERR_AGAIN)
  timeout,     // the timeout passed (MST_ERR_TIMEOUT)
  interrupted, // Processor::wakeup() (MST_ERR_INTERRUPTED)
  ended,       // the track ended or the processor was closed: no more frames (MST_ERR_ENDED)
};

struct ReadResult {
  ReadStatus status = ReadStatus::ended;
  Frame frame;
  // True when a frame was read: `while (auto r = processor.read()) use(r.frame);`
  explicit operator bool() const noexcept { return status == ReadStatus::frame; }
};

// MstProcessorOptions in C++ terms.
struct ProcessorOptions {
  std::uint32_t max_buffer_size = 0; // 0 = the kind's default; above 65535 throws MST_ERR_TYPE
  bool latest_only = false;          // MST_PROCESSOR_LATEST_ONLY: read the newest frame only
};

// A MediaStreamTrackProcessor: frames of a track, read with read() or handed to a callback.
class Processor : public detail::Handle<MstProcessor, mst_processor_free> {
public:
  using Handle::Handle;
  Processor() noexcept = default;
  using FrameFunction = std::function<void(Frame)>;

  // The processor keeps the track alive itself: `track` may be a temporary.
  explicit Processor(const Track &track, const ProcessorOptions &options = {}) {
    auto c_options = init<MstProcessorOptions>();
    c_options.max_buffer_size = options.max_buffer_size;
    c_options.flags = options.latest_only ? MST_PROCESSOR_LATEST_ONLY : 0;
    MstProcessor *raw = nullptr;
    detail::check(mst_processor_create(track.get(), &c_options, &raw), "mst_processor_create");
    reset(raw);
  }

  // Reads the next frame; timeout_ms 0 = do not wait, < 0 = wait forever. Only errors
  // (a freed handle, a callback set, no memory) throw; the end and timeouts are statuses.
  ReadResult read(std::int32_t timeout_ms = -1) {
    MstFrame *raw = nullptr;
    MstStatus status = mst_processor_read(get(), timeout_ms, &raw);
    ReadResult result;
    switch (status) {
    case MST_OK:
      result.status = ReadStatus::frame;
      result.frame = Frame(raw);
      break;
    case MST_ERR_AGAIN: result.status = ReadStatus::again; break;
    case MST_ERR_TIMEOUT: result.status = ReadStatus::timeout; break;
    case MST_ERR_INTERRUPTED: result.status = ReadStatus::interrupted; break;
    case MST_ERR_ENDED: result.status = ReadStatus::ended; break;
    default: detail::check(status, "mst_processor_read");
    }
    return result;
  }
  // An fd that polls readable while a frame is queued or the processor has ended.
  int fd() {
    int out = -1;
    detail::check(mst_processor_get_fd(get(), &out), "mst_processor_get_fd");
    return out;
  }
  // Interrupts a blocked read (it returns ReadStatus::interrupted).
  void wakeup() { detail::check(mst_processor_wakeup(get()), "mst_processor_wakeup"); }
  // Callback mode: a library thread calls `callback` with each frame (the callback owns it),
  // then once with an empty Frame when the processor ends. Reads are refused meanwhile. An
  // empty function stops the thread. The function is destroyed on the callback thread when
  // it exits, or at once when registration fails (then this throws).
  void set_callback(FrameFunction callback) {
    if (!callback) {
      detail::check(mst_processor_set_callback(get(), nullptr, nullptr, nullptr), "mst_processor_set_callback");
      return;
    }
    auto *held = new FrameFunction(std::move(callback));
    detail::check(mst_processor_set_callback(get(), call_frame, held, detail::destroy_function<FrameFunction>),
                  "mst_processor_set_callback");
  }
  MstProcessorStats stats() const {
    auto out = init<MstProcessorStats>();
    detail::check(mst_processor_get_stats(get(), &out), "mst_processor_get_stats");
    return out;
  }
  // Ends the processor (queued frames are discarded); the handle stays valid.
  void close() { detail::check(mst_processor_close(get()), "mst_processor_close"); }

private:
  static void call_frame(void *user_data, MstFrame *frame) noexcept {
    (*static_cast<FrameFunction *>(user_data))(Frame(frame));
  }
};

// A Y4M (video) or WAV (audio) recorder of a track.
class FileSink : public detail::Handle<MstFileSink, mst_file_sink_free> {
public:
  using Handle::Handle;
  FileSink() noexcept = default;
  FileSink(const Track &track, const std::string &path) {
    MstFileSink *raw = nullptr;
    detail::check(mst_file_sink_open(track.get(), path.c_str(), &raw), "mst_file_sink_open");
    reset(raw);
  }
  // Finishes the file; throws what writing it failed with.
  void stop() { detail::check(mst_file_sink_stop(get()), "mst_file_sink_stop"); }
  MstFileStats stats() const {
    auto out = init<MstFileStats>();
    detail::check(mst_file_sink_get_stats(get(), &out), "mst_file_sink_get_stats");
    return out;
  }
};

// ALSA playback of an audio track.
class AudioPlayback : public detail::Handle<MstAudioPlayback, mst_audio_playback_free> {
public:
  using Handle::Handle;
  AudioPlayback() noexcept = default;
  // device_id nullptr = "default".
  explicit AudioPlayback(const Track &track, const char *device_id = nullptr) {
    MstAudioPlayback *raw = nullptr;
    detail::check(mst_audio_playback_open(track.get(), device_id, &raw), "mst_audio_playback_open");
    reset(raw);
  }
  void stop() { detail::check(mst_audio_playback_stop(get()), "mst_audio_playback_stop"); }
  MstAudioPlaybackStats stats() const {
    auto out = init<MstAudioPlaybackStats>();
    detail::check(mst_audio_playback_get_stats(get(), &out), "mst_audio_playback_get_stats");
    return out;
  }
};

// V4L2 output of a video track (a virtual camera).
class VideoOutput : public detail::Handle<MstVideoOutput, mst_video_output_free> {
public:
  using Handle::Handle;
  VideoOutput() noexcept = default;
  // device_id nullptr = the first output node.
  explicit VideoOutput(const Track &track, const char *device_id = nullptr) {
    MstVideoOutput *raw = nullptr;
    detail::check(mst_video_output_open(track.get(), device_id, &raw), "mst_video_output_open");
    reset(raw);
  }
  void stop() { detail::check(mst_video_output_stop(get()), "mst_video_output_stop"); }
  MstVideoOutputStats stats() const {
    auto out = init<MstVideoOutputStats>();
    detail::check(mst_video_output_get_stats(get(), &out), "mst_video_output_get_stats");
    return out;
  }
};

// One device of a DeviceList, its strings copied.
struct DeviceInfo {
  MstDeviceKind kind{};
  std::string device_id;
  std::string label;
  std::string group_id;
};

// A snapshot of the devices present when it was made (mst_devices_enumerate).
class DeviceList : public detail::Handle<MstDeviceList, mst_device_list_free> {
public:
  using Handle::Handle;
  DeviceList() noexcept = default;
  static DeviceList enumerate() {
    MstDeviceList *raw = nullptr;
    detail::check(mst_devices_enumerate(&raw), "mst_devices_enumerate");
    return DeviceList(raw);
  }
  std::size_t size() const {
    std::size_t count = 0;
    detail::check(mst_device_list_get_count(get(), &count), "mst_device_list_get_count");
    return count;
  }
  DeviceInfo at(std::size_t index) const {
    auto info = init<MstDeviceInfo>();
    detail::check(mst_device_list_get_device(get(), index, &info), "mst_device_list_get_device");
    return DeviceInfo{info.kind, detail::c_string(info.device_id), detail::c_string(info.label),
                      detail::c_string(info.group_id)};
  }
};

// A fake camera or microphone (libmst 1.2, mst_fake_device_add): listed and opened like a real
// device by its id(), running the fault script in its MstFakeDeviceInit (copied). Destroying
// it removes it from the list and ends its tracks with MST_END_REASON_DEVICE_LOST.
class FakeDevice : public detail::Handle<MstFakeDevice, mst_fake_device_free> {
public:
  using Handle::Handle;
  FakeDevice() noexcept = default;
  static FakeDevice add(const MstFakeDeviceInit &init) {
    MstFakeDevice *raw = nullptr;
    detail::check(mst_fake_device_add(&init, &raw), "mst_fake_device_add");
    return FakeDevice(raw);
  }
  // "fake:NAME": pass it to Track::camera or Track::microphone.
  std::string id() const {
    const char *out = nullptr;
    detail::check(mst_fake_device_get_id(get(), &out), "mst_fake_device_get_id");
    return detail::c_string(out);
  }
  void inject(const MstFault &fault) { detail::check(mst_fake_device_inject(get(), &fault), "mst_fake_device_inject"); }
};

// The log (libmst 1.1): one message, its level, its origin ("libmst", or a library libmst
// calls: "alsa-lib") and its text (one line). The views are valid for the call only.
using LogFunction = std::function<void(MstLogLevel level, std::string_view origin, std::string_view message)>;

namespace detail {
inline void call_log(void *user_data, MstLogLevel level, const char *origin, const char *message) noexcept {
  // Nothing may unwind into libmst's C frames, and a logger that fails must not end the
  // program: the exception is dropped with its message; the next messages still come.
  try {
    (*static_cast<LogFunction *>(user_data))(level, origin ? origin : "", message ? message : "");
  } catch (...) {
  }
}
} // namespace detail

// Sends libmst's log messages (alsa-lib's among them) to `callback`; an empty function drops
// them again (the default: libmst prints nothing). The callback runs on whichever thread logs
// (the caller's, or a libmst capture or playback thread), possibly on several at once, with no
// libmst lock held: it may call libmst, set_log_callback() included. An exception leaving it
// is caught and dropped.
// Lifetime: libmst keeps its own copy of `callback` until it is replaced or removed, then
// destroys that copy once: at once on the replacing thread if no message is being delivered
// to it, else when the last such delivery returns, on that thread. So what it refers to (a
// capture by reference, `this`) must outlive that moment, which can be after set_log_callback()
// returns; capture an owner by value (a std::shared_ptr) when unsure.
inline void set_log_callback(LogFunction callback) {
  if (!callback) {
    detail::check(mst_set_log_callback(nullptr, nullptr, nullptr), "mst_set_log_callback");
    return;
  }
  auto *held = new LogFunction(std::move(callback));
  // libmst owns `held` from here on: its destroy-notify deletes it.
  detail::check(mst_set_log_callback(detail::call_log, held, detail::destroy_function<LogFunction>),
                "mst_set_log_callback");
}

// Device changes (libmst 1.3, the spec's devicechange): called when the set of devices
// mst_devices_enumerate() lists has changed; enumerate again to learn what changed.
using DeviceChangeFunction = std::function<void()>;

namespace detail {
inline void call_device_change(void *user_data) noexcept {
  // Nothing may unwind into libmst's C frames: the exception is dropped; later changes still
  // call.
  try {
    (*static_cast<DeviceChangeFunction *>(user_data))();
  } catch (...) {
  }
}
} // namespace detail

// Calls `callback` on libmst's device-watcher thread, one call at a time, each time a camera,
// sound card or fake device arrives or leaves; an empty function removes it. It may call
// libmst, set_device_change_callback() included. An exception leaving it is dropped.
// Lifetime: when this returns, the previous callback is not running on another thread, is
// never called again and libmst's copy of it has been destroyed, unless this is called from
// inside that callback: then the copy is destroyed as the call returns.
inline void set_device_change_callback(DeviceChangeFunction callback) {
  if (!callback) {
    detail::check(mst_set_device_change_callback(nullptr, nullptr, nullptr), "mst_set_device_change_callback");
    return;
  }
  auto *held = new DeviceChangeFunction(std::move(callback));
  // libmst owns `held` from here on (also when the call fails): its destroy-notify deletes it.
  detail::check(mst_set_device_change_callback(detail::call_device_change, held,
                                               detail::destroy_function<DeviceChangeFunction>),
                "mst_set_device_change_callback");
}

// The least severe level delivered: MST_LOG_ERROR (errors only) to MST_LOG_DEBUG; the default
// is MST_LOG_WARNING.
inline void set_log_level(MstLogLevel level) { detail::check(mst_set_log_level(level), "mst_set_log_level"); }

} // namespace mst

#endif // MST_HPP
