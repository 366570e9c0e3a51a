// Dynamic batching across devices: complete requests queue up; a worker thread runs the backend
// on up to max_batch of them as soon as max_batch are waiting or the oldest has waited max_wait_ms
// (whichever comes first). max_batch = 1 is the same code path without batching.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "server/backend.h"
#include "server/server_core.h"

namespace agilenn::server {

struct BatchOptions {
  int max_batch = 32;        // requests per Remote NN call
  double max_wait_ms = 5.0;  // how long the oldest request may wait for others
  size_t max_pending = 4096; // queued requests; more are dropped as busy
};

class Batcher {
 public:
  // Called on the worker thread with each batch and its results (same order).
  using Done = std::function<void(std::vector<Job>& jobs, std::vector<BackendResult>& results)>;

  Batcher(Backend& backend, BatchOptions options, Done done);
  ~Batcher();  // stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Prepares the job's request on the calling thread (Backend::prepare) and queues it; false, with
  // the request unprepared, when max_pending are already waiting or the batcher is stopping.
  bool submit(Job& job);
  // Runs what is queued, then stops the worker. Idempotent.
  void stop();
  // Batch size -> number of backend calls with that size.
  std::map<int, uint64_t> histogram() const;
  size_t pending() const;

 private:
  void work();

  Backend& backend_;
  BatchOptions options_;
  Done done_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  std::map<int, uint64_t> histogram_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace agilenn::server
