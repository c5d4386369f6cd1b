// Process groups over PyTorch's c10d: the TCPStore rendezvous, Gloo (and NCCL where the LibTorch
// found has it) and the collectives the data-parallel code needs. Policy (reading the torchrun
// environment, averaging, bucketing) lives in src/dist/; this file owns the c10d objects and makes
// their failures legible: which rank is gone, which port is taken, which address is unreachable.
//
// A group and a collective's work cross into JS as type-tagged externals (there are a handful per
// process, so the weak-reference cost that made tensors use plain numbers does not matter here).
// Everything that blocks — rendezvous, waiting on a collective, teardown — returns a promise.
#define USE_C10D_GLOO  // ProcessGroupGloo.hpp declares nothing without it; every LibTorch build we support has Gloo
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

// NCCL only exists in CUDA builds of LibTorch, and its header only where nccl.h was installed.
#if TESSERA_WITH_CUDA && __has_include(<nccl.h>)
#define USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define TESSERA_WITH_NCCL 1
#else
#define TESSERA_WITH_NCCL 0
#endif

#include <memory>
#include <mutex>

#include "compat.h"
#include "convert.h"
#include "dist_async.h"
#include "dist_heartbeat.h"
#include "dist_rendezvous.h"
#include "errors.h"
#include "handle.h"

namespace tessera::dist {
namespace {

using std::chrono::milliseconds;

// A process group with its store and heartbeat. The first failure is kept and repeated to later
// callers: after it, c10d's state is unknown (a collective may still be blocked inside Gloo).
// The JS thread launches collectives while pool threads wait, probe and tear down, so the members
// are read under `mu` once the group is made.
struct Group {
  int rank = 0;
  int size = 0;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::Collectives> pg;
  std::shared_ptr<Heartbeat> heartbeat;
  std::mutex mu;
  std::unique_ptr<DistFailure> failure;
  bool destroyed = false;

  ~Group() { teardown(); }

  void check_usable(const std::string& op) {
    std::lock_guard<std::mutex> lock(mu);
    check_usable_locked(op);
  }

  // The process group, for launching `op`, unless the group failed or was destroyed.
  c10::intrusive_ptr<compat::Collectives> usable_pg(const std::string& op) {
    std::lock_guard<std::mutex> lock(mu);
    check_usable_locked(op);
    return pg;
  }

  // Records the first failure (after asking the heartbeats who is gone) and returns it to throw.
  DistFailure fail(const std::string& what, const std::string& reason) {
    std::shared_ptr<Heartbeat> beats;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (failure) return *failure;
      beats = heartbeat;
    }
    Liveness live = beats ? beats->probe() : Liveness{};
    std::string message = what;
    std::string why = reason;
    if (!live.lost.empty()) {
      why = "peer-lost";
      std::string ranks;
      for (int r : live.lost) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
      std::string cause = live.store_lost
                              ? "the rendezvous store it hosts stopped answering"
                              : "no heartbeat for " + std::to_string(3 * beats->interval().count()) + " ms";
      message = "lost rank " + ranks + " (" + cause + "); " + what;
    } else if (beats && reason == "timeout") {
      message += "; every rank is still alive (heartbeats), so one is slow or not calling the same collective";
    }
    std::lock_guard<std::mutex> lock(mu);
    if (!failure) failure = std::make_unique<DistFailure>(message, why, live.lost);
    return *failure;
  }

  // Joins the threads of a healthy group. A failed group may still have a collective blocked inside
  // Gloo until its timeout; destroying it would block as long, so it is left to the process's end.
  void teardown() {
    std::shared_ptr<Heartbeat> beats;
    c10::intrusive_ptr<compat::Collectives> group;
    c10::intrusive_ptr<c10d::Store> st;
    bool failed = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (destroyed) return;
      destroyed = true;
      failed = failure != nullptr;
      beats = std::move(heartbeat);
      group = std::move(pg);
      st = std::move(store);
    }
    beats.reset();  // joins the heartbeat thread, unless a probe still holds it (then the probe does)
    if (failed) {
      group.release();
      st.release();
    } else {
      group.reset();  // joins Gloo's threads
      st.reset();
    }
  }

