// Every difference between the LibTorch versions we build against (1.13 on Debian 12, and 2.x)
// lives in this file, so the rest of the addon is written once. The generated op glue needs no
// entry here: it is regenerated from the installed torch's own schema, and the generator maps
// 2.x's SymInt types to the plain-int C++ API that both versions keep. What is known to differ
// for the features on our roadmap (kept here so the next feature lands in the right place):
//   - autocast: 1.13 has at::autocast::set_cpu_enabled / set_autocast_cpu_dtype; 2.4 replaced
//     them by the device-typed set_autocast_enabled(at::kCPU, …) / set_autocast_dtype(at::kCPU, …).
#pragma once

#include <torch/version.h>

#define TESSERA_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))
