// libFuzzer target: train/data/cifar_binary.h, read_cifar10_binary / read_cifar100_binary on a
// test-split folder.
//
// Input: byte 0 -> variant (b0 % 3: CIFAR-10, CIFAR-100 fine labels, CIFAR-100 coarse labels);
// byte 1 -> length of the class-names file (0: no names file, so names default to "0".."n-1");
// then the names file, then the records file (test_batch.bin or test.bin). std::exception is the
// expected outcome for bad files; a returned set must be consistent (geometry, labels in range).
#include <exception>

#include "fuzz_support.h"
#include "train/data/cifar_binary.h"

namespace {

void check_set(const agilenn::data::ImageSet& set, size_t classes) {
  AGN_FUZZ_CHECK(set.height == 32 && set.width == 32 && set.channels == 3);
  AGN_FUZZ_CHECK(set.size() > 0 && set.pixels.size() == set.size() * 32 * 32 * 3);
  AGN_FUZZ_CHECK(set.classes.size() == classes);
  for (int32_t label : set.labels) AGN_FUZZ_CHECK(label >= 0 && static_cast<size_t>(label) < classes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agilenn::data;
  if (size < 2) return 0;
  static const std::filesystem::path& dir = agilenn::fuzz::scratch_dir("cifar");
  const int variant = data[0] % 3;
  size_t names_size = data[1];
  if (names_size > size - 2) names_size = size - 2;
  const char* names_file = variant == 0 ? "batches.meta.txt"
                           : variant == 1 ? "fine_label_names.txt"
                                          : "coarse_label_names.txt";
  std::filesystem::remove(dir / names_file);
  if (names_size > 0) agilenn::fuzz::write_bytes(dir / names_file, data + 2, names_size);
  agilenn::fuzz::write_bytes(dir / (variant == 0 ? "test_batch.bin" : "test.bin"), data + 2 + names_size,
                             size - 2 - names_size);
  try {
    switch (variant) {
      case 0: check_set(read_cifar10_binary(dir, Split::kTest), 10); break;
      case 1: check_set(read_cifar100_binary(dir, Split::kTest, Cifar100Labels::kFine), 100); break;
      default: check_set(read_cifar100_binary(dir, Split::kTest, Cifar100Labels::kCoarse), 20); break;
    }
  } catch (const std::exception&) {
  }
  return 0;
}