 private:
  void check_usable_locked(const std::string& op) {
    if (destroyed) throw DistFailure(op + ": the process group was destroyed", "failed");
    if (failure) throw DistFailure(op + ": the process group failed earlier and cannot be used again: " + failure->what(), failure->reason, failure->lost_ranks);
  }
};

struct Work {
  std::shared_ptr<Group> group;
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> outputs;  // all-gather's results, handed to JS by wait
  std::string op;
};

const napi_type_tag kGroupTag = {0x7e55e2a0d15c0001ULL, 0x9a3b51c4e2f60d17ULL};
const napi_type_tag kWorkTag = {0x7e55e2a0d15c0002ULL, 0x9a3b51c4e2f60d17ULL};

template <typename T>
napi_value make_external(napi_env env, std::shared_ptr<T> value, const napi_type_tag& tag) {
  auto* holder = new std::shared_ptr<T>(std::move(value));
  napi_value ext;
  napi_status s = napi_create_external(
      env, holder, [](napi_env, void* data, void*) { delete static_cast<std::shared_ptr<T>*>(data); }, nullptr, &ext);
  if (s != napi_ok) {
    delete holder;
    throw NapiFailure("napi_create_external failed");
  }
  NAPI_OK(napi_type_tag_object(env, ext, &tag));
  return ext;
}

template <typename T>
std::shared_ptr<T> external_arg(napi_env env, napi_value v, const napi_type_tag& tag, const char* what) {
  bool ok = false;
  if (type_of(env, v) == napi_external) NAPI_OK(napi_check_object_type_tag(env, v, &tag, &ok));
  if (!ok) throw ArgumentError(std::string("argument '") + what + "' must be a " + what);
  void* data = nullptr;
  NAPI_OK(napi_get_value_external(env, v, &data));
  return *static_cast<std::shared_ptr<T>*>(data);
}

std::shared_ptr<Group> group_arg(napi_env env, napi_value v) { return external_arg<Group>(env, v, kGroupTag, "group"); }

napi_value prop(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  NAPI_OK(napi_get_named_property(env, obj, name, &v));
  return v;
}

std::string optional_string(napi_env env, napi_value obj, const char* name) {
  napi_value v = prop(env, obj, name);
  return present(env, v) ? to_string(env, v, name) : std::string();
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const RendezvousOptions& o) {
  try {
    if (!o.interface_name.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(o.interface_name);
    if (!o.hostname.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname(o.hostname);
    return c10d::ProcessGroupGloo::createDefaultDevice();
  } catch (...) {
    std::string where = !o.interface_name.empty() ? "network interface '" + o.interface_name + "' (GLOO_SOCKET_IFNAME)"
                        : !o.hostname.empty()     ? "the address of '" + o.hostname + "'"
                                                  : "this machine's hostname";
    throw DistFailure("Gloo cannot bind to " + where + ": " + message_of(std::current_exception()), "rendezvous");
  }
}

c10::intrusive_ptr<compat::Collectives> make_process_group(const RendezvousOptions& o, const c10::intrusive_ptr<c10d::Store>& store) {
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("tessera/" + o.backend, store);
#if TESSERA_WITH_NCCL
  if (o.backend == "nccl") {
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = o.timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, o.rank, o.size, opts);
  }
#endif
  if (o.backend != "gloo")
    throw DistFailure("backend '" + o.backend + "' is not available in this build (available: gloo" + (TESSERA_WITH_NCCL ? ", nccl" : "") + ")", "config");
  auto opts = c10d::ProcessGroupGloo::Options::create(o.timeout);
  opts->devices.push_back(gloo_device(o));
  try {
    return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, o.rank, o.size, opts);
  } catch (...) {
    throw DistFailure("rank " + std::to_string(o.rank) + " could not connect Gloo to every other rank: " + message_of(std::current_exception()),
                      "rendezvous");
  }
}

