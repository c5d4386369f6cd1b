#include "dist_heartbeat.h"

namespace tessera::dist {

Heartbeat::Heartbeat(c10::intrusive_ptr<c10d::Store> store, int rank, int size, std::chrono::milliseconds interval)
    : store_(std::move(store)), rank_(rank), size_(size), interval_(interval) {
  store_->add(key(rank_), 1);  // the first beat is synchronous: a probe never sees a missing key
  thread_ = std::thread([this] { run(); });
}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Heartbeat::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    try {
      store_->add(key(rank_), 1);
    } catch (...) {
      return;  // the store is gone (rank 0 ended); a probe will say so
    }
    lock.lock();
  }
}

Liveness Heartbeat::probe() {
  Liveness result;
  std::vector<int> peers;
  for (int r = 0; r < size_; r++)
    if (r != rank_) peers.push_back(r);
  try {
    std::vector<int64_t> before;
    for (int r : peers) before.push_back(store_->add(key(r), 0));  // add(0) reads without blocking
    std::vector<bool> moved(peers.size(), false);
    const auto step = interval_ / 4;
    const auto deadline = std::chrono::steady_clock::now() + 3 * interval_;
    bool all_moved = peers.empty();
    while (!all_moved && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(step);
      all_moved = true;
      for (size_t i = 0; i < peers.size(); i++) {
        if (!moved[i]) moved[i] = store_->add(key(peers[i]), 0) != before[i];
        all_moved = all_moved && moved[i];
      }
    }
    for (size_t i = 0; i < peers.size(); i++)
      if (!moved[i]) result.lost.push_back(peers[i]);
  } catch (...) {
    result.store_lost = true;
    result.lost = rank_ == 0 ? std::vector<int>{} : std::vector<int>{0};
  }
  return result;
}

}  // namespace tessera::dist
