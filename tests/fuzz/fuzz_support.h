// Helpers shared by the libFuzzer targets in tests/fuzz (header-only).
//
// Every target's input starts with a few header bytes that pick parameters (levels, widths,
// modes); fuzz_seeds.cpp writes seed inputs in exactly these layouts, so keep the two in step.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

namespace agilenn::fuzz {

// A property of the code under test does not hold: crash so that libFuzzer saves the input.
#define AGN_FUZZ_CHECK(cond)                                                         \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                              \
    }                                                                                \
  } while (0)

// Deterministic pseudo-random numbers (xorshift64*) for chunk and buffer sizes, seeded from input.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {
    if (state_ == 0) state_ = 1;
  }
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  // Uniform-ish in [lo, hi].
  size_t between(size_t lo, size_t hi) { return lo + static_cast<size_t>(next() % (hi - lo + 1)); }

 private:
  uint64_t state_;
};

// A folder under the system temp folder named after the target and the process id, created on
// first use and removed when the process exits normally (a crashing run may leave it behind;
// run_fuzzers.sh points TMPDIR at its own temp folder, which it removes).
inline const std::filesystem::path& scratch_dir(const char* target) {
  struct Dir {
    std::filesystem::path path;
    explicit Dir(const char* name)
        : path(std::filesystem::temp_directory_path() /
               ("agilenn-fuzz-" + std::string(name) + "-" + std::to_string(::getpid()))) {
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir(target);
  return dir.path;
}

// Writes bytes to `path` (replacing it); traps if the write fails, since that is not a finding.
inline void write_bytes(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  AGN_FUZZ_CHECK(f != nullptr);
  AGN_FUZZ_CHECK(size == 0 || std::fwrite(data, 1, size, f) == size);
  AGN_FUZZ_CHECK(std::fclose(f) == 0);
}

}  // namespace agilenn::fuzz
