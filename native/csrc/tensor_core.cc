// Hand-written tensor entry points that the op schema does not cover: moving bytes between JS
// buffers and tensors, and reading metadata. Everything else about tensors is generated.
#include <ATen/ATen.h>

#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "convert.h"
#include "errors.h"
#include "handle.h"
#include "napi_util.h"

namespace tessera {
namespace {

struct BufferView {
  void* data;
  size_t bytes;
  napi_value arraybuffer;
};

// Accepts any TypedArray, DataView or ArrayBuffer and returns its bytes.
BufferView buffer_arg(napi_env env, napi_value v, const char* what) {
  bool is;
  NAPI_OK(napi_is_typedarray(env, v, &is));
  if (is) {
    napi_typedarray_type type;
    size_t length, offset;
    void* data;
    napi_value ab;
    NAPI_OK(napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset));
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    return {data, length * elem, ab};
  }
  NAPI_OK(napi_is_dataview(env, v, &is));
  if (is) {
    size_t length, offset;
    void* data;
    napi_value ab;
    NAPI_OK(napi_get_dataview_info(env, v, &length, &data, &ab, &offset));
    return {data, length, ab};
  }
  NAPI_OK(napi_is_arraybuffer(env, v, &is));
  if (is) {
    void* data;
    size_t length;
    NAPI_OK(napi_get_arraybuffer_info(env, v, &data, &length));
    return {data, length, v};
  }
  bad_arg(what, "a TypedArray, DataView or ArrayBuffer");
}

std::vector<int64_t> shape_arg(napi_env env, napi_value v) {
  std::vector<int64_t> shape = to_int_list(env, v, "shape");
  for (int64_t d : shape)
    if (d < 0) throw ArgumentError("argument 'shape' has a negative size " + std::to_string(d));
  return shape;
}

// Bytes needed for `shape` elements of `dtype`, refusing sizes whose product overflows.
size_t checked_nbytes(const std::vector<int64_t>& shape, at::ScalarType dtype) {
  size_t n = at::elementSize(dtype);
  for (int64_t d : shape) {
    if (d != 0 && n > SIZE_MAX / static_cast<size_t>(d))
      throw ArgumentError("argument 'shape' " + c10::str(at::IntArrayRef(shape)) + " is too large");
    n *= static_cast<size_t>(d);
  }
  return n;
}

// fromBuffer(buffer, dtype, shape): a new CPU tensor holding a copy of the bytes.
napi_value js_from_buffer(napi_env env, napi_callback_info info) {
  return guard(env, "fromBuffer", [&]() -> napi_value {
    Args a(env, info, 3);
    BufferView buf = buffer_arg(env, a[0], "data");
    at::ScalarType dtype = to_scalar_type(env, a[1], "dtype");
    std::vector<int64_t> shape = shape_arg(env, a[2]);
    size_t need = checked_nbytes(shape, dtype);
    if (need != buf.bytes)
      throw ArgumentError("data has " + std::to_string(buf.bytes) + " bytes but shape " + c10::str(at::IntArrayRef(shape)) +
                          " of " + c10::toString(dtype) + " needs " + std::to_string(need));
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    if (need) std::memcpy(t.data_ptr(), buf.data, need);
    return wrap_tensor(env, std::move(t));
  });
}

// Zero-copy tensors keep their JS ArrayBuffer alive through a napi_ref. LibTorch may drop the last
// storage reference on any thread, where N-API must not be called, so the deleter only queues the
// reference and the JS thread deletes it at its next native call that drains the queue.
std::mutex g_release_mutex;
std::vector<std::pair<napi_env, napi_ref>> g_released;

void drain_released_buffers(napi_env env) {
  std::vector<napi_ref> mine;
  {
    std::lock_guard<std::mutex> lock(g_release_mutex);
    if (g_released.empty()) return;
    auto it = g_released.begin();
    while (it != g_released.end()) {
      if (it->first == env) {
        mine.push_back(it->second);
        it = g_released.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (napi_ref r : mine) napi_delete_reference(env, r);
}

// fromBufferShared(buffer, dtype, shape): a CPU tensor over the same memory as the buffer.
napi_value js_from_buffer_shared(napi_env env, napi_callback_info info) {
  return guard(env, "fromBufferShared", [&]() -> napi_value {
    drain_released_buffers(env);
    Args a(env, info, 3);
    BufferView buf = buffer_arg(env, a[0], "data");
    at::ScalarType dtype = to_scalar_type(env, a[1], "dtype");
    std::vector<int64_t> shape = shape_arg(env, a[2]);
    size_t need = checked_nbytes(shape, dtype);
    if (need != buf.bytes)
      throw ArgumentError("data has " + std::to_string(buf.bytes) + " bytes but the shape needs " + std::to_string(need));
    if (reinterpret_cast<uintptr_t>(buf.data) % at::elementSize(dtype) != 0)
      throw ArgumentError("data is not aligned to the element size of " + std::string(c10::toString(dtype)));
    napi_ref ref;
    NAPI_OK(napi_create_reference(env, buf.arraybuffer, 1, &ref));
    auto deleter = [env, ref](void*) {
      std::lock_guard<std::mutex> lock(g_release_mutex);
      g_released.emplace_back(env, ref);
    };
    at::Tensor t = at::from_blob(buf.data, shape, deleter, at::TensorOptions().dtype(dtype));
    return wrap_tensor(env, std::move(t));
  });
}

// toBuffer(t): an ArrayBuffer with a contiguous CPU copy of the elements. Half types come back
// as float32 (JS has no Float16Array in Node 20); everything else in its own width.
napi_value js_to_buffer(napi_env env, napi_callback_info info) {
  return guard(env, "data", [&]() -> napi_value {
    Args a(env, info, 1);
    at::Tensor t = tensor_arg(env, a[0], "self").detach();
    if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16) t = t.to(at::kFloat);
    t = t.to(at::kCPU).contiguous();
    size_t bytes = t.numel() * t.element_size();
    void* data;
    napi_value ab;
    NAPI_OK(napi_create_arraybuffer(env, bytes, &data, &ab));
    if (bytes) std::memcpy(data, t.data_ptr(), bytes);
    return ab;
  });
}

// copyFromBuffer(t, buffer): overwrite a contiguous CPU tensor's elements in place (no autograd).
napi_value js_copy_from_buffer(napi_env env, napi_callback_info info) {
  return guard(env, "copyFromBuffer", [&]() -> napi_value {
    Args a(env, info, 2);
    at::Tensor& t = tensor_arg(env, a[0], "self");
    BufferView buf = buffer_arg(env, a[1], "data");
    if (!t.device().is_cpu() || !t.is_contiguous())
      throw ArgumentError("copyFromBuffer needs a contiguous CPU tensor");
    size_t bytes = t.numel() * t.element_size();
    if (bytes != buf.bytes)
      throw ArgumentError("data has " + std::to_string(buf.bytes) + " bytes but the tensor has " + std::to_string(bytes));
    if (bytes) std::memcpy(t.data_ptr(), buf.data, bytes);
    return nullptr;
  });
}

napi_value js_item(napi_env env, napi_callback_info info) {
  return guard(env, "item", [&]() -> napi_value {
    Args a(env, info, 1);
    at::Tensor& t = tensor_arg(env, a[0], "self");
    at::Scalar s = t.item();
    if (s.isBoolean()) return make_bool(env, s.toBool());
    if (s.isIntegral(false)) return make_number(env, static_cast<double>(s.toLong()));
    return make_number(env, s.toDouble());
  });
}

napi_value js_shape(napi_env env, napi_callback_info info) {
  return guard(env, "shape", [&]() -> napi_value {
    Args a(env, info, 1);
    at::IntArrayRef sizes = tensor_arg(env, a[0], "self").sizes();
    napi_value arr;
    NAPI_OK(napi_create_array_with_length(env, sizes.size(), &arr));
    for (size_t i = 0; i < sizes.size(); i++) NAPI_OK(napi_set_element(env, arr, i, make_int(env, sizes[i])));
    return arr;
  });
}

napi_value js_strides(napi_env env, napi_callback_info info) {
  return guard(env, "strides", [&]() -> napi_value {
    Args a(env, info, 1);
    at::IntArrayRef strides = tensor_arg(env, a[0], "self").strides();
    napi_value arr;
    NAPI_OK(napi_create_array_with_length(env, strides.size(), &arr));
    for (size_t i = 0; i < strides.size(); i++) NAPI_OK(napi_set_element(env, arr, i, make_int(env, strides[i])));
    return arr;
  });
}

napi_value js_dtype(napi_env env, napi_callback_info info) {
  return guard(env, "dtype", [&]() -> napi_value {
    Args a(env, info, 1);
    return make_int(env, static_cast<int64_t>(tensor_arg(env, a[0], "self").scalar_type()));
  });
}

napi_value js_device(napi_env env, napi_callback_info info) {
  return guard(env, "device", [&]() -> napi_value {
    Args a(env, info, 1);
    return make_string(env, tensor_arg(env, a[0], "self").device().str());
  });
}

// Everything cheap about a tensor in one call: [dim, numel, dtype, requiresGrad, isLeaf, hasGrad, gradFnName].
napi_value js_describe(napi_env env, napi_callback_info info) {
  return guard(env, "describe", [&]() -> napi_value {
    Args a(env, info, 1);
    at::Tensor& t = tensor_arg(env, a[0], "self");
    napi_value o = make_object(env);
    set_named(env, o, "numel", make_int(env, t.numel()));
    set_named(env, o, "contiguous", make_bool(env, t.is_contiguous()));
    set_named(env, o, "channelsLast", make_bool(env, t.dim() == 4 && t.is_contiguous(at::MemoryFormat::ChannelsLast)));
    set_named(env, o, "storageOffset", make_int(env, t.storage_offset()));
    set_named(env, o, "isView", make_bool(env, t.is_view()));
    return o;
  });
}

napi_value js_numel(napi_env env, napi_callback_info info) {
  return guard(env, "numel", [&]() -> napi_value {
    Args a(env, info, 1);
    return make_int(env, tensor_arg(env, a[0], "self").numel());
  });
}

}  // namespace

void register_tensor_core_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"fromBuffer", nullptr, js_from_buffer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fromBufferShared", nullptr, js_from_buffer_shared, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"toBuffer", nullptr, js_to_buffer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyFromBuffer", nullptr, js_copy_from_buffer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"item", nullptr, js_item, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"shape", nullptr, js_shape, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"strides", nullptr, js_strides, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dtype", nullptr, js_dtype, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"device", nullptr, js_device, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"describe", nullptr, js_describe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"numel", nullptr, js_numel, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
