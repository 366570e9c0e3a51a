// The UDP service: one receiving thread (checks, reassembly, cached replies) and the batcher's
// worker (Remote NN, replies), sharing a ServerCore under a mutex. Stats on demand.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "server/batcher.h"
#include "server/server_core.h"
#include "wire/host/udp.h"

namespace agilenn::server {

struct ServeOptions {
  ServerLimits limits;
  BatchOptions batch;
  double stats_interval_s = 10;  // periodic stats line on stderr (0: only at exit)
};

struct Stats {
  Counters counters;
  std::map<int, uint64_t> batch_histogram;
  double service_p50_ms = 0;  // message complete -> reply sent, over the last kServiceWindow replies
  double service_p99_ms = 0;
  double uptime_s = 0;
  size_t reassembly_bytes = 0;
  size_t peak_reassembly_bytes = 0;
  size_t devices = 0;
  nlohmann::json to_json() const;
  std::string to_line() const;  // one human-readable line
};

class UdpServer {
 public:
  static constexpr size_t kServiceWindow = 1 << 16;

  // Binds now (so the port is known before run()); throws std::system_error if it cannot.
  UdpServer(const sockaddr_in& bind_address, wire::KeyStore keys, Backend& backend, ServeOptions options);
  ~UdpServer();

  sockaddr_in address() const { return socket_.local_address(); }
  // Serves until `stop` becomes true (checked every 20 ms), then answers what is queued and
  // returns. `periodic` receives the stats every stats_interval_s.
  void run(const std::atomic<bool>& stop, const std::function<void(const Stats&)>& periodic = {});
  Stats stats() const;

 private:
  void send_all(const std::vector<Outgoing>& out);
  void finish_batch(std::vector<Job>& jobs, std::vector<BackendResult>& results);

  ServeOptions options_;
  wire::UdpSocket socket_;
  mutable std::mutex mutex_;  // guards core_ and service_ms_
  ServerCore core_;
  std::vector<double> service_ms_;  // ring of the last kServiceWindow service times
  size_t service_next_ = 0;
  Clock::time_point started_;
  std::unique_ptr<Batcher> batcher_;
};

// Runs server.run() on a thread of its own from construction until stop() or destruction (which
// stops it too, so that an exception between the two cannot leave the thread running). stop()
// returns once the server has answered what was queued; stats() is then final.
class ServingThread {
 public:
  explicit ServingThread(UdpServer& server, const std::function<void(const Stats&)>& periodic = {})
      : thread_([this, &server, periodic] { server.run(stop_, periodic); }) {}
  ~ServingThread() { stop(); }
  ServingThread(const ServingThread&) = delete;
  ServingThread& operator=(const ServingThread&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace agilenn::server
