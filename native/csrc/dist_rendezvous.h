// The TCPStore rendezvous as torchrun's env:// does it: rank 0 hosts the store at MASTER_ADDR:
// MASTER_PORT, every rank connects to it, and nobody proceeds until all ranks have announced
// themselves. Each way this can fail gets its own message naming what to fix.
//
// The store has no authentication, and LibTorch 1.13's TCPStore server listens on every interface
// of rank 0's machine whatever MASTER_ADDR says (its API has no bind address): keep MASTER_PORT
// behind a firewall on shared networks. Gloo's own connections bind to the interface given.
#pragma once

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace tessera::dist {

struct RendezvousOptions {
  std::string backend;
  int rank = 0;
  int size = 1;
  std::string master_addr;
  uint16_t master_port = 0;
  std::chrono::milliseconds rendezvous_timeout{0};  // connecting and waiting for every rank
  std::chrono::milliseconds timeout{0};             // each collective
  std::chrono::milliseconds heartbeat{0};
  std::string interface_name;  // Gloo binds to this network interface (GLOO_SOCKET_IFNAME) ...
  std::string hostname;        // ... or to this host's address, or else to the default device
};

// Connects to (rank 0: starts) the store and waits until every rank has joined.
c10::intrusive_ptr<c10d::Store> rendezvous(const RendezvousOptions& o);

// One more client connection to the running store.
c10::intrusive_ptr<c10d::Store> connect_store(const RendezvousOptions& o);

}  // namespace tessera::dist
