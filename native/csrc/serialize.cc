// What the `.pt` writer (src/io/pt-write.ts) needs from LibTorch and cannot see from JS: which
// storage a tensor lives in, and how large that storage is. torch.save writes each storage once
// and every tensor as a window (offset, size, stride) on it, so two keys saved from one tensor —
// or from views of one buffer — stay one buffer after torch.load. The pickle and the zip archive
// themselves are written in TypeScript: LibTorch's own pickler wraps dicts in
// `torch.jit._pickle.restore_type_tag`, which `torch.load(weights_only=True)` (the default since
// PyTorch 2.6) refuses.
#include <cstdio>
#include <string>

#include "errors.h"
#include "handle.h"
#include "napi_util.h"

namespace tessera {
namespace {

// storageOf(h: Handle) -> { id: string, nbytes: number, users: number }
// `id` is the address of the StorageImpl (what Python's `storage._cdata` is): equal ids, one storage.
// `users` counts the tensors (views included) that hold it: the data loader reuses a batch buffer
// only once the tensor it keeps over it is the buffer's last user (src/data/loader/batch-buffers.ts).
napi_value js_storage_of(napi_env env, napi_callback_info info) {
  return guard(env, "storageOf", [&]() -> napi_value {
    Args a(env, info, 1);
    const at::Tensor& t = tensor_arg(env, a[0], "self");
    if (!t.has_storage()) throw ArgumentError("the tensor has no storage (a sparse or opaque tensor cannot be saved as .pt)");
    const c10::Storage& s = t.storage();
    char id[32];
    std::snprintf(id, sizeof id, "%p", static_cast<const void*>(s.unsafeGetStorageImpl()));
    napi_value o = make_object(env);
    set_named(env, o, "id", make_string(env, id));
    set_named(env, o, "nbytes", make_int(env, static_cast<int64_t>(s.nbytes())));
    set_named(env, o, "users", make_int(env, static_cast<int64_t>(s.use_count())));
    return o;
  });
}

}  // namespace

void register_serialize_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"storageOf", nullptr, js_storage_of, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
