#include "dist_rendezvous.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <thread>
#include <vector>

#include "dist_async.h"

namespace tessera::dist {
namespace {

std::string seconds(std::chrono::milliseconds ms) {
  std::string s = std::to_string(ms.count() / 1000.0);
  return s.substr(0, s.find('.') + 2) + " s";
}

std::string address(const RendezvousOptions& o) { return o.master_addr + ":" + std::to_string(o.master_port); }

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

c10::intrusive_ptr<c10d::Store> open_store(const RendezvousOptions& o, bool server, std::chrono::steady_clock::time_point deadline) {
  c10d::TCPStoreOptions so;
  so.port = o.master_port;
  so.isServer = server;
  so.waitWorkers = false;  // we wait for the ranks ourselves, to name the missing ones
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    so.timeout = std::max(left, std::chrono::milliseconds(1));
    try {
      auto store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
      store->setTimeout(o.rendezvous_timeout);
      return store;
    } catch (...) {
      std::string why = message_of(std::current_exception());
      // c10d gives up on a refused connection once its next 1 s retry would pass the deadline;
      // keep trying until ours, so that the timeout we state is the one that applies.
      if (!server && contains(why, "timed out") && std::chrono::steady_clock::now() + std::chrono::milliseconds(200) < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      if (server && contains(why, "Address already in use"))
        throw DistFailure("rank 0 cannot host the rendezvous store: port " + std::to_string(o.master_port) +
                              " is already in use on this machine; choose a free MASTER_PORT (launcher: masterPort)",
                          "rendezvous");
      if (server && !contains(why, "timed out"))
        throw DistFailure("rank 0 cannot host the rendezvous store on port " + std::to_string(o.master_port) + ": " + why, "rendezvous");
      // A client that never got through, or rank 0 that cannot reach its own store at MASTER_ADDR.
      throw DistFailure("rank " + std::to_string(o.rank) + " could not reach the rendezvous store at " + address(o) + " within " +
                            seconds(o.rendezvous_timeout) +
                            (server ? ": MASTER_ADDR must name this machine, which hosts the store as rank 0"
                                    : ": is rank 0 running, and are MASTER_ADDR and MASTER_PORT right and reachable from here?") +
                            (contains(why, "timed out") ? "" : " (" + why + ")"),
                        "rendezvous");
    }
  }
}

std::string key(int rank) { return "tessera/joined/" + std::to_string(rank); }

// Every rank sets its key, then polls until all keys exist. Polling (every 20 ms, a few small
// requests) rather than store->wait, so that on timeout we can say exactly who never came.
void wait_for_all(c10d::Store& store, const RendezvousOptions& o, std::chrono::steady_clock::time_point deadline) {
  store.set(key(o.rank), std::vector<uint8_t>{1});
  std::vector<std::string> keys;
  for (int r = 0; r < o.size; r++) keys.push_back(key(r));
  while (!store.check(keys)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::vector<int> missing;
      std::string names;
      for (int r = 0; r < o.size; r++) {
        if (store.check({key(r)})) continue;
        missing.push_back(r);
        names += (names.empty() ? "" : ", ") + std::to_string(r);
      }
      throw DistFailure("only " + std::to_string(o.size - static_cast<int>(missing.size())) + " of " + std::to_string(o.size) +
                            " ranks joined the rendezvous at " + address(o) + " within " + seconds(o.rendezvous_timeout) +
                            "; missing rank " + names + " (WORLD_SIZE is " + std::to_string(o.size) + ": was every rank started?)",
                        "rendezvous", missing);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

c10::intrusive_ptr<c10d::Store> rendezvous(const RendezvousOptions& o) {
  const auto deadline = std::chrono::steady_clock::now() + o.rendezvous_timeout;
  auto store = open_store(o, o.rank == 0, deadline);
  wait_for_all(*store, o, deadline);
  return store;
}

c10::intrusive_ptr<c10d::Store> connect_store(const RendezvousOptions& o) {
  return open_store(o, false, std::chrono::steady_clock::now() + o.rendezvous_timeout);
}

}  // namespace tessera::dist
