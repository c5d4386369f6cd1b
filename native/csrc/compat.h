// Every difference between the LibTorch versions we build against (1.13 on Debian 12, and 2.x)
// lives in this file, so the rest of the addon is written once. The generated op glue needs no
// entry here: it is regenerated from the installed torch's own schema, and the generator maps
// 2.x's SymInt types to the plain-int C++ API that both versions keep.
#pragma once

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#define TESSERA_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace c10d {
class Backend;
class ProcessGroup;
}  // namespace c10d

namespace tessera::compat {

// c10d: 2.0 moved the collectives into Backend, which ProcessGroupGloo and ProcessGroupNCCL now
// derive from; in 1.13 they derive from ProcessGroup, which had them.
#if TESSERA_TORCH_AT_LEAST(2, 0)
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

// Autocast: 1.13 has per-backend setters (set_cpu_enabled, set_autocast_cpu_dtype, and the
// unprefixed ones for CUDA); 2.4 replaced them by device-typed ones.
inline void set_autocast(at::DeviceType device, bool enabled, at::ScalarType dtype) {
#if TESSERA_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == at::kCPU) {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  } else {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif
}

inline bool autocast_enabled(at::DeviceType device) {
#if TESSERA_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

inline at::ScalarType autocast_dtype(at::DeviceType device) {
#if TESSERA_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

}  // namespace tessera::compat
