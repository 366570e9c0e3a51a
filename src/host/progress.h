// Progress bars for long host-side steps (decoding, extraction, training, evaluation).
//
// On a terminal the bar redraws in place on stderr at most ten times a second:
//   decode train [##########..........] 25000/50000  50%  9.8k img/s  ETA 0:03
// When stderr is not a terminal (CI, pipes) it prints one line when the step ends, so logs stay
// short. add() is thread-safe; finish() is idempotent and also runs from the destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace agilenn {

class Progress {
 public:
  Progress(std::string label, uint64_t total, std::string unit = "it");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(uint64_t n = 1);
  void finish();

  // Forces plain-line output (no in-place redraw) whatever stderr is; for tests and --quiet runs.
  static void set_interactive(bool interactive);

  // "12.3k" style rate and "1:02:03" style durations, shared with other reports.
  static std::string format_rate(double per_second);
  static std::string format_duration(double seconds);

 private:
  void draw(bool final_line);

  std::string label_;
  std::string unit_;
  uint64_t total_;
  std::atomic<uint64_t> done_{0};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::mutex draw_mutex_;
  bool finished_ = false;
  bool interactive_;
};

}  // namespace agilenn
