// A fixed-size pool of native threads for the JPEG kernel. Not libuv's pool: that one is shared by
// the whole process (fs reads, sharp, DNS), is sized once at start-up by UV_THREADPOOL_SIZE (4 by
// default), and a batch spread over it would stall the file reads that feed the next batch. This
// pool has exactly the threads the loader asks for, at a lower priority than the rest of the
// process (jpeg_pool.cc says why); its threads share out the samples of one job, jobs run in the
// order they were submitted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

class JpegPool {
 public:
  struct Job {
    size_t count = 0;                  // samples, at least 1
    std::function<void(size_t)> work;  // runs sample i; must not throw
    std::function<void()> done;        // runs once, on a pool thread, after the last sample
    size_t next = 0;                   // next sample to hand out (guarded by the pool's mutex)
    std::atomic<size_t> finished{0};
  };

  explicit JpegPool(int threads);
  ~JpegPool();
  JpegPool(const JpegPool&) = delete;
  JpegPool& operator=(const JpegPool&) = delete;

  void submit(std::shared_ptr<Job> job);

  // Lets the samples in progress finish, drops the rest (their `done` never runs) and joins the
  // threads. Idempotent. For the end of the environment; a live pool is never shut down mid-job.
  void shutdown();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tessera
