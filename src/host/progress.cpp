#include "host/progress.h"

#include <unistd.h>

#include <cstdio>

namespace agilenn {
namespace {

// -1: decide from isatty(stderr); 0/1: forced.
std::atomic<int> g_interactive_override{-1};

bool stderr_is_terminal() {
  const int forced = g_interactive_override.load();
  if (forced >= 0) return forced == 1;
  return isatty(STDERR_FILENO) == 1;
}

}  // namespace

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      interactive_(stderr_is_terminal()) {
  if (interactive_) draw(false);
}

Progress::~Progress() { finish(); }

void Progress::set_interactive(bool interactive) { g_interactive_override = interactive ? 1 : 0; }

void Progress::add(uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (!interactive_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  std::unique_lock<std::mutex> lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(draw_mutex_);
  if (finished_) return;
  finished_ = true;
  draw(true);
}

std::string Progress::format_rate(double per_second) {
  char buf[32];
  if (per_second >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM", per_second / 1e6);
  } else if (per_second >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.1fk", per_second / 1e3);
  } else if (per_second >= 10) {
    std::snprintf(buf, sizeof buf, "%.0f", per_second);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", per_second);
  }
  return buf;
}

std::string Progress::format_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

void Progress::draw(bool final_line) {
  const uint64_t done = done_.load(std::memory_order_relaxed);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const std::string rate_text = format_rate(rate) + " " + unit_ + "/s";

  if (!interactive_) {
    if (final_line) {
      std::fprintf(stderr, "%s: %llu %s in %s (%s)\n", label_.c_str(),
                   static_cast<unsigned long long>(done), unit_.c_str(),
                   format_duration(elapsed).c_str(), rate_text.c_str());
    }
    return;
  }

  constexpr int kWidth = 24;
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 0.0;
  const int filled = static_cast<int>(fraction * kWidth + 1e-9);
  std::string bar(static_cast<size_t>(kWidth), '.');
  for (int i = 0; i < filled && i < kWidth; ++i) bar[static_cast<size_t>(i)] = '#';
  const double eta = (rate > 0 && total_ > done) ? static_cast<double>(total_ - done) / rate : 0.0;
  const std::string tail =
      final_line ? "in " + format_duration(elapsed) : "ETA " + format_duration(eta);
  std::fprintf(stderr, "\r\033[K%s [%s] %llu/%llu %3.0f%%  %s  %s%s", label_.c_str(), bar.c_str(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
               fraction * 100.0, rate_text.c_str(), tail.c_str(), final_line ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace agilenn
