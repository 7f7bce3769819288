// The bounded worker pool: capacity changed after start (the hash queue bounded by time), the
// Retry-After estimate of a refused task, and the queue limit derived from a task's cost.
#include "http/worker_pool.hpp"

#include <atomic>
#include <chrono>
#include <future>

#include <gtest/gtest.h>

namespace ikigai::http {
namespace {

using namespace std::chrono_literals;

// Occupies the pool's one thread until Release().
class Blocker {
 public:
  explicit Blocker(WorkerPool& pool) {
    EXPECT_TRUE(pool.TrySubmit([this] {
      started_.set_value();
      release_.get_future().wait();
    }));
    started_.get_future().wait();
  }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> started_;
  std::promise<void> release_;
};

TEST(WorkerPoolTest, SetCapacityBoundsTheQueue) {
  WorkerPool pool("test", 1, 1024);
  Blocker blocker(pool);
  pool.SetCapacity(2);
  EXPECT_EQ(pool.Capacity(), 2u);
  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; })) << "a third task queued behind a capacity of 2";
  EXPECT_EQ(pool.Rejected(), 1u);
  EXPECT_EQ(pool.Depth(), 2u);
  blocker.Release();
  pool.Stop();
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkerPoolTest, ShrinkingBelowTheDepthKeepsWhatIsQueued) {
  WorkerPool pool("test", 1, 10);
  Blocker blocker(pool);
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  pool.SetCapacity(0);  // at least 1
  EXPECT_EQ(pool.Capacity(), 1u);
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));
  blocker.Release();
  pool.Stop();
  EXPECT_EQ(ran.load(), 5);
}

TEST(WorkerPoolTest, RetryAfterIsTheTimeToDrainAtLeastOneSecond) {
  WorkerPool pool("test", 1, 10);
  EXPECT_EQ(pool.RetryAfterSeconds(), 1) << "idle, no cost known";
  Blocker blocker(pool);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(pool.TrySubmit([] {}));
  pool.SetTaskCost(600ms);
  // 1 running + 4 queued at 0.6 s on one thread: 3 s.
  EXPECT_EQ(pool.RetryAfterSeconds(), 3);
  pool.SetTaskCost(10ms);
  EXPECT_EQ(pool.RetryAfterSeconds(), 1);
  blocker.Release();
  pool.Stop();
}

TEST(WorkerPoolTest, QueueLimitForWaitHoldsAboutTheWaitOfWork) {
  // The default Argon2id (~26 ms) on 2 threads: 76 hashes per thread in 2 s.
  EXPECT_EQ(QueueLimitForWait(26ms, 2, 2s, 1024), 152u);
  // A slow hash still queues one per thread.
  EXPECT_EQ(QueueLimitForWait(5s, 2, 2s, 1024), 2u);
  // Never more than the configured queue limit, never less than 1.
  EXPECT_EQ(QueueLimitForWait(1us, 2, 2s, 1024), 1024u);
  EXPECT_EQ(QueueLimitForWait(0ns, 2, 2s, 1024), 1024u);
  EXPECT_EQ(QueueLimitForWait(26ms, 4, 2s, 100), 100u);
  EXPECT_EQ(QueueLimitForWait(5s, 0, 2s, 1024), 1u);
}

}  // namespace
}  // namespace ikigai::http
