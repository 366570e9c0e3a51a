#include "client/load.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

namespace agilenn::client {
namespace {

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t rank = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(rank), v.end());
  return v[rank];
}

}  // namespace

LoadReport run_load(const LoadOptions& o) {
  LoadReport report;
  std::mutex mutex;
  std::vector<double> round_trips;
  double wire_bytes = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int d = 0; d < o.devices; ++d) {
    threads.emplace_back([&, d] {
      ClientOptions co = o.client;
      co.device_id = o.first_device + static_cast<uint32_t>(d);
      co.link.seed = o.client.link.seed + static_cast<uint64_t>(d);
      RemoteClient client(co);
      LoadReport mine;
      std::vector<double> rtts;
      double bytes = 0;
      for (int64_t i = 0; o.requests_per_device > 0 ? i < o.requests_per_device : Clock::now() < end; ++i) {
        const RemoteResult r = client.request(o.make_request(co.device_id, i));
        ++mine.requests;
        bytes += static_cast<double>(r.wire_bytes);
        if (r.answered) {
          ++mine.answered;
          rtts.push_back(r.round_trip_ms);
        } else {
          ++mine.fallbacks;
        }
      }
      std::lock_guard lock(mutex);
      report.requests += mine.requests;
      report.answered += mine.answered;
      report.fallbacks += mine.fallbacks;
      round_trips.insert(round_trips.end(), rtts.begin(), rtts.end());
      wire_bytes += bytes;
    });
  }
  for (auto& t : threads) t.join();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.answered_per_s = report.seconds > 0 ? static_cast<double>(report.answered) / report.seconds : 0;
  report.round_trip_p50_ms = percentile(round_trips, 0.50);
  report.round_trip_p99_ms = percentile(round_trips, 0.99);
  report.wire_bytes_per_request = report.requests > 0 ? wire_bytes / static_cast<double>(report.requests) : 0;
  return report;
}

}  // namespace agilenn::client
