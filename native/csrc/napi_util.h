// Small helpers over the raw N-API C interface. Every N-API status is checked: a failing call
// becomes a C++ NapiFailure, which the per-entry-point guard (errors.h) turns into a JS error.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tessera {

// Thrown when an N-API call itself fails (almost always a pending JS exception or a bug).
struct NapiFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown by argument conversion when a JS value has the wrong kind; names the argument.
struct ArgumentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown when a disposed tensor (handle 0) is passed to a native call.
struct DisposedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

#define NAPI_OK(call)                                                                        \
  do {                                                                                       \
    napi_status status_ = (call);                                                            \
    if (status_ != napi_ok)                                                                  \
      throw ::tessera::NapiFailure(std::string("N-API call failed: " #call " at ") + __FILE__ \
                                   + ":" + std::to_string(__LINE__));                        \
  } while (0)

// Arguments of one native call: argv padded with `undefined` up to the declared count.
// A fixed stack array keeps the per-call cost to the N-API call itself (no heap allocation).
struct Args {
  static constexpr size_t kMax = 24;
  napi_env env;
  size_t argc = kMax;
  napi_value argv[kMax];

  Args(napi_env e, napi_callback_info info, size_t expected) : env(e) {
    if (expected > kMax) throw NapiFailure("native entry point declares too many arguments");
    argc = expected;
    NAPI_OK(napi_get_cb_info(e, info, &argc, argv, nullptr, nullptr));
    if (argc < expected) {
      napi_value undef;
      NAPI_OK(napi_get_undefined(e, &undef));
      for (size_t i = argc; i < expected; i++) argv[i] = undef;
    }
  }
  napi_value operator[](size_t i) const { return argv[i]; }
};

inline napi_valuetype type_of(napi_env env, napi_value v) {
  napi_valuetype t;
  NAPI_OK(napi_typeof(env, v, &t));
  return t;
}

inline bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t = type_of(env, v);
  return t == napi_undefined || t == napi_null;
}

inline napi_value undefined(napi_env env) {
  napi_value v;
  NAPI_OK(napi_get_undefined(env, &v));
  return v;
}

inline napi_value make_number(napi_env env, double d) {
  napi_value v;
  NAPI_OK(napi_create_double(env, d, &v));
  return v;
}

inline napi_value make_int(napi_env env, int64_t i) {
  napi_value v;
  NAPI_OK(napi_create_int64(env, i, &v));
  return v;
}

inline napi_value make_bool(napi_env env, bool b) {
  napi_value v;
  NAPI_OK(napi_get_boolean(env, b, &v));
  return v;
}

inline napi_value make_string(napi_env env, const std::string& s) {
  napi_value v;
  NAPI_OK(napi_create_string_utf8(env, s.data(), s.size(), &v));
  return v;
}

inline napi_value make_array(napi_env env, const std::vector<napi_value>& items) {
  napi_value arr;
  NAPI_OK(napi_create_array_with_length(env, items.size(), &arr));
  for (size_t i = 0; i < items.size(); i++) NAPI_OK(napi_set_element(env, arr, i, items[i]));
  return arr;
}

inline void set_named(napi_env env, napi_value obj, const char* key, napi_value v) {
  NAPI_OK(napi_set_named_property(env, obj, key, v));
}

inline napi_value make_object(napi_env env) {
  napi_value o;
  NAPI_OK(napi_create_object(env, &o));
  return o;
}

}  // namespace tessera
