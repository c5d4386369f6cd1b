// The addon's entry point: registers each group of native functions on the exports object.
#include <node_api.h>

#include "errors.h"
#include "napi_util.h"

namespace tessera {
void register_handle_functions(napi_env env, napi_value exports);
void register_tensor_core_functions(napi_env env, napi_value exports);
void register_autograd_functions(napi_env env, napi_value exports);
void register_runtime_functions(napi_env env, napi_value exports);
void register_serialize_functions(napi_env env, napi_value exports);
void register_autocast_functions(napi_env env, napi_value exports);
void register_mmap_functions(napi_env env, napi_value exports);
void register_dist_functions(napi_env env, napi_value exports);
void register_jpeg_functions(napi_env env, napi_value exports);
void register_generated_ops(napi_env env, napi_value exports);
}  // namespace tessera

static napi_value init(napi_env env, napi_value exports) {
  return tessera::guard(env, "init", [&]() -> napi_value {
    tessera::register_error_functions(env, exports);
    tessera::register_handle_functions(env, exports);
    tessera::register_tensor_core_functions(env, exports);
    tessera::register_autograd_functions(env, exports);
    tessera::register_runtime_functions(env, exports);
    tessera::register_serialize_functions(env, exports);
    tessera::register_autocast_functions(env, exports);
    tessera::register_mmap_functions(env, exports);
    tessera::register_dist_functions(env, exports);
    tessera::register_jpeg_functions(env, exports);
    tessera::register_generated_ops(env, exports);
    return exports;
  });
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
