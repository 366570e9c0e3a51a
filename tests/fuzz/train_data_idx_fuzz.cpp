// libFuzzer target: train/data/idx.h, read_idx on an images file and a labels file (plain or
// gzip: zlib reads both).
//
// Input: bytes 0-1, u16 little-endian -> length of the images file (clamped to what is there);
// then the images file, then the labels file. Both are written to a per-process temp folder.
// std::exception is the expected outcome for bad files; when read_idx returns, the set must be
// consistent: its geometry must describe exactly the pixel bytes it holds (checked without
// overflow), and every image must be readable.
#include <exception>

#include "fuzz_support.h"
#include "train/data/idx.h"

namespace {

bool mul_overflows(size_t a, size_t b, size_t* out) { return __builtin_mul_overflow(a, b, out); }

void check_set(const agilenn::data::ImageSet& set) {
  AGN_FUZZ_CHECK(set.height > 0 && set.width > 0 && set.channels == 1);
  size_t image = 0, total = 0;
  AGN_FUZZ_CHECK(!mul_overflows(static_cast<size_t>(set.height), static_cast<size_t>(set.width), &image));
  AGN_FUZZ_CHECK(!mul_overflows(image, set.size(), &total));
  AGN_FUZZ_CHECK(total == set.pixels.size());
  AGN_FUZZ_CHECK(set.image_bytes() == image);
  for (size_t i = 0; i < set.size(); ++i) {  // first and last byte of every image: ASan checks
    volatile uint8_t first = set.image(i)[0], last = set.image(i)[image - 1];
    (void)first;
    (void)last;
  }
  for (int32_t label : set.labels) {
    AGN_FUZZ_CHECK(label >= 0 && static_cast<size_t>(label) < set.classes.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::filesystem::path& dir = agilenn::fuzz::scratch_dir("idx");
  size_t images_size = data[0] | (size_t{data[1]} << 8);
  if (images_size > size - 2) images_size = size - 2;
  agilenn::fuzz::write_bytes(dir / "images", data + 2, images_size);
  agilenn::fuzz::write_bytes(dir / "labels", data + 2 + images_size, size - 2 - images_size);
  try {
    check_set(agilenn::data::read_idx(dir / "images", dir / "labels"));
  } catch (const std::exception&) {
  }
  return 0;
}
