#include "server/batcher.h"

#include <algorithm>
#include <chrono>

namespace agilenn::server {

Batcher::Batcher(Backend& backend, BatchOptions options, Done done)
    : backend_(backend), options_(options), done_(std::move(done)) {
  options_.max_batch = std::max(1, options_.max_batch);
  worker_ = std::thread([this] { work(); });
}

Batcher::~Batcher() { stop(); }

bool Batcher::submit(Job& job) {
  const auto full = [this] { return stopping_ || queue_.size() >= options_.max_pending; };
  {
    std::lock_guard lock(mutex_);
    if (full()) return false;
  }
  std::vector<uint8_t> request = job.request;
  backend_.prepare(request);  // outside the lock: the worker keeps taking batches meanwhile
  {
    std::lock_guard lock(mutex_);
    if (full()) return false;
    job.request = std::move(request);
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void Batcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_one();
  if (worker_.joinable()) worker_.join();
}

std::map<int, uint64_t> Batcher::histogram() const {
  std::lock_guard lock(mutex_);
  return histogram_;
}

size_t Batcher::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void Batcher::work() {
  const auto max_wait = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(options_.max_wait_ms));
  const size_t max_batch = static_cast<size_t>(options_.max_batch);
  std::unique_lock lock(mutex_);
  for (;;) {
    ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    const auto launch = queue_.front().completed + max_wait;
    while (queue_.size() < max_batch && !stopping_) {
      if (ready_.wait_until(lock, launch) == std::cv_status::timeout) break;
    }
    const size_t n = std::min(queue_.size(), max_batch);
    std::vector<Job> jobs;
    jobs.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      jobs.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    ++histogram_[static_cast<int>(n)];
    lock.unlock();
    std::vector<std::span<const uint8_t>> requests;
    requests.reserve(n);
    for (const Job& j : jobs) requests.emplace_back(j.request);
    std::vector<BackendResult> results;
    try {
      results = backend_.run(requests);
    } catch (const std::exception&) {
      results.clear();
    }
    if (results.size() != n) {
      // A failing backend answers every request of the batch with a server error (the devices
      // fall back to their local prediction) instead of leaving them to time out.
      results.assign(n, BackendResult{AGN_WIRE_REPLY_SERVER_ERROR, {}});
    }
    done_(jobs, results);
    lock.lock();
  }
}

}  // namespace agilenn::server
