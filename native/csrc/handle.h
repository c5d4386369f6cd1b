// Tensor handles: the one place where a LibTorch tensor reference is owned on behalf of JS.
//
// A handle is a heap-allocated `at::Tensor` (one reference on its TensorImpl) whose address
// crosses into JS as a plain number. A JS `Tensor` owns exactly one handle and frees it in
// `dispose()`; handle 0 means "disposed" and is refused by every entry point. Numbers are used
// rather than napi_wrap'd objects because wrapping costs a V8 weak reference per op result
// (measured ~190 ns), which would dominate small ops; the JS side keeps its own safety net.
#pragma once

#include <ATen/ATen.h>
#include <node_api.h>

#include <cstdint>

#include "napi_util.h"

namespace tessera {

// Bookkeeping exposed to tests and `tessera info`: live handles and the bytes of the distinct
// storages they reference (a view and its base count once), computed on demand.
struct MemoryStats {
  int64_t live_tensors;
  int64_t live_bytes;
  int64_t total_created;
};

MemoryStats memory_stats();

// Takes ownership of `t` and returns its handle as a JS number.
napi_value wrap_tensor(napi_env env, at::Tensor&& t);
inline napi_value wrap_tensor(napi_env env, const at::Tensor& t) { return wrap_tensor(env, at::Tensor(t)); }

// The tensor behind a handle argument; throws DisposedError/ArgumentError naming `what`.
at::Tensor& tensor_arg(napi_env env, napi_value v, const char* what);

// Frees a handle (no-op for 0).
void release_handle(napi_env env, int64_t h);

// Registers the entry points of this file on the addon's exports object.
void register_handle_functions(napi_env env, napi_value exports);

// Tells V8 about external memory growth in coarse steps, so allocation-heavy loops feel GC pressure.
void flush_external_memory(napi_env env);

}  // namespace tessera
