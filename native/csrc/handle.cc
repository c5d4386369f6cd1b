#include "handle.h"

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "errors.h"

namespace tessera {
namespace {

// What one JS Tensor owns. The storage key and byte count are recorded at creation so that
// release subtracts exactly what creation added, even if an in-place op later resized the tensor.
struct Handle {
  at::Tensor tensor;
  const void* storage;
  int64_t bytes;
};

// Storages referenced by live handles: how many handles share each, and its size in bytes.
struct StorageUse {
  int64_t handles;
  int64_t bytes;
};

std::mutex g_mutex;
std::unordered_map<const void*, StorageUse> g_storages;
MemoryStats g_stats{0, 0, 0, 0};
std::atomic<int64_t> g_pending_external{0};

constexpr int64_t kExternalFlushBytes = 1 << 20;

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
    set_named(env, o, "peakBytes", make_int(env, s.peak_bytes));
    set_named(env, o, "totalCreated", make_int(env, s.total_created));
    return o;
  });
}

napi_value js_reset_peak(napi_env env, napi_callback_info info) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_stats.peak_bytes = g_stats.live_bytes;
  return nullptr;
}

// A new handle sharing the same TensorImpl (PyTorch's `alias`, tch-rs's `shallow_clone`).
napi_value js_shallow_clone(napi_env env, napi_callback_info info) {
  return guard(env, "shallowClone", [&]() -> napi_value {
    Args a(env, info, 1);
    return wrap_tensor(env, at::Tensor(tensor_arg(env, a[0], "self")));
  });
}

}  // namespace

MemoryStats memory_stats() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_stats;
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
  const void* storage = nullptr;
  int64_t bytes = 0;
  if (t.has_storage()) {
    storage = t.storage().unsafeGetStorageImpl();
    bytes = static_cast<int64_t>(t.storage().nbytes());
  }
  auto* h = new Handle{std::move(t), storage, bytes};
  int64_t added = 0;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_stats.live_tensors++;
    g_stats.total_created++;
    if (storage) {
      auto& use = g_storages[storage];
      if (use.handles++ == 0) {
        use.bytes = bytes;
        added = bytes;
        g_stats.live_bytes += bytes;
        if (g_stats.live_bytes > g_stats.peak_bytes) g_stats.peak_bytes = g_stats.live_bytes;
      }
    }
  }
  if (added) account(env, added);
  napi_value v;
  NAPI_OK(napi_create_double(env, static_cast<double>(reinterpret_cast<uintptr_t>(h)), &v));
  return v;
}

at::Tensor& tensor_arg(napi_env env, napi_value v, const char* what) { return handle_of(env, v, what)->tensor; }

void release_handle(napi_env env, int64_t raw) {
  if (raw == 0) return;
  auto* h = reinterpret_cast<Handle*>(static_cast<uintptr_t>(raw));
  int64_t freed = 0;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_stats.live_tensors--;
    if (h->storage) {
      auto it = g_storages.find(h->storage);
      if (it != g_storages.end() && --it->second.handles == 0) {
        freed = it->second.bytes;
        g_stats.live_bytes -= freed;
        g_storages.erase(it);
      }
    }
  }
  delete h;
  if (freed) account(env, -freed);
}

void register_handle_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"release", nullptr, js_release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"memoryStats", nullptr, js_memory_stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resetPeakBytes", nullptr, js_reset_peak, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"shallowClone", nullptr, js_shallow_clone, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
