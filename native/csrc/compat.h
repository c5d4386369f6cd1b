// Every difference between the LibTorch versions we build against (1.13 on Debian 12, and 2.x)
// lives in this file, so the rest of the addon is written once.
#pragma once

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#define TESSERA_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace tessera::compat {

// Autocast on CPU (bf16): 1.13 has per-backend setters; 2.4 replaced them by device-typed ones.
inline void set_cpu_autocast(bool enabled, at::ScalarType dtype) {
#if TESSERA_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(at::kCPU, enabled);
  at::autocast::set_autocast_dtype(at::kCPU, dtype);
#else
  at::autocast::set_cpu_enabled(enabled);
  at::autocast::set_autocast_cpu_dtype(dtype);
#endif
}

inline bool cpu_autocast_enabled() {
#if TESSERA_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(at::kCPU);
#else
  return at::autocast::is_cpu_enabled();
#endif
}

inline at::ScalarType cpu_autocast_dtype() {
#if TESSERA_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(at::kCPU);
#else
  return at::autocast::get_autocast_cpu_dtype();
#endif
}

}  // namespace tessera::compat
