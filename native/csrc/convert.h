// JS value -> C++ argument conversions: the closed set of argument kinds that the generated op
// glue uses (codegen/cpp.ts maps every schema type to exactly one of these). Each conversion
// names the argument in its error, so a bad call says which argument was wrong and why.
// `undefined` (or null) means "use the schema default"; the generated code supplies the default.
#pragma once

#include <ATen/ATen.h>
#include <node_api.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "compat.h"
#include "handle.h"
#include "napi_util.h"

namespace tessera {

inline bool present(napi_env env, napi_value v) { return !is_nullish(env, v); }

[[noreturn]] inline void bad_arg(const char* what, const char* expected) {
  throw ArgumentError(std::string("argument '") + what + "' must be " + expected);
}

// Whether a double holds an integer that int64 represents exactly (checked before any cast:
// casting NaN or an out-of-range double to int64 is undefined behaviour).
inline bool is_int64(double d) {
  return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == std::trunc(d);
}

inline int64_t to_int(napi_env env, napi_value v, const char* what) {
  napi_valuetype t = type_of(env, v);
  if (t == napi_bigint) {
    int64_t i;
    bool lossless;
    NAPI_OK(napi_get_value_bigint_int64(env, v, &i, &lossless));
    if (!lossless) bad_arg(what, "an integer that fits in 64 bits");
    return i;
  }
  if (t != napi_number) bad_arg(what, "an integer");
  double d;
  NAPI_OK(napi_get_value_double(env, v, &d));
  if (!is_int64(d)) bad_arg(what, "an integer");
  return static_cast<int64_t>(d);
}

inline double to_double(napi_env env, napi_value v, const char* what) {
  if (type_of(env, v) != napi_number) bad_arg(what, "a number");
  double d;
  NAPI_OK(napi_get_value_double(env, v, &d));
  return d;
}

inline bool to_bool(napi_env env, napi_value v, const char* what) {
  if (type_of(env, v) != napi_boolean) bad_arg(what, "a boolean");
  bool b;
  NAPI_OK(napi_get_value_bool(env, v, &b));
  return b;
}

inline std::string to_string(napi_env env, napi_value v, const char* what) {
  if (type_of(env, v) != napi_string) bad_arg(what, "a string");
  size_t len;
  NAPI_OK(napi_get_value_string_utf8(env, v, nullptr, 0, &len));
  std::string s(len, '\0');
  NAPI_OK(napi_get_value_string_utf8(env, v, s.data(), len + 1, &len));
  return s;
}

// JS numbers are integers or doubles by value: an integral number becomes an integer Scalar (so
// integer tensors stay integer), anything else a double; booleans and bigints map as expected.
inline at::Scalar to_scalar(napi_env env, napi_value v, const char* what) {
  switch (type_of(env, v)) {
    case napi_boolean: return at::Scalar(to_bool(env, v, what));
    case napi_bigint: return at::Scalar(to_int(env, v, what));
    case napi_number: {
      double d;
      NAPI_OK(napi_get_value_double(env, v, &d));
      // -0 stays a double: as an integer it would lose its sign (1 / -0 is -inf).
      if (is_int64(d) && !(d == 0 && std::signbit(d))) return at::Scalar(static_cast<int64_t>(d));
      return at::Scalar(d);
    }
    default: bad_arg(what, "a number, boolean or bigint");
  }
}

inline uint32_t array_length(napi_env env, napi_value v, const char* what, const char* expected) {
  bool is_array;
  NAPI_OK(napi_is_array(env, v, &is_array));
  if (!is_array) bad_arg(what, expected);
  uint32_t n;
  NAPI_OK(napi_get_array_length(env, v, &n));
  return n;
}

inline napi_value element(napi_env env, napi_value arr, uint32_t i) {
  napi_value e;
  NAPI_OK(napi_get_element(env, arr, i, &e));
  return e;
}

// int[] / int[N]: an array of integers, or (for fixed N) one integer repeated N times,
// as PyTorch accepts `stride=2` for `int[2] stride`.
inline std::vector<int64_t> to_int_list(napi_env env, napi_value v, const char* what, size_t fixed = 0) {
  if (fixed > 0 && type_of(env, v) == napi_number) return std::vector<int64_t>(fixed, to_int(env, v, what));
  uint32_t n = array_length(env, v, what, "an array of integers");
  std::vector<int64_t> out(n);
  for (uint32_t i = 0; i < n; i++) out[i] = to_int(env, element(env, v, i), what);
  return out;
}

inline std::vector<double> to_double_list(napi_env env, napi_value v, const char* what) {
  uint32_t n = array_length(env, v, what, "an array of numbers");
  std::vector<double> out(n);
  for (uint32_t i = 0; i < n; i++) out[i] = to_double(env, element(env, v, i), what);
  return out;
}

template <size_t N>
inline std::array<bool, N> to_bool_array(napi_env env, napi_value v, const char* what) {
  std::array<bool, N> out{};
  if (type_of(env, v) == napi_boolean) {
    out.fill(to_bool(env, v, what));
    return out;
  }
  uint32_t n = array_length(env, v, what, "an array of booleans");
  if (n != N) bad_arg(what, ("an array of " + std::to_string(N) + " booleans").c_str());
  for (uint32_t i = 0; i < N; i++) out[i] = to_bool(env, element(env, v, i), what);
  return out;
}

inline std::vector<at::Scalar> to_scalar_list(napi_env env, napi_value v, const char* what) {
  uint32_t n = array_length(env, v, what, "an array of numbers");
  std::vector<at::Scalar> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; i++) out.push_back(to_scalar(env, element(env, v, i), what));
  return out;
}

