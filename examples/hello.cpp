// mst.hpp's first program. Build: c++ -std=c++17 hello.cpp -o hello $(pkg-config --cflags --libs mst)
#include <mst.hpp>

#include <cstdio>

int main() {
  try {
    auto options = mst::init<MstTestPatternOptions>();
    options.frame_count = 30; // the source ends after one second of frames
    mst::Track camera = mst::Track::test_pattern(options);
    mst::Processor processor(camera);
    while (auto result = processor.read()) { // ends without throwing when the track ends
      MstVideoFrameInfo info = result.frame.video_info();
      mst::VideoPlane luma = result.frame.video_plane(0); // valid while result.frame lives
      std::printf("frame %llu: %ux%u, first luma byte %u\n", (unsigned long long)info.sequence,
                  info.coded_width, info.coded_height, luma.data[0]);
    } // every handle is freed by its destructor
  } catch (const mst::Error &e) {
    std::fprintf(stderr, "%s (%s)\n", e.what(), mst::status_str(e.status()).c_str());
    return 1;
  }
}
