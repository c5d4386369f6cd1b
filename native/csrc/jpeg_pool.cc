#include "jpeg_pool.h"

#include <cerrno>
#include <stdexcept>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace tessera {
namespace {

// Decoding is background work: the thread that consumes the batches (the event loop, a training
// step's LibTorch threads) must get a core the moment it needs one, or a progress bar stutters and
// a server stalls while the decoders keep every core busy. On Linux a thread's nice value is its
// own, so the pool's threads run 5 steps nicer than the process (about a third of the weight of a
// normal thread when both want the CPU; all of an idle core otherwise). Lowering one's own priority
// needs no privilege; if it fails anyway, the thread simply runs at the normal priority.
constexpr int kNiceSteps = 5;

void lower_priority() {
#ifdef __linux__
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) setpriority(PRIO_PROCESS, tid, nice + kNiceSteps);
#endif
}

}  // namespace

JpegPool::JpegPool(int threads) {
  if (threads < 1) throw std::invalid_argument("JpegPool needs at least one thread");
  threads_.reserve(threads);
  try {
    for (int i = 0; i < threads; i++) threads_.emplace_back([this] { run(); });
  } catch (...) {
    shutdown();  // a thread could not be started: stop the ones that were
    throw;
  }
}

JpegPool::~JpegPool() { shutdown(); }

void JpegPool::submit(std::shared_ptr<Job> job) {
  if (!job || job->count == 0) throw std::invalid_argument("JpegPool::submit needs a job with samples");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) throw std::runtime_error("the JPEG thread pool has shut down");
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void JpegPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void JpegPool::run() {
  lower_priority();
  for (;;) {
    std::shared_ptr<Job> job;
    size_t i;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      i = job->next++;
      if (job->next == job->count) queue_.pop_front();  // every sample handed out
    }
    job->work(i);
    if (job->finished.fetch_add(1) + 1 == job->count) job->done();
  }
}

}  // namespace tessera