inline std::vector<at::Tensor> to_tensor_list(napi_env env, napi_value v, const char* what) {
  uint32_t n = array_length(env, v, what, "an array of Tensors");
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; i++) out.push_back(tensor_arg(env, element(env, v, i), what));
  return out;
}

// Tensor?[]: used by advanced indexing, where a hole (null) means "take this dim whole".
inline c10::List<c10::optional<at::Tensor>> to_optional_tensor_list(napi_env env, napi_value v, const char* what) {
  uint32_t n = array_length(env, v, what, "an array of Tensors or nulls");
  c10::List<c10::optional<at::Tensor>> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e = element(env, v, i);
    if (present(env, e)) out.push_back(tensor_arg(env, e, what));
    else out.push_back(c10::nullopt);
  }
  return out;
}

inline c10::optional<at::Tensor> to_optional_tensor(napi_env env, napi_value v, const char* what) {
  if (!present(env, v)) return c10::nullopt;
  return tensor_arg(env, v, what);
}

// The enums below cross as the integers of the generated tables in native/generated/enums.h,
// which static_asserts that they equal LibTorch's own values.
inline at::ScalarType to_scalar_type(napi_env env, napi_value v, const char* what) {
  int64_t i = to_int(env, v, what);
  if (i < 0 || i >= static_cast<int64_t>(at::ScalarType::NumOptions)) bad_arg(what, "a dtype");
  return static_cast<at::ScalarType>(i);
}

inline at::MemoryFormat to_memory_format(napi_env env, napi_value v, const char* what) {
  int64_t i = to_int(env, v, what);
  if (i < 0 || i >= static_cast<int64_t>(at::MemoryFormat::NumOptions)) bad_arg(what, "a memory format");
  return static_cast<at::MemoryFormat>(i);
}

inline at::Layout to_layout(napi_env env, napi_value v, const char* what) {
  int64_t i = to_int(env, v, what);
  if (i != static_cast<int64_t>(at::kStrided)) bad_arg(what, "the strided layout (the only one supported)");
  return at::kStrided;
}

// Devices cross as strings in PyTorch's own spelling: "cpu", "cuda", "cuda:1".
inline at::Device to_device(napi_env env, napi_value v, const char* what) {
  std::string s = to_string(env, v, what);
  try {
    return at::Device(s);
  } catch (const c10::Error&) {
    throw ArgumentError(std::string("argument '") + what + "': '" + s + "' is not a device (use 'cpu' or 'cuda:N')");
  }
}

}  // namespace tessera
