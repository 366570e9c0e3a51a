// libFuzzer target: what the host reads from the emulated board in `agilenn mcu run`: the UART
// frame reader of the radio bridge (mcu/bridge.h) and the results file parser (mcu/app_run.h).
//
// Input: byte 0 seeds the chunk sizes the UART stream is cut into; the rest is both the UART
// byte stream and the results file.
// Properties checked: every frame's body is exactly the size its header says and the frames,
// re-encoded, appear in the input in order; the parser either throws std::runtime_error or
// returns records that exactly fill the file.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "fuzz_support.h"
#include "mcu/app_link.h"
#include "mcu/app_run.h"
#include "mcu/bridge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  agilenn::fuzz::Rng rng(data[0]);
  const uint8_t* stream = data + 1;
  const size_t n = size - 1;

  agilenn::mcu::FrameReader reader;
  std::vector<uint8_t> seen;  // the input up to the end of the last frame, re-encoded
  size_t search_from = 0;
  for (size_t at = 0; at < n;) {
    const size_t chunk = std::min(n - at, rng.between(1, 64));
    reader.feed(stream + at, chunk);
    at += chunk;
    while (auto frame = reader.next()) {
      const std::vector<uint8_t> encoded = agilenn::mcu::link_frame(frame->type, frame->body);
      const auto found = std::search(stream + search_from, stream + n, encoded.begin(), encoded.end());
      AGN_FUZZ_CHECK(found != stream + n);
      search_from = static_cast<size_t>(found - stream) + encoded.size();
      AGN_FUZZ_CHECK(search_from <= at);
    }
  }

  try {
    const agilenn::mcu::AppResults r = agilenn::mcu::parse_results({stream, n});
    AGN_FUZZ_CHECK(AGN_APP_RESULTS_HEADER + r.images.size() * (AGN_APP_RECORD_FIXED + r.classes) == n);
    for (const auto& m : r.images) AGN_FUZZ_CHECK(m.logits.size() == r.classes);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