// init({ backend, rank, size, masterAddr, masterPort, rendezvousTimeoutMs, timeoutMs, heartbeatMs,
//        interface?, hostname? }) -> Promise<group>
napi_value js_init(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.init", [&]() -> napi_value {
    Args a(env, info, 1);
    napi_value o = a[0];
    RendezvousOptions opts;
    opts.backend = to_string(env, prop(env, o, "backend"), "backend");
    opts.rank = static_cast<int>(to_int(env, prop(env, o, "rank"), "rank"));
    opts.size = static_cast<int>(to_int(env, prop(env, o, "size"), "size"));
    opts.master_addr = to_string(env, prop(env, o, "masterAddr"), "masterAddr");
    opts.master_port = static_cast<uint16_t>(to_int(env, prop(env, o, "masterPort"), "masterPort"));
    opts.rendezvous_timeout = milliseconds(to_int(env, prop(env, o, "rendezvousTimeoutMs"), "rendezvousTimeoutMs"));
    opts.timeout = milliseconds(to_int(env, prop(env, o, "timeoutMs"), "timeoutMs"));
    opts.heartbeat = milliseconds(to_int(env, prop(env, o, "heartbeatMs"), "heartbeatMs"));
    opts.interface_name = optional_string(env, o, "interface");
    opts.hostname = optional_string(env, o, "hostname");
    // src/dist/env.ts checks these with friendlier words; this is the boundary's own guard.
    int64_t port = to_int(env, prop(env, o, "masterPort"), "masterPort");
    if (opts.size < 1 || opts.rank < 0 || opts.rank >= opts.size || port < 1 || port > 65535 || opts.rendezvous_timeout.count() < 1 ||
        opts.timeout.count() < 1 || opts.heartbeat.count() < 1)
      throw ArgumentError("need 0 <= rank < size, a port in [1, 65535] and positive timeouts");
    auto group = std::make_shared<Group>();
    group->rank = opts.rank;
    group->size = opts.size;
    return AsyncCall::start(
        env, "dist.init",
        [group, opts] {
          group->store = rendezvous(opts);
          group->pg = make_process_group(opts, group->store);
          group->heartbeat = std::make_shared<Heartbeat>(connect_store(opts), opts.rank, opts.size, opts.heartbeat);
        },
        [group](napi_env e) { return make_external(e, group, kGroupTag); });
  });
}

napi_value launched(napi_env env, const std::shared_ptr<Group>& g, c10::intrusive_ptr<c10d::Work> w, const std::string& op,
                    std::vector<at::Tensor> outputs = {}) {
  auto work = std::make_shared<Work>(Work{g, std::move(w), std::move(outputs), op});
  return make_external(env, work, kWorkTag);
}

c10d::ReduceOp to_reduce_op(const std::string& op) {
  if (op == "sum") return c10d::ReduceOp::SUM;
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  throw ArgumentError("argument 'op' must be 'sum', 'max' or 'min', got '" + op + "'");
}

// allReduce(group, tensor, op) -> work; the tensor is reduced in place.
napi_value js_all_reduce(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.allReduce", [&]() -> napi_value {
    Args a(env, info, 3);
    auto g = group_arg(env, a[0]);
    std::vector<at::Tensor> tensors{tensor_arg(env, a[1], "tensor")};
    c10d::AllreduceOptions opts;
    opts.reduceOp = to_reduce_op(to_string(env, a[2], "op"));
    return launched(env, g, g->usable_pg("allReduce")->allreduce(tensors, opts), "allReduce");
  });
}

