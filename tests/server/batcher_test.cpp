#include "server/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "support/fake_backend.h"

namespace {

using agilenn::server::BackendResult;
using agilenn::server::Batcher;
using agilenn::server::BatchOptions;
using agilenn::server::Clock;
using agilenn::server::Job;

Job job(uint32_t seq) {
  Job j;
  j.seq = seq;
  j.request = agilenn::testing::fake_request(16, seq);
  j.completed = Clock::now();
  return j;
}

TEST(Batcher, GroupsRequestsUpToMaxBatch) {
  agilenn::testing::FakeBackend backend(20);  // 20 ms per call: requests pile up meanwhile
  std::atomic<int> answered{0};
  std::vector<uint32_t> seen;
  std::mutex m;
  BatchOptions options;
  options.max_batch = 8;
  options.max_wait_ms = 5;
  {
    Batcher batcher(backend, options, [&](std::vector<Job>& jobs, std::vector<BackendResult>& results) {
      std::lock_guard lock(m);
      ASSERT_EQ(jobs.size(), results.size());
      for (size_t i = 0; i < jobs.size(); ++i) {
        seen.push_back(jobs[i].seq);
        EXPECT_EQ(results[i].logits, agilenn::testing::fake_logits(
                                         std::span(jobs[i].request).subspan(AGN_WIRE_REQUEST_HEADER)));
      }
      answered += static_cast<int>(jobs.size());
    });
    for (uint32_t s = 0; s < 40; ++s) {
      Job j = job(s);
      ASSERT_TRUE(batcher.submit(j));
    }
    batcher.stop();  // runs what is queued first
    const auto histogram = batcher.histogram();
    int largest = 0;
    for (const auto& [size, n] : histogram) largest = std::max(largest, size);
    EXPECT_EQ(largest, 8);
  }
  EXPECT_EQ(answered.load(), 40);
  for (uint32_t s = 0; s < 40; ++s) EXPECT_EQ(seen[s], s);  // first in, first out
  EXPECT_LT(backend.calls.load(), 40u);
}

TEST(Batcher, MaxBatchOneIsOneRequestPerCall) {
  agilenn::testing::FakeBackend backend;
  BatchOptions options;
  options.max_batch = 1;
  std::atomic<int> answered{0};
  Batcher batcher(backend, options, [&](std::vector<Job>& jobs, std::vector<BackendResult>&) {
    answered += static_cast<int>(jobs.size());
  });
  for (uint32_t s = 0; s < 10; ++s) {
    Job j = job(s);
    ASSERT_TRUE(batcher.submit(j));
  }
  batcher.stop();
  EXPECT_EQ(answered.load(), 10);
  EXPECT_EQ(batcher.histogram().at(1), 10u);
  EXPECT_EQ(batcher.histogram().size(), 1u);
}

class ThrowingBackend : public agilenn::server::Backend {
 public:
  std::vector<BackendResult> run(std::span<const std::span<const uint8_t>>) override {
    throw std::runtime_error("out of memory");
  }
};

TEST(Batcher, FailingBackendAnswersServerError) {
  ThrowingBackend backend;
  std::vector<uint8_t> statuses;
  Batcher batcher(backend, {}, [&](std::vector<Job>&, std::vector<BackendResult>& results) {
    for (const auto& r : results) statuses.push_back(r.status);
  });
  Job j = job(1);
  ASSERT_TRUE(batcher.submit(j));
  batcher.stop();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0], AGN_WIRE_REPLY_SERVER_ERROR);
}

TEST(Batcher, QueueIsBounded) {
  agilenn::testing::FakeBackend backend(50);
  BatchOptions options;
  options.max_batch = 1;
  options.max_pending = 2;
  Batcher batcher(backend, options, [](std::vector<Job>&, std::vector<BackendResult>&) {});
  int accepted = 0;
  for (uint32_t s = 0; s < 6; ++s) {
    Job j = job(s);
    accepted += batcher.submit(j);
  }
  EXPECT_LE(accepted, 3);  // at most one running and two waiting
  EXPECT_GE(accepted, 2);
}

// prepare() runs on the submitting thread, before the job queues; run() sees what it left.
class PreparingBackend : public agilenn::server::Backend {
 public:
  void prepare(std::vector<uint8_t>& request) const override {
    prepared_on.push_back(std::this_thread::get_id());
    request.assign(1, static_cast<uint8_t>(request.size()));
  }
  std::vector<BackendResult> run(std::span<const std::span<const uint8_t>> requests) override {
    ran_on = std::this_thread::get_id();
    std::vector<BackendResult> out;
    for (const auto& r : requests) out.push_back({AGN_WIRE_REPLY_OK, {static_cast<float>(r.size()), static_cast<float>(r[0])}});
    return out;
  }
  mutable std::vector<std::thread::id> prepared_on;  // only the test's thread submits
  std::thread::id ran_on;
};

TEST(Batcher, PreparesOnTheSubmittingThread) {
  PreparingBackend backend;
  std::vector<std::vector<float>> logits;
  std::vector<size_t> sizes;
  Batcher batcher(backend, {}, [&](std::vector<Job>& jobs, std::vector<BackendResult>& results) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      sizes.push_back(jobs[i].request.size());
      logits.push_back(results[i].logits);
    }
  });
  for (uint32_t s = 0; s < 3; ++s) {
    Job j = job(s);
    ASSERT_TRUE(batcher.submit(j));
  }
  batcher.stop();
  ASSERT_EQ(backend.prepared_on.size(), 3u);
  for (const auto& id : backend.prepared_on) EXPECT_EQ(id, std::this_thread::get_id());
  EXPECT_NE(backend.ran_on, std::this_thread::get_id());
  ASSERT_EQ(logits.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sizes[i], 1u);  // the job carries the prepared request
    EXPECT_EQ(logits[i], (std::vector<float>{1, AGN_WIRE_REQUEST_HEADER + 16}));
  }
}

TEST(Batcher, RefusedJobIsNotPrepared) {
  PreparingBackend backend;
  BatchOptions options;
  options.max_pending = 1;
  options.max_wait_ms = 200;  // the first job waits in the queue, so the second finds it full
  Batcher batcher(backend, options, [](std::vector<Job>&, std::vector<BackendResult>&) {});
  Job first = job(1), second = job(2);
  ASSERT_TRUE(batcher.submit(first));
  const std::vector<uint8_t> request = second.request;
  EXPECT_FALSE(batcher.submit(second));
  EXPECT_EQ(second.request, request);
  EXPECT_EQ(backend.prepared_on.size(), 1u);
}

}  // namespace
