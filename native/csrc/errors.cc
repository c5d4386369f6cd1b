#include "errors.h"

#include <c10/util/Exception.h>

#include <new>
#include <string>

#include "napi_util.h"

namespace tessera {
namespace {

constexpr int kKinds = static_cast<int>(ErrorKind::Internal) + 1;

const char* kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::Torch: return "torch";
    case ErrorKind::Index: return "index";
    case ErrorKind::Value: return "value";
    case ErrorKind::Type: return "type";
    case ErrorKind::NotImplemented: return "not_implemented";
    case ErrorKind::OutOfMemory: return "out_of_memory";
    case ErrorKind::Argument: return "argument";
    case ErrorKind::Disposed: return "disposed";
    case ErrorKind::Internal: return "internal";
  }
  return "internal";
}

// One constructor reference per kind, per environment (main thread and each worker).
struct ErrorClasses {
  napi_ref ctor[kKinds] = {};
};

ErrorClasses* classes(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok) return nullptr;
  return static_cast<ErrorClasses*>(data);
}

napi_value set_error_class(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2) {
    napi_throw_type_error(env, nullptr, "setErrorClass(kind, ctor) needs two arguments");
    return nullptr;
  }
  char name[32] = {0};
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "setErrorClass: kind must be a string");
    return nullptr;
  }
  ErrorClasses* c = classes(env);
  for (int k = 0; k < kKinds && c; k++) {
    if (std::string(name) == kind_name(static_cast<ErrorKind>(k))) {
      if (c->ctor[k]) napi_delete_reference(env, c->ctor[k]);
      napi_create_reference(env, argv[1], 1, &c->ctor[k]);
      return nullptr;
    }
  }
  napi_throw_type_error(env, nullptr, "setErrorClass: unknown error kind");
  return nullptr;
}

}  // namespace

void throw_js_error(napi_env env, ErrorKind kind, const char* op, const std::string& message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;  // a JS exception already explains the failure; keep it.
  napi_value msg, op_name, kind_value, error = nullptr;
  napi_create_string_utf8(env, message.data(), message.size(), &msg);
  napi_create_string_utf8(env, op, NAPI_AUTO_LENGTH, &op_name);
  napi_create_string_utf8(env, kind_name(kind), NAPI_AUTO_LENGTH, &kind_value);
  ErrorClasses* c = classes(env);
  napi_value ctor = nullptr;
  if (c && c->ctor[static_cast<int>(kind)]) napi_get_reference_value(env, c->ctor[static_cast<int>(kind)], &ctor);
  if (ctor) {
    napi_value argv[3] = {msg, op_name, kind_value};
    if (napi_new_instance(env, ctor, 3, argv, &error) != napi_ok) error = nullptr;
  }
  if (!error) {  // classes not registered yet: a plain Error with the same fields.
    napi_create_error(env, nullptr, msg, &error);
    napi_set_named_property(env, error, "op", op_name);
    napi_set_named_property(env, error, "kind", kind_value);
  }
  napi_throw(env, error);
}

void throw_current_exception(napi_env env, const char* op) {
  try {
    throw;
  } catch (const c10::IndexError& e) {
    throw_js_error(env, ErrorKind::Index, op, e.what_without_backtrace());
  } catch (const c10::ValueError& e) {
    throw_js_error(env, ErrorKind::Value, op, e.what_without_backtrace());
  } catch (const c10::TypeError& e) {
    throw_js_error(env, ErrorKind::Type, op, e.what_without_backtrace());
  } catch (const c10::NotImplementedError& e) {
    throw_js_error(env, ErrorKind::NotImplemented, op, e.what_without_backtrace());
  } catch (const c10::Error& e) {
    throw_js_error(env, ErrorKind::Torch, op, e.what_without_backtrace());
  } catch (const ArgumentError& e) {
    throw_js_error(env, ErrorKind::Argument, op, e.what());
  } catch (const DisposedError& e) {
    throw_js_error(env, ErrorKind::Disposed, op, e.what());
  } catch (const NapiFailure& e) {
    throw_js_error(env, ErrorKind::Internal, op, e.what());
  } catch (const std::bad_alloc&) {
    throw_js_error(env, ErrorKind::OutOfMemory, op, "out of memory");
  } catch (const std::exception& e) {
    throw_js_error(env, ErrorKind::Torch, op, e.what());
  } catch (...) {
    throw_js_error(env, ErrorKind::Internal, op, "unknown C++ exception");
  }
}

void register_error_functions(napi_env env, napi_value exports) {
  auto* data = new ErrorClasses();
  napi_set_instance_data(
      env, data,
      [](napi_env e, void* d, void*) {
        auto* c = static_cast<ErrorClasses*>(d);
        for (auto& r : c->ctor)
          if (r) napi_delete_reference(e, r);
        delete c;
      },
      nullptr);
  napi_value fn;
  NAPI_OK(napi_create_function(env, "setErrorClass", NAPI_AUTO_LENGTH, set_error_class, nullptr, &fn));
  NAPI_OK(napi_set_named_property(env, exports, "setErrorClass", fn));
}

}  // namespace tessera
