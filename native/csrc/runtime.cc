// Process-wide LibTorch state: version and build information, threads, devices, random generators.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "convert.h"
#include "errors.h"
#include "handle.h"

namespace tessera {
namespace {

napi_value js_build_info(napi_env env, napi_callback_info info) {
  return guard(env, "buildInfo", [&]() -> napi_value {
    napi_value o = make_object(env);
    set_named(env, o, "version", make_string(env, TORCH_VERSION));
    set_named(env, o, "config", make_string(env, at::show_config()));
    set_named(env, o, "parallelInfo", make_string(env, at::get_parallel_info()));
    set_named(env, o, "hasCuda", make_bool(env, at::hasCUDA()));
    set_named(env, o, "cudaDeviceCount", make_int(env, at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0));
    set_named(env, o, "hasMkldnn", make_bool(env, at::hasMKLDNN()));
    set_named(env, o, "hasOpenMP", make_bool(env, at::hasOpenMP()));
    set_named(env, o, "hasLapack", make_bool(env, at::hasLAPACK()));
    set_named(env, o, "hasMkl", make_bool(env, at::hasMKL()));
    set_named(env, o, "cxx11Abi", make_bool(env, _GLIBCXX_USE_CXX11_ABI == 1));
    return o;
  });
}

// Whether tune_allocator() changed glibc's malloc settings in this process.
bool g_allocator_tuned = false;

napi_value js_allocator_info(napi_env env, napi_callback_info info) {
  return guard(env, "allocatorInfo", [&]() -> napi_value {
    napi_value o = make_object(env);
    set_named(env, o, "tuned", make_bool(env, g_allocator_tuned));
    return o;
  });
}

napi_value js_get_num_threads(napi_env env, napi_callback_info info) {
  return guard(env, "getNumThreads", [&]() -> napi_value { return make_int(env, at::get_num_threads()); });
}

napi_value js_set_num_threads(napi_env env, napi_callback_info info) {
  return guard(env, "setNumThreads", [&]() -> napi_value {
    Args a(env, info, 1);
    int64_t n = to_int(env, a[0], "threads");
    if (n < 1) throw ArgumentError("argument 'threads' must be at least 1, got " + std::to_string(n));
    at::set_num_threads(static_cast<int>(n));
    return nullptr;
  });
}

napi_value js_get_num_interop_threads(napi_env env, napi_callback_info info) {
  return guard(env, "getNumInteropThreads", [&]() -> napi_value { return make_int(env, at::get_num_interop_threads()); });
}

napi_value js_manual_seed(napi_env env, napi_callback_info info) {
  return guard(env, "manualSeed", [&]() -> napi_value {
    Args a(env, info, 1);
    int64_t seed = to_int(env, a[0], "seed");
    at::manual_seed(static_cast<uint64_t>(seed));
    return nullptr;
  });
}

// The generator of `device` ("cpu" or "cuda:N").
at::Generator generator_for(napi_env env, napi_value v) {
  if (!present(env, v)) return at::detail::getDefaultCPUGenerator();
  at::Device d = to_device(env, v, "device");
  if (d.is_cpu()) return at::detail::getDefaultCPUGenerator();
  return at::globalContext().defaultGenerator(d);
}

// getRngState(device?) -> uint8 Tensor holding the generator's full state (for exact resume).
napi_value js_get_rng_state(napi_env env, napi_callback_info info) {
  return guard(env, "getRngState", [&]() -> napi_value {
    Args a(env, info, 1);
    at::Generator gen = generator_for(env, a[0]);
    std::lock_guard<std::mutex> lock(gen.mutex());
    return wrap_tensor(env, gen.get_state());
  });
}

napi_value js_set_rng_state(napi_env env, napi_callback_info info) {
  return guard(env, "setRngState", [&]() -> napi_value {
    Args a(env, info, 2);
    const at::Tensor& state = tensor_arg(env, a[0], "state");
    at::Generator gen = generator_for(env, a[1]);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
    return nullptr;
  });
}

napi_value js_initial_seed(napi_env env, napi_callback_info info) {
  return guard(env, "initialSeed", [&]() -> napi_value {
    Args a(env, info, 1);
    at::Generator gen = generator_for(env, a[0]);
    return make_number(env, static_cast<double>(gen.current_seed()));
  });
}

}  // namespace

// LibTorch's CPU allocator is plain malloc. With glibc's defaults, buffers above the dynamic mmap
// threshold (activations of a conv layer are megabytes) are mmap'd and unmapped on every step and
// come back zero-filled: thousands of page faults per training step. Keeping freed memory in the
// heap (fixed mmap threshold at glibc's 32 MiB maximum, no trimming) made the CNN benchmark ~30%
// faster (BENCHMARKS.md). The cost: memory freed after a peak stays with the process, as with
// PyTorch's caching allocators. TESSERA_MALLOC_TUNING=0 keeps glibc's defaults.
void tune_allocator() {
  const char* env = std::getenv("TESSERA_MALLOC_TUNING");
  if (env && std::strcmp(env, "0") == 0) return;
  bool ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1;
  ok = mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1 && ok;
  g_allocator_tuned = ok;
}

void register_runtime_functions(napi_env env, napi_value exports) {
  tune_allocator();
  napi_property_descriptor props[] = {
      {"buildInfo", nullptr, js_build_info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"allocatorInfo", nullptr, js_allocator_info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getNumThreads", nullptr, js_get_num_threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setNumThreads", nullptr, js_set_num_threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getNumInteropThreads", nullptr, js_get_num_interop_threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"manualSeed", nullptr, js_manual_seed, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getRngState", nullptr, js_get_rng_state, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setRngState", nullptr, js_set_rng_state, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"initialSeed", nullptr, js_initial_seed, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
