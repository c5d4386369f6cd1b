// Liveness of the ranks, kept apart from progress. Gloo notices a killed peer at once ("Connection
// closed by peer [127.0.0.1]:41234") but cannot say which rank that was, and to a collective's
// timeout a slow rank looks the same as a dead one. So every rank bumps a counter in the
// rendezvous store from a thread of its own (not the JS thread, which is busy for seconds inside a
// training step), and when a collective fails, `probe` looks at which counters stopped moving.
#pragma once

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tessera::dist {

struct Liveness {
  std::vector<int> lost;    // ranks whose counter did not move during the probe
  bool store_lost = false;  // the store stopped answering: rank 0, which hosts it, is gone
};

class Heartbeat {
 public:
  // `store` must be a connection of its own: the thread's small writes must not queue behind a
  // long store wait elsewhere.
  Heartbeat(c10::intrusive_ptr<c10d::Store> store, int rank, int size, std::chrono::milliseconds interval);
  ~Heartbeat();

  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // Watches every other rank's counter for up to three intervals (a live rank beats about three
  // times; the probe ends early once every rank has). Blocks; call off the JS thread.
  Liveness probe();

  std::chrono::milliseconds interval() const { return interval_; }

 private:
  void run();
  std::string key(int rank) const { return "tessera/heartbeat/" + std::to_string(rank); }

  c10::intrusive_ptr<c10d::Store> store_;
  int rank_;
  int size_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tessera::dist
