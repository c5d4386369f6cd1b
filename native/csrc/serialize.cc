// Writing PyTorch `.pt` state dicts through LibTorch's own pickler: `torch::jit::pickle_save`
// writes the zip format that Python's `torch.load` opens. Reading is not done here: LibTorch
// 1.13's unpickler turns `collections.OrderedDict` — the type of every `model.state_dict()` that
// Python saves — into None, so src/io/ reads .pt files with its own restricted unpickler.
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstring>
#include <string>
#include <vector>

#include "convert.h"
#include "errors.h"
#include "handle.h"

namespace tessera {
namespace {

// savePt(names: string[], tensors: Handle[]) -> ArrayBuffer
napi_value js_save_pt(napi_env env, napi_callback_info info) {
  return guard(env, "savePt", [&]() -> napi_value {
    Args a(env, info, 2);
    uint32_t n = array_length(env, a[0], "names", "an array of strings");
    std::vector<at::Tensor> tensors = to_tensor_list(env, a[1], "tensors");
    if (tensors.size() != n) throw ArgumentError("names and tensors differ in length");
    c10::Dict<std::string, at::Tensor> dict;
    for (uint32_t i = 0; i < n; i++) {
      std::string name = to_string(env, element(env, a[0], i), "names");
      if (dict.contains(name)) throw ArgumentError("duplicate key '" + name + "'");
      // Saved values are plain data: detached, on the CPU (as torch.save of a state_dict stores them).
      dict.insert(name, tensors[i].detach().to(at::kCPU));
    }
    std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
    void* data;
    napi_value ab;
    NAPI_OK(napi_create_arraybuffer(env, bytes.size(), &data, &ab));
    std::memcpy(data, bytes.data(), bytes.size());
    return ab;
  });
}

}  // namespace

void register_serialize_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"savePt", nullptr, js_save_pt, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
