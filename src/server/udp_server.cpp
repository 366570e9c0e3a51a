#include "server/udp_server.h"

#include <algorithm>
#include <cstdio>

namespace agilenn::server {
namespace {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  const size_t rank = std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(rank), values.end());
  return values[rank];
}

}  // namespace

nlohmann::json Stats::to_json() const {
  nlohmann::json drops = nlohmann::json::object();
  for (size_t i = 0; i < kDropReasons; ++i) drops[std::string(drop_name(static_cast<Drop>(i)))] = counters.drops[i];
  nlohmann::json histogram = nlohmann::json::object();
  for (const auto& [size, n] : batch_histogram) histogram[std::to_string(size)] = n;
  return {{"datagrams", counters.datagrams},
          {"requests", counters.requests},
          {"replies", counters.replies},
          {"duplicates_answered", counters.duplicates_answered},
          {"duplicates_ignored", counters.duplicates_ignored},
          {"dropped", counters.dropped()},
          {"drops", drops},
          {"batch_histogram", histogram},
          {"service_ms", {{"p50", service_p50_ms}, {"p99", service_p99_ms}}},
          {"uptime_s", uptime_s},
          {"devices", devices},
          {"reassembly_bytes", reassembly_bytes},
          {"peak_reassembly_bytes", peak_reassembly_bytes}};
}

std::string Stats::to_line() const {
  char text[256];
  std::snprintf(text, sizeof text,
                "%.1f s: %llu requests, %llu replies, %llu resent from cache, service p50 %.2f ms p99 %.2f ms, "
                "%zu devices; drops %llu",
                uptime_s, static_cast<unsigned long long>(counters.requests),
                static_cast<unsigned long long>(counters.replies),
                static_cast<unsigned long long>(counters.duplicates_answered), service_p50_ms, service_p99_ms, devices,
                static_cast<unsigned long long>(counters.dropped()));
  std::string line = text;
  const char* separator = " (";
  for (size_t i = 0; i < kDropReasons; ++i) {
    if (counters.drops[i] == 0) continue;
    line.append(separator).append(drop_name(static_cast<Drop>(i))).append("=").append(std::to_string(counters.drops[i]));
    separator = " ";
  }
  if (separator[0] == ' ' && separator[1] == '\0') line.append(")");
  line.append("; batches");
  if (batch_histogram.empty()) line.append(" none");
  for (const auto& [size, n] : batch_histogram) line.append(" ").append(std::to_string(size)).append(":").append(std::to_string(n));
  return line;
}

UdpServer::UdpServer(const sockaddr_in& bind_address, wire::KeyStore keys, Backend& backend, ServeOptions options)
    : options_(options), core_(std::move(keys), options.limits), started_(Clock::now()) {
  socket_.set_buffer_sizes(8 << 20);
  socket_.bind(bind_address);
  batcher_ = std::make_unique<Batcher>(backend, options_.batch,
                                       [this](std::vector<Job>& jobs, std::vector<BackendResult>& results) {
                                         finish_batch(jobs, results);
                                       });
}

UdpServer::~UdpServer() { batcher_->stop(); }

void UdpServer::send_all(const std::vector<Outgoing>& out) {
  for (const Outgoing& o : out) socket_.send_to(o.datagram.data(), o.datagram.size(), o.to);
}

void UdpServer::finish_batch(std::vector<Job>& jobs, std::vector<BackendResult>& results) {
  std::vector<Outgoing> out;
  for (size_t i = 0; i < jobs.size(); ++i) {
    out.clear();
    const auto now = Clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - jobs[i].completed).count();
    {
      std::lock_guard lock(mutex_);
      core_.reply(jobs[i], results[i], static_cast<uint32_t>(std::min(ms * 1000.0, 4.0e9)), out);
      if (service_ms_.size() < kServiceWindow) {
        service_ms_.push_back(ms);
      } else {
        service_ms_[service_next_] = ms;
      }
      service_next_ = (service_next_ + 1) % kServiceWindow;
    }
    send_all(out);
  }
}

void UdpServer::run(const std::atomic<bool>& stop, const std::function<void(const Stats&)>& periodic) {
  // One byte more than the limit, so an oversized datagram is seen as such (MSG_TRUNC size).
  std::vector<uint8_t> buffer(options_.limits.max_datagram + 1);
  std::vector<Outgoing> out;
  auto next_expire = Clock::now();
  auto next_stats = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options_.stats_interval_s));
  while (!stop.load(std::memory_order_relaxed)) {
    socket_.wait_readable(20);
    for (int burst = 0; burst < 256; ++burst) {
      sockaddr_in from{};
      const long size = socket_.receive(buffer.data(), buffer.size(), &from);
      if (size < 0) break;
      out.clear();
      std::optional<Job> job;
      {
        std::lock_guard lock(mutex_);
        job = core_.handle(buffer.data(), static_cast<size_t>(size), from, Clock::now(), out);
      }
      send_all(out);
      if (job && !batcher_->submit(*job)) {
        std::lock_guard lock(mutex_);
        core_.abandon(*job);
      }
    }
    const auto now = Clock::now();
    if (now >= next_expire) {
      std::lock_guard lock(mutex_);
      core_.expire(now);
      next_expire = now + std::chrono::milliseconds(50);
    }
    if (periodic && options_.stats_interval_s > 0 && now >= next_stats) {
      periodic(stats());
      next_stats = now + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(options_.stats_interval_s));
    }
  }
  batcher_->stop();
}

Stats UdpServer::stats() const {
  Stats s;
  std::vector<double> service;
  {
    std::lock_guard lock(mutex_);
    s.counters = core_.counters();
    s.reassembly_bytes = core_.reassembly_bytes();
    s.peak_reassembly_bytes = core_.peak_reassembly_bytes();
    s.devices = core_.devices();
    service = service_ms_;
  }
  s.batch_histogram = batcher_->histogram();
  s.service_p50_ms = percentile(service, 0.50);
  s.service_p99_ms = percentile(service, 0.99);
  s.uptime_s = std::chrono::duration<double>(Clock::now() - started_).count();
  return s;
}

}  // namespace agilenn::server
