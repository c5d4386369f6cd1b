#include "handle.h"

#include <atomic>
#include <unordered_set>

#include "errors.h"

namespace tessera {
namespace {

// What one JS Tensor owns: one tensor reference, linked into the list of live handles so that
// memoryStats() can walk them. Linking is O(1) with no allocation beyond the Handle itself; the
// per-op path takes a spinlock for a few instructions (handles are created on the JS thread, but
// worker threads may load the addon too).
struct Handle {
  at::Tensor tensor;
  int64_t bytes;   // the storage's size when the handle was made
  bool reported;   // whether `bytes` was reported to V8 (trackExternal), to subtract at release
  Handle* prev;
  Handle* next;
};

class SpinLock {
 public:
  void lock() {
    while (flag_.test_and_set(std::memory_order_acquire)) {
    }
  }
  void unlock() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

SpinLock g_lock;
Handle g_head{at::Tensor(), 0, false, &g_head, &g_head};  // sentinel of the circular list
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_created{0};
std::atomic<int64_t> g_pending_external{0};

constexpr int64_t kExternalFlushBytes = 1 << 20;

// External memory tells V8's GC how much native memory JS objects hold, so allocation-heavy code
// that forgets to dispose still triggers collections. Only tensors that wait for the GC report
// (the JS side calls trackExternal for those outside every scope): reporting every tensor made a
// training step's activations trigger one full mark-compact per step, for memory the step's
// scope frees anyway. A view reports its storage again: a pressure hint, not an inventory
// (memoryStats() dedupes).
void account(napi_env env, int64_t delta) {
  int64_t pending = g_pending_external.fetch_add(delta) + delta;
  if (pending >= kExternalFlushBytes || pending <= -kExternalFlushBytes) flush_external_memory(env);
}

Handle* handle_of(napi_env env, napi_value v, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok)
    throw ArgumentError(std::string("argument '") + what + "' must be a Tensor");
  if (d == 0) throw DisposedError(std::string("argument '") + what + "' is a disposed tensor");
  return reinterpret_cast<Handle*>(static_cast<uintptr_t>(d));
}

napi_value js_release(napi_env env, napi_callback_info info) {
  return guard(env, "dispose", [&]() -> napi_value {
    Args a(env, info, 1);
    double d;
    NAPI_OK(napi_get_value_double(env, a[0], &d));
    release_handle(env, static_cast<int64_t>(d));
    return nullptr;
  });
}

napi_value js_memory_stats(napi_env env, napi_callback_info info) {
  return guard(env, "memoryStats", [&]() -> napi_value {
    MemoryStats s = memory_stats();
    napi_value o = make_object(env);
    set_named(env, o, "liveTensors", make_int(env, s.live_tensors));
    set_named(env, o, "liveBytes", make_int(env, s.live_bytes));
    set_named(env, o, "totalCreated", make_int(env, s.total_created));
    return o;
  });
}

// trackExternal(handle): this tensor's memory is freed only when the GC collects its wrapper.
napi_value js_track_external(napi_env env, napi_callback_info info) {
  return guard(env, "trackExternal", [&]() -> napi_value {
    Args a(env, info, 1);
    Handle* h = handle_of(env, a[0], "self");
    if (!h->reported && h->bytes) {
      h->reported = true;
      account(env, h->bytes);
    }
    return nullptr;
  });
}

// A new handle sharing the same TensorImpl (PyTorch's `alias`, tch-rs's `shallow_clone`).
napi_value js_shallow_clone(napi_env env, napi_callback_info info) {
  return guard(env, "shallowClone", [&]() -> napi_value {
    Args a(env, info, 1);
    return wrap_tensor(env, at::Tensor(tensor_arg(env, a[0], "self")));
  });
}

}  // namespace

// Walks the live handles; bytes are those of the distinct storages they reference.
MemoryStats memory_stats() {
  std::unordered_set<const void*> storages;
  int64_t bytes = 0;
  g_lock.lock();
  for (Handle* h = g_head.next; h != &g_head; h = h->next) {
    if (!h->tensor.has_storage()) continue;
    const void* s = h->tensor.storage().unsafeGetStorageImpl();
    if (storages.insert(s).second) bytes += static_cast<int64_t>(h->tensor.storage().nbytes());
  }
  g_lock.unlock();
  return MemoryStats{g_live.load(), bytes, g_created.load()};
}

void flush_external_memory(napi_env env) {
  int64_t pending = g_pending_external.exchange(0);
  if (pending == 0) return;
  int64_t adjusted;
  napi_adjust_external_memory(env, pending, &adjusted);
}

napi_value wrap_tensor(napi_env env, at::Tensor&& t) {
  if (!t.defined()) {
    napi_value null_value;
    NAPI_OK(napi_get_null(env, &null_value));
    return null_value;
  }
  int64_t bytes = t.has_storage() ? static_cast<int64_t>(t.storage().nbytes()) : 0;
  auto* h = new Handle{std::move(t), bytes, false, nullptr, nullptr};
  g_lock.lock();
  h->prev = g_head.prev;
  h->next = &g_head;
  g_head.prev->next = h;
  g_head.prev = h;
  g_lock.unlock();
  g_live.fetch_add(1, std::memory_order_relaxed);
  g_created.fetch_add(1, std::memory_order_relaxed);
  napi_value v;
  NAPI_OK(napi_create_double(env, static_cast<double>(reinterpret_cast<uintptr_t>(h)), &v));
  return v;
}

at::Tensor& tensor_arg(napi_env env, napi_value v, const char* what) { return handle_of(env, v, what)->tensor; }

void release_handle(napi_env env, int64_t raw) {
  if (raw == 0) return;
  auto* h = reinterpret_cast<Handle*>(static_cast<uintptr_t>(raw));
  g_lock.lock();
  h->prev->next = h->next;
  h->next->prev = h->prev;
  g_lock.unlock();
  g_live.fetch_sub(1, std::memory_order_relaxed);
  int64_t bytes = h->reported ? h->bytes : 0;
  delete h;
  if (bytes) account(env, -bytes);
}

void register_handle_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"release", nullptr, js_release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"memoryStats", nullptr, js_memory_stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"shallowClone", nullptr, js_shallow_clone, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trackExternal", nullptr, js_track_external, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
