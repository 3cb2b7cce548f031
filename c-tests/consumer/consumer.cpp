// A C++ program outside the libmst tree, built against an installed libmst through the
// installed <mst.hpp>: RAII handles round-trip a frame, and a failure arrives as mst::Error.
#include <mst.hpp>

#include <cstdio>
#include <vector>

int main() {
  try {
    mst::Generator generator(MST_KIND_VIDEO);
    mst::Processor processor(generator.track());
    auto init = mst::init<MstVideoFrameInit>();
    init.format = MST_VIDEO_PIXEL_FORMAT_I420;
    init.coded_width = 16;
    init.coded_height = 16;
    std::vector<std::uint8_t> pixels(16 * 16 * 3 / 2, 0x80);
    generator.write(mst::Frame::video(init, pixels.data(), pixels.size()));
    mst::ReadResult result = processor.read(0);
    if (!result || result.frame.video_plane(0).data.size() < 16 * 16) return 1;
    mst::Generator bad(static_cast<MstKind>(0));
  } catch (const mst::Error &e) {
    std::printf("mst.hpp consumer: %s (%s)\n", e.what(), mst::status_str(e.status()).c_str());
    return e.status() == MST_ERR_TYPE ? 0 : 1;
  }
  return 1;
}