// broadcast(group, tensor, root) -> work; every rank's tensor becomes root's.
napi_value js_broadcast(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.broadcast", [&]() -> napi_value {
    Args a(env, info, 3);
    auto g = group_arg(env, a[0]);
    std::vector<at::Tensor> tensors{tensor_arg(env, a[1], "tensor")};
    c10d::BroadcastOptions opts;
    opts.rootRank = to_int(env, a[2], "root");
    if (opts.rootRank < 0 || opts.rootRank >= g->size)
      throw ArgumentError("argument 'root' must be a rank in [0, " + std::to_string(g->size) + "), got " + std::to_string(opts.rootRank));
    return launched(env, g, g->usable_pg("broadcast")->broadcast(tensors, opts), "broadcast");
  });
}

// allGather(group, tensor, label?) -> work whose wait gives every rank's tensor, in rank order.
// `label` names the collective in failure messages when the all-gather serves another one (the
// check that precedes a collective).
napi_value js_all_gather(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.allGather", [&]() -> napi_value {
    Args a(env, info, 3);
    std::string label = present(env, a[2]) ? to_string(env, a[2], "label") : "allGather";
    auto g = group_arg(env, a[0]);
    std::vector<at::Tensor> inputs{tensor_arg(env, a[1], "tensor")};
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int r = 0; r < g->size; r++) outputs[0].push_back(at::empty_like(inputs[0], at::MemoryFormat::Contiguous));
    auto w = g->usable_pg(label)->allgather(outputs, inputs);
    return launched(env, g, w, label, outputs[0]);
  });
}

napi_value js_barrier(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.barrier", [&]() -> napi_value {
    Args a(env, info, 1);
    auto g = group_arg(env, a[0]);
    return launched(env, g, g->usable_pg("barrier")->barrier(), "barrier");
  });
}

// Blocks (off the JS thread) until `w` completes, the group fails elsewhere, or `timeout` passes.
void wait_for(const Work& w, milliseconds timeout) {
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto signal = std::make_shared<Signal>();
  w.work->getFuture()->addCallback([signal](c10::ivalue::Future&) {
    std::lock_guard<std::mutex> lock(signal->mu);
    signal->done = true;
    signal->cv.notify_all();
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(signal->mu);
  // Wakes every 100 ms so that a failure seen by another wait ends this one too.
  while (!signal->cv.wait_for(lock, milliseconds(100), [&] { return signal->done; })) {
    lock.unlock();
    w.group->check_usable(w.op);
    if (std::chrono::steady_clock::now() >= deadline)
      throw w.group->fail(w.op + " did not complete within " + std::to_string(timeout.count()) + " ms", "timeout");
    lock.lock();
  }
  lock.unlock();
  try {
    w.work->wait();
  } catch (...) {
    // Gloo enforces the group's timeout itself too ("Timed out waiting 1500ms for recv operation").
    std::string why = message_of(std::current_exception());
    throw w.group->fail(w.op + " failed: " + why, why.find("Timed out") != std::string::npos ? "timeout" : "failed");
  }
}

// wait(work, timeoutMs) -> Promise<Handle[] | undefined>
napi_value js_wait(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.wait", [&]() -> napi_value {
    Args a(env, info, 2);
    auto w = external_arg<Work>(env, a[0], kWorkTag, "work");
    int64_t timeout = to_int(env, a[1], "timeoutMs");
    if (timeout < 1) throw ArgumentError("argument 'timeoutMs' must be at least 1, got " + std::to_string(timeout));
    return AsyncCall::start(
        env, "dist.wait", [w, timeout] { wait_for(*w, milliseconds(timeout)); },
        [w](napi_env e) -> napi_value {
          if (w->outputs.empty()) return nullptr;
          std::vector<napi_value> handles;
          for (const auto& t : w->outputs) handles.push_back(wrap_tensor(e, t));
          return make_array(e, handles);
        });
  });
}

