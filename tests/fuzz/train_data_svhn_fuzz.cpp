// libFuzzer target: train/data/svhn.h, read_svhn_mat (MATLAB files through matio).
//
// Input: the .mat file's bytes, written to a per-process temp folder. std::exception is the
// expected outcome for bad files; a returned set must be consistent.
//
// Not run in CI (tests/fuzz/CMakeLists.txt, AGILENN_FUZZ_NOT_IN_CI): matio 1.5.23 (Debian 12, not
// instrumented) allocates what a variable's header claims, already inside Mat_VarReadInfo: one flipped bit in a 360-byte file makes it malloc 2-3 GB, which libFuzzer
// reports as out-of-memory within seconds. read_svhn_mat checks the data size a header claims
// against the file size before Mat_VarRead (svhn.cpp), but cannot reach inside Mat_VarReadInfo.
// With the allocation limit lifted, 120 s of fuzzing found no crash, sanitizer report or leak:
//   FUZZ_ARGS=-malloc_limit_mb=1000000 ASAN_OPTIONS=allocator_may_return_null=1
//   bash tests/fuzz/run_fuzzers.sh train_data_svhn_fuzz   (the two lines as one command)
#include <exception>

#include "fuzz_support.h"
#include "train/data/svhn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path file = agilenn::fuzz::scratch_dir("svhn") / "x.mat";
  agilenn::fuzz::write_bytes(file, data, size);
  try {
    const agilenn::data::ImageSet set = agilenn::data::read_svhn_mat(file);
    AGN_FUZZ_CHECK(set.height > 0 && set.width > 0 && set.channels == 3);
    AGN_FUZZ_CHECK(set.pixels.size() == set.size() * set.image_bytes());
    for (int32_t label : set.labels) AGN_FUZZ_CHECK(label >= 0 && label <= 9);
  } catch (const std::exception&) {
  }
  return 0;
}
