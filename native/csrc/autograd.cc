// Autograd entry points: gradient mode, .grad, backward and autograd.grad (with create_graph for
// double backward). Thin wrappers over torch::autograd; policy (defaults, checks) is in src/tensor/autograd.ts.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>

#include "convert.h"
#include "errors.h"
#include "handle.h"

namespace tessera {
namespace {

napi_value js_is_grad_enabled(napi_env env, napi_callback_info info) {
  return guard(env, "isGradEnabled", [&]() -> napi_value { return make_bool(env, at::GradMode::is_enabled()); });
}

napi_value js_set_grad_enabled(napi_env env, napi_callback_info info) {
  return guard(env, "setGradEnabled", [&]() -> napi_value {
    Args a(env, info, 1);
    at::GradMode::set_enabled(to_bool(env, a[0], "enabled"));
    return nullptr;
  });
}

napi_value js_requires_grad(napi_env env, napi_callback_info info) {
  return guard(env, "requiresGrad", [&]() -> napi_value {
    Args a(env, info, 1);
    return make_bool(env, tensor_arg(env, a[0], "self").requires_grad());
  });
}

napi_value js_is_leaf(napi_env env, napi_callback_info info) {
  return guard(env, "isLeaf", [&]() -> napi_value {
    Args a(env, info, 1);
    return make_bool(env, tensor_arg(env, a[0], "self").is_leaf());
  });
}

napi_value js_grad_fn_name(napi_env env, napi_callback_info info) {
  return guard(env, "gradFn", [&]() -> napi_value {
    Args a(env, info, 1);
    const auto& fn = tensor_arg(env, a[0], "self").grad_fn();
    if (!fn) {
      napi_value n;
      NAPI_OK(napi_get_null(env, &n));
      return n;
    }
    return make_string(env, fn->name());
  });
}

// getGrad(t): a new handle on t.grad, or null when there is none.
napi_value js_get_grad(napi_env env, napi_callback_info info) {
  return guard(env, "grad", [&]() -> napi_value {
    Args a(env, info, 1);
    return wrap_tensor(env, at::Tensor(tensor_arg(env, a[0], "self").grad()));
  });
}

// setGrad(t, g | null): assigns or clears t.grad (PyTorch's `t.grad = g` / `t.grad = None`).
napi_value js_set_grad(napi_env env, napi_callback_info info) {
  return guard(env, "setGrad", [&]() -> napi_value {
    Args a(env, info, 2);
    at::Tensor& t = tensor_arg(env, a[0], "self");
    if (present(env, a[1])) {
      const at::Tensor& g = tensor_arg(env, a[1], "grad");
      TORCH_CHECK(g.sizes() == t.sizes(), "assigned grad has shape ", g.sizes(), " but the tensor has shape ", t.sizes());
      TORCH_CHECK(g.scalar_type() == t.scalar_type(), "assigned grad has dtype ", g.scalar_type(), " but the tensor has dtype ", t.scalar_type());
      TORCH_CHECK(g.device() == t.device(), "assigned grad is on ", g.device(), " but the tensor is on ", t.device());
      t.mutable_grad() = g;
    } else {
      t.mutable_grad().reset();
    }
    return nullptr;
  });
}

// backward(tensors[], grads[] (nulls allowed), retainGraph, createGraph, inputs[]).
napi_value js_backward(napi_env env, napi_callback_info info) {
  return guard(env, "backward", [&]() -> napi_value {
    Args a(env, info, 5);
    std::vector<at::Tensor> outputs = to_tensor_list(env, a[0], "tensors");
    auto grads_opt = to_optional_tensor_list(env, a[1], "gradTensors");
    std::vector<at::Tensor> grads;
    for (size_t i = 0; i < grads_opt.size(); i++) {
      c10::optional<at::Tensor> g = grads_opt.get(i);
      grads.push_back(g.has_value() ? *g : at::Tensor());
    }
    c10::optional<bool> retain;
    if (present(env, a[2])) retain = to_bool(env, a[2], "retainGraph");
    bool create = present(env, a[3]) && to_bool(env, a[3], "createGraph");
    std::vector<at::Tensor> inputs;
    if (present(env, a[4])) inputs = to_tensor_list(env, a[4], "inputs");
    torch::autograd::backward(outputs, grads, retain, create, inputs);
    return nullptr;
  });
}

// grad(outputs[], inputs[], gradOutputs[] (nulls allowed), retainGraph, createGraph, allowUnused) -> (Tensor|null)[].
napi_value js_grad(napi_env env, napi_callback_info info) {
  return guard(env, "autograd.grad", [&]() -> napi_value {
    Args a(env, info, 6);
    std::vector<at::Tensor> outputs = to_tensor_list(env, a[0], "outputs");
    std::vector<at::Tensor> inputs = to_tensor_list(env, a[1], "inputs");
    std::vector<at::Tensor> grad_outputs;
    if (present(env, a[2])) {
      auto g = to_optional_tensor_list(env, a[2], "gradOutputs");
      for (size_t i = 0; i < g.size(); i++) {
        c10::optional<at::Tensor> gi = g.get(i);
        grad_outputs.push_back(gi.has_value() ? *gi : at::Tensor());
      }
    }
    c10::optional<bool> retain;
    if (present(env, a[3])) retain = to_bool(env, a[3], "retainGraph");
    bool create = present(env, a[4]) && to_bool(env, a[4], "createGraph");
    bool allow_unused = present(env, a[5]) && to_bool(env, a[5], "allowUnused");
    auto result = torch::autograd::grad(outputs, inputs, grad_outputs, retain, create, allow_unused);
    std::vector<napi_value> out;
    out.reserve(result.size());
    for (auto& r : result) out.push_back(wrap_tensor(env, std::move(r)));
    return make_array(env, out);
  });
}

}  // namespace

void register_autograd_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"isGradEnabled", nullptr, js_is_grad_enabled, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setGradEnabled", nullptr, js_set_grad_enabled, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"requiresGrad", nullptr, js_requires_grad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isLeaf", nullptr, js_is_leaf, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gradFnName", nullptr, js_grad_fn_name, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getGrad", nullptr, js_get_grad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setGrad", nullptr, js_set_grad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"backward", nullptr, js_backward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"grad", nullptr, js_grad, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
