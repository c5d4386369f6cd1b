// The one guard every native entry point runs its body in. No C++ exception may cross into V8:
// LibTorch's c10 errors, argument errors, N-API failures and anything else are caught here and
// rethrown as instances of the JS error classes that src/tensor/errors.ts registers at load time,
// carrying the op name, the error kind and LibTorch's message (without its C++ backtrace).
#pragma once

#include <node_api.h>

#include <exception>
#include <string>

namespace tessera {

// Kinds shared with src/tensor/errors.ts (the `kind` field of a TorchError).
enum class ErrorKind { Torch, Index, Value, Type, NotImplemented, OutOfMemory, Argument, Disposed, Internal };

// Throws a JS error of the registered class for `kind`. Never throws itself.
void throw_js_error(napi_env env, ErrorKind kind, const char* op, const std::string& message);

// Maps the exception in flight to an ErrorKind and message; call only inside a catch block.
void throw_current_exception(napi_env env, const char* op);

// Registers `setErrorClass(kind, ctor)` on the exports object.
void register_error_functions(napi_env env, napi_value exports);

template <typename F>
inline napi_value guard(napi_env env, const char* op, F&& body) noexcept {
  try {
    return body();
  } catch (...) {
    throw_current_exception(env, op);
    return nullptr;
  }
}

}  // namespace tessera
