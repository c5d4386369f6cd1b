// Autocast (mixed precision) state. Like grad mode it is thread-local in LibTorch; the TS side
// (src/tensor/autocast.ts) sets and restores it around synchronous bodies, and clears the cast
// cache when the outermost autocast region exits, as torch.autocast's __exit__ does.
#include "compat.h"
#include "convert.h"
#include "errors.h"

namespace tessera {
namespace {

at::DeviceType device_type_arg(napi_env env, napi_value v) {
  std::string s = to_string(env, v, "deviceType");
  if (s == "cpu") return at::kCPU;
  if (s == "cuda") return at::kCUDA;
  throw ArgumentError("argument 'deviceType' must be 'cpu' or 'cuda', got '" + s + "'");
}

// getAutocast(deviceType) -> [enabled, dtypeCode]
napi_value js_get_autocast(napi_env env, napi_callback_info info) {
  return guard(env, "getAutocast", [&]() -> napi_value {
    Args a(env, info, 1);
    at::DeviceType d = device_type_arg(env, a[0]);
    return make_array(env, {make_bool(env, compat::autocast_enabled(d)), make_int(env, static_cast<int64_t>(compat::autocast_dtype(d)))});
  });
}

// setAutocast(deviceType, enabled, dtypeCode)
napi_value js_set_autocast(napi_env env, napi_callback_info info) {
  return guard(env, "setAutocast", [&]() -> napi_value {
    Args a(env, info, 3);
    at::DeviceType d = device_type_arg(env, a[0]);
    compat::set_autocast(d, to_bool(env, a[1], "enabled"), to_scalar_type(env, a[2], "dtype"));
    return nullptr;
  });
}

// enterAutocast() -> nesting depth after entering
napi_value js_enter_autocast(napi_env env, napi_callback_info info) {
  return guard(env, "enterAutocast", [&]() -> napi_value { return make_int(env, at::autocast::increment_nesting()); });
}

// exitAutocast(): leaves one level; the outermost exit clears the cache of casted weights.
napi_value js_exit_autocast(napi_env env, napi_callback_info info) {
  return guard(env, "exitAutocast", [&]() -> napi_value {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    return nullptr;
  });
}

}  // namespace

void register_autocast_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"getAutocast", nullptr, js_get_autocast, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setAutocast", nullptr, js_set_autocast, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"enterAutocast", nullptr, js_enter_autocast, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"exitAutocast", nullptr, js_exit_autocast, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