// A sum over ranks that autograd differentiates: the gradient of each rank's input is the sum of
// every rank's gradient of the output (PyTorch's torch.distributed.nn.functional.all_reduce).
// SyncBatchNorm needs it: every rank's loss depends on every rank's batch through the shared
// statistics. It blocks the calling thread (forward on JS's, backward on the one running backward),
// which is what a statistic the next op needs has to do anyway. Every rank's backward must reach
// the same of these nodes in the same order (the same model and loss do): a node that one rank's
// loss does not depend on is never run there, and the others would wait for it until the timeout.
// An undefined incoming gradient (autograd's zero) is sent as zeros.
at::Tensor sum_over_ranks(const std::shared_ptr<Group>& g, const at::Tensor& t, milliseconds timeout, const std::string& op) {
  std::vector<at::Tensor> tensors{t};
  c10d::AllreduceOptions opts;
  opts.reduceOp = c10d::ReduceOp::SUM;
  Work w{g, g->usable_pg(op)->allreduce(tensors, opts), {}, op};
  wait_for(w, timeout);
  return tensors[0];
}

struct SumOverRanksBackward : torch::autograd::Node {
  std::shared_ptr<Group> group;
  milliseconds timeout;
  std::vector<int64_t> sizes;
  at::TensorOptions options;

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    at::Tensor g = grads[0].defined() ? grads[0].detach().clone(at::MemoryFormat::Contiguous) : at::zeros(sizes, options);
    return {sum_over_ranks(group, g, timeout, "allReduce (backward of a differentiable all-reduce)")};
  }
  std::string name() const override { return "SumOverRanksBackward"; }
};

// allReduceDifferentiable(group, tensor, timeoutMs) -> handle: a new tensor, the sum over ranks.
napi_value js_all_reduce_differentiable(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.allReduceDifferentiable", [&]() -> napi_value {
    Args a(env, info, 3);
    auto g = group_arg(env, a[0]);
    const at::Tensor& x = tensor_arg(env, a[1], "tensor");
    int64_t timeout = to_int(env, a[2], "timeoutMs");
    if (timeout < 1) throw ArgumentError("argument 'timeoutMs' must be at least 1, got " + std::to_string(timeout));
    at::Tensor out = sum_over_ranks(g, x.detach().clone(at::MemoryFormat::Contiguous), milliseconds(timeout), "allReduce (differentiable)");
    if (torch::autograd::compute_requires_grad(x)) {
      auto node = std::shared_ptr<SumOverRanksBackward>(new SumOverRanksBackward(), torch::autograd::deleteNode);
      node->group = g;
      node->timeout = milliseconds(timeout);
      node->sizes = x.sizes().vec();
      node->options = x.options();
      node->set_next_edges(torch::autograd::collect_next_edges(x));
      torch::autograd::set_history(out, node);
    }
    return wrap_tensor(env, std::move(out));
  });
}

napi_value js_is_completed(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.isCompleted", [&]() -> napi_value {
    Args a(env, info, 1);
    return make_bool(env, external_arg<Work>(env, a[0], kWorkTag, "work")->work->isCompleted());
  });
}

napi_value js_destroy(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.destroy", [&]() -> napi_value {
    Args a(env, info, 1);
    auto g = group_arg(env, a[0]);
    return AsyncCall::start(env, "dist.destroy", [g] { g->teardown(); }, [](napi_env) -> napi_value { return nullptr; });
  });
}

napi_value js_backends(napi_env env, napi_callback_info info) {
  return dist_guard(env, "dist.backends", [&]() -> napi_value {
    std::vector<napi_value> names{make_string(env, "gloo")};
    if (TESSERA_WITH_NCCL) names.push_back(make_string(env, "nccl"));
    return make_array(env, names);
  });
}

}  // namespace
}  // namespace tessera::dist

namespace tessera {

void register_dist_functions(napi_env env, napi_value exports) {
  using namespace dist;
  napi_property_descriptor props[] = {
      {"distInit", nullptr, js_init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distAllReduce", nullptr, js_all_reduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distAllReduceDifferentiable", nullptr, js_all_reduce_differentiable, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distBroadcast", nullptr, js_broadcast, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distAllGather", nullptr, js_all_gather, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distBarrier", nullptr, js_barrier, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distWait", nullptr, js_wait, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distIsCompleted", nullptr, js_is_completed, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distDestroy", nullptr, js_destroy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"distBackends", nullptr, js_backends, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
