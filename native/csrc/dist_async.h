// Promise-returning native calls for the blocking parts of c10d: rendezvous, waiting on a
// collective, tearing a group down. The blocking part runs on libuv's thread pool, so the event
// loop keeps turning (a server, a progress bar, signal handlers); the JS thread then settles the
// promise. Failures are rejected with the same typed errors as every other entry point.
#pragma once

#include <c10/util/Exception.h>
#include <node_api.h>

#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "errors.h"
#include "napi_util.h"

namespace tessera::dist {

// A failure of the distributed runtime that JS should be able to act on: why it failed and, when
// the heartbeats could tell, which ranks are gone. Becomes an Error with `reason` and `lostRanks`.
struct DistFailure : std::runtime_error {
  DistFailure(const std::string& message, std::string why, std::vector<int> lost = {})
      : std::runtime_error(message), reason(std::move(why)), lost_ranks(std::move(lost)) {}
  std::string reason;  // 'timeout' | 'peer-lost' | 'failed' | 'rendezvous'
  std::vector<int> lost_ranks;
};

// The message of a captured exception, without LibTorch's C++ backtrace.
inline std::string message_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const c10::Error& x) {
    return x.what_without_backtrace();
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown C++ exception";
  }
}

// The typed TorchError for `op` with the failure's `reason` and `lostRanks` attached; never throws.
inline napi_value failure_error(napi_env env, const char* op, const DistFailure& f) {
  napi_value error = nullptr;
  throw_js_error(env, ErrorKind::Torch, op, f.what());
  napi_get_and_clear_last_exception(env, &error);
  napi_value reason, lost;
  napi_create_string_utf8(env, f.reason.data(), f.reason.size(), &reason);
  napi_create_array_with_length(env, f.lost_ranks.size(), &lost);
  for (size_t i = 0; i < f.lost_ranks.size(); i++) {
    napi_value r;
    napi_create_int32(env, f.lost_ranks[i], &r);
    napi_set_element(env, lost, i, r);
  }
  napi_set_named_property(env, error, "reason", reason);
  napi_set_named_property(env, error, "lostRanks", lost);
  return error;
}

// errors.h's guard, keeping a DistFailure's fields.
template <typename F>
inline napi_value dist_guard(napi_env env, const char* op, F&& body) noexcept {
  try {
    return body();
  } catch (const DistFailure& f) {
    napi_throw(env, failure_error(env, op, f));
    return nullptr;
  } catch (...) {
    throw_current_exception(env, op);
    return nullptr;
  }
}

class AsyncCall {
 public:
  using Execute = std::function<void()>;
  using Complete = std::function<napi_value(napi_env)>;

  // Starts `execute` on the thread pool (it must not call N-API) and returns a promise that
  // resolves with `complete`'s value (called on the JS thread), or rejects with what either threw.
  static napi_value start(napi_env env, const char* op, Execute execute, Complete complete) {
    auto* call = new AsyncCall(op, std::move(execute), std::move(complete));
    napi_value promise, name;
    NAPI_OK(napi_create_promise(env, &call->deferred_, &promise));
    NAPI_OK(napi_create_string_utf8(env, op, NAPI_AUTO_LENGTH, &name));
    NAPI_OK(napi_create_async_work(env, nullptr, name, run, finish, call, &call->work_));
    NAPI_OK(napi_queue_async_work(env, call->work_));
    return promise;
  }

 private:
  AsyncCall(const char* op, Execute e, Complete c) : op_(op), execute_(std::move(e)), complete_(std::move(c)) {}

  static void run(napi_env, void* data) {
    auto* call = static_cast<AsyncCall*>(data);
    try {
      call->execute_();
    } catch (...) {
      call->error_ = std::current_exception();
    }
  }

  static void finish(napi_env env, napi_status status, void* data) {
    auto* call = static_cast<AsyncCall*>(data);
    napi_value value = nullptr;
    bool ok = false;
    try {
      if (status == napi_cancelled) throw std::runtime_error("cancelled");
      if (call->error_) std::rethrow_exception(call->error_);
      value = call->complete_(env);
      ok = true;
    } catch (const DistFailure& f) {
      value = failure_error(env, call->op_.c_str(), f);
    } catch (...) {
      throw_current_exception(env, call->op_.c_str());
      napi_get_and_clear_last_exception(env, &value);
    }
    if (ok) {
      if (!value) napi_get_undefined(env, &value);
      napi_resolve_deferred(env, call->deferred_, value);
    } else napi_reject_deferred(env, call->deferred_, value);
    napi_delete_async_work(env, call->work_);
    delete call;
  }

  std::string op_;
  Execute execute_;
  Complete complete_;
  std::exception_ptr error_;
  napi_deferred deferred_ = nullptr;
  napi_async_work work_ = nullptr;
};

}  // namespace tessera::dist
