// The JS entry points of the JPEG kernel (src/data/image/jpeg-native.ts is their one caller):
//   jpegPoolCreate(threads) → pool              a JpegPool behind an external value
//   jpegDecodeBatch(pool, inputs, params, out, layout) → Promise<(string | null)[]>
// An input is a JPEG file, or decoded pixels (its params say their size). A batch runs on the
// pool's threads, never on the event loop; the promise resolves when every sample is in `out`,
// with one entry per sample: null, or why it failed (its slot is zeroed).
// The last sample's thread hands the batch back through a thread-safe function.
#include <node_api.h>

#include <cstring>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "convert.h"
#include "errors.h"
#include "jpeg_kernel.h"
#include "jpeg_pool.h"
#include "napi_util.h"

namespace tessera {
namespace {

constexpr int kMaxThreads = 256;
constexpr int kMaxSide = 1 << 16;     // output, crop and resize sides (JPEG's own limit is 65,535)
constexpr uint32_t kParamsPerSample = 14;  // the layout of `params`, shared with jpeg-native.ts

// One pool as JS holds it. The environment's cleanup hook and the external's finalizer may both
// run at the end; whichever runs first stops the threads, and once the environment is closing the
// thread-safe function belongs to Node and is not touched again.
struct PoolHandle {
  napi_env env = nullptr;
  std::unique_ptr<JpegPool> pool;
  napi_threadsafe_function tsfn = nullptr;
  int in_flight = 0;  // batches submitted and not yet resolved (main thread only)
  bool env_closing = false;
};

struct Batch {
  PoolHandle* handle = nullptr;
  napi_deferred deferred = nullptr;
  std::vector<napi_ref> refs;  // inputs, out and the pool: alive until the batch resolves
  BatchLayout layout;
  std::vector<SampleSpec> samples;
  std::vector<std::string> errors;  // per sample; empty = written
};

void on_env_cleanup(void* arg) {
  auto* h = static_cast<PoolHandle*>(arg);
  h->env_closing = true;
  h->pool->shutdown();
}

void finalize_pool(napi_env env, void* data, void*) {
  auto* h = static_cast<PoolHandle*>(data);
  if (!h->env_closing) {
    napi_remove_env_cleanup_hook(env, on_env_cleanup, h);
    h->pool->shutdown();
    napi_release_threadsafe_function(h->tsfn, napi_tsfn_release);
  }
  delete h;
}

// Runs on the main thread once the last sample of `data` is written.
void deliver(napi_env env, napi_value, void*, void* data) {
  std::unique_ptr<Batch> b(static_cast<Batch*>(data));
  if (env == nullptr) return;  // the function is being torn down with the environment
  PoolHandle* h = b->handle;
  napi_value result;
  if (napi_create_array_with_length(env, b->errors.size(), &result) == napi_ok) {
    for (size_t i = 0; i < b->errors.size(); i++) {
      napi_value v;
      if (b->errors[i].empty()) napi_get_null(env, &v);
      else napi_create_string_utf8(env, b->errors[i].data(), b->errors[i].size(), &v);
      napi_set_element(env, result, static_cast<uint32_t>(i), v);
    }
    napi_resolve_deferred(env, b->deferred, result);
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, "jpegDecodeBatch: could not build the result", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, b->deferred, err);
  }
  for (napi_ref r : b->refs) napi_delete_reference(env, r);
  if (--h->in_flight == 0) napi_unref_threadsafe_function(env, h->tsfn);
}

napi_value js_pool_create(napi_env env, napi_callback_info info) {
  return guard(env, "jpegPoolCreate", [&]() -> napi_value {
    Args a(env, info, 1);
    int64_t threads = to_int(env, a[0], "threads");
    if (threads < 1 || threads > kMaxThreads) throw ArgumentError("threads must be 1.." + std::to_string(kMaxThreads) + ", got " + std::to_string(threads));
    auto h = std::make_unique<PoolHandle>();
    h->env = env;
    h->pool = std::make_unique<JpegPool>(static_cast<int>(threads));
    napi_value name;
    NAPI_OK(napi_create_string_utf8(env, "tessera.jpegDecodeBatch", NAPI_AUTO_LENGTH, &name));
    NAPI_OK(napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr, deliver, &h->tsfn));
    // An idle pool must not keep the process alive; a batch in flight refs it (js_decode_batch).
    NAPI_OK(napi_unref_threadsafe_function(env, h->tsfn));
    // Registered after the thread-safe function so that it runs before Node closes that function
    // (cleanup hooks run in reverse order): no thread may still call it afterwards.
    NAPI_OK(napi_add_env_cleanup_hook(env, on_env_cleanup, h.get()));
    napi_value external;
    NAPI_OK(napi_create_external(env, h.get(), finalize_pool, nullptr, &external));
    h.release();
    return external;
  });
}

// A Uint8Array or Float32Array argument: its bytes and element type.
struct TypedBytes {
  napi_typedarray_type type;
  uint8_t* data;
  size_t bytes;
};

TypedBytes typed_bytes(napi_env env, napi_value v, const std::string& what) {
  bool is;
  NAPI_OK(napi_is_typedarray(env, v, &is));
  if (!is) throw ArgumentError(what + " must be a Uint8Array or Float32Array");
  napi_typedarray_type type;
  size_t length, offset;
  void* data;
  napi_value ab;
  NAPI_OK(napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset));
  if (type == napi_uint8_array) return {type, static_cast<uint8_t*>(data), length};
  if (type == napi_float32_array) return {type, static_cast<uint8_t*>(data), length * sizeof(float)};
  throw ArgumentError(what + " must be a Uint8Array or Float32Array");
}

// params: an Int32Array of kParamsPerSample numbers per input (see jpeg-native.ts).
const int32_t* int32_params(napi_env env, napi_value v, uint32_t n) {
  bool is;
  NAPI_OK(napi_is_typedarray(env, v, &is));
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0, offset;
  void* data = nullptr;
  napi_value ab;
  if (is) NAPI_OK(napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset));
  if (!is || type != napi_int32_array || length != static_cast<size_t>(n) * kParamsPerSample)
    throw ArgumentError("params must be an Int32Array of " + std::to_string(kParamsPerSample) + " numbers per input");
  return static_cast<const int32_t*>(data);
}

napi_value named(napi_env env, napi_value obj, const char* key) {
  napi_value v;
  NAPI_OK(napi_get_named_property(env, obj, key, &v));
  return v;
}

int side(napi_env env, napi_value obj, const char* key) {
  int64_t v = to_int(env, named(env, obj, key), key);
  if (v < 1 || v > kMaxSide) throw ArgumentError(std::string(key) + " must be 1.." + std::to_string(kMaxSide) + ", got " + std::to_string(v));
  return static_cast<int>(v);
}

BatchLayout layout_arg(napi_env env, napi_value o, napi_typedarray_type out_type) {
  if (type_of(env, o) != napi_object) throw ArgumentError("layout must be an object");
  BatchLayout L;
  L.width = side(env, o, "width");
  L.height = side(env, o, "height");
  int64_t channels = to_int(env, named(env, o, "channels"), "channels");
  if (channels != 1 && channels != 3) throw ArgumentError("channels must be 1 or 3, got " + std::to_string(channels));
  L.channels = static_cast<int>(channels);
  L.max_pixels = to_double(env, named(env, o, "maxPixels"), "maxPixels");
  if (!(L.max_pixels > 0)) throw ArgumentError("maxPixels must be a positive number");
  std::string fail_on = to_string(env, named(env, o, "failOn"), "failOn");
  if (fail_on == "truncated") L.fail_on = FailOn::Truncated;
  else if (fail_on == "error") L.fail_on = FailOn::Error;
  else if (fail_on == "warning") L.fail_on = FailOn::Warning;
  else throw ArgumentError("failOn must be 'truncated', 'error' or 'warning', got '" + fail_on + "'");
  L.dct_scaling = to_bool(env, named(env, o, "dctScaling"), "dctScaling");
  L.float_out = out_type == napi_float32_array;
  if (L.float_out) {
    // The float each byte becomes, per channel: a table made in JS (jpeg-native.ts), so the kernel
    // and a JS batch transform it stands in for give the same floats by construction.
    napi_value lut = named(env, o, "lut");
    TypedBytes t = typed_bytes(env, lut, "lut");
    if (t.type != napi_float32_array || t.bytes != sizeof(float) * 256 * L.channels)
      throw ArgumentError("lut must be a Float32Array of 256 values per channel (" + std::to_string(256 * L.channels) + ")");
    std::memcpy(L.lut, t.data, t.bytes);
  }
  return L;
}

// References taken for a batch, released again unless the batch was handed to the pool (then
// deliver() releases them): a bad argument found half-way must not pin the inputs forever.
struct RefsGuard {
  napi_env env;
  std::vector<napi_ref>* refs;
  bool handed_over = false;
  ~RefsGuard() {
    if (handed_over) return;
    for (napi_ref r : *refs) napi_delete_reference(env, r);
    refs->clear();
  }
};

napi_value js_decode_batch(napi_env env, napi_callback_info info) {
  return guard(env, "jpegDecodeBatch", [&]() -> napi_value {
    Args a(env, info, 5);
    PoolHandle* h = nullptr;
    if (type_of(env, a[0]) != napi_external) throw ArgumentError("pool must come from jpegPoolCreate");
    NAPI_OK(napi_get_value_external(env, a[0], reinterpret_cast<void**>(&h)));
    if (h->env_closing) throw ArgumentError("the JPEG thread pool has shut down");
    uint32_t n = array_length(env, a[1], "inputs", "an array of Uint8Arrays");
    const int32_t* p = int32_params(env, a[2], n);
    TypedBytes out = typed_bytes(env, a[3], "out");
    auto b = std::make_unique<Batch>();
    b->handle = h;
    b->layout = layout_arg(env, a[4], out.type);
    const size_t slot_bytes = sample_bytes(b->layout);
    if (out.bytes % slot_bytes != 0)
      throw ArgumentError("out holds " + std::to_string(out.bytes) + " bytes, not a whole number of " + std::to_string(slot_bytes) + "-byte samples");
    const size_t slots = out.bytes / slot_bytes;

    RefsGuard guard_refs{env, &b->refs};
    std::set<int32_t> used;
    b->samples.resize(n);
    b->errors.resize(n);
    for (uint32_t i = 0; i < n; i++, p += kParamsPerSample) {
      const std::string what = "inputs[" + std::to_string(i) + "]";
      napi_value input = element(env, a[1], i);
      TypedBytes in = typed_bytes(env, input, what);
      if (in.type != napi_uint8_array) throw ArgumentError(what + " must be a Uint8Array");
      SampleSpec& s = b->samples[i];
      s.data = in.data;
      s.size = in.bytes;
      s.orientation = p[0];
      s.crop_x = p[1], s.crop_y = p[2], s.crop_w = p[3], s.crop_h = p[4];
      s.resize_w = p[5], s.resize_h = p[6];
      s.offset_x = p[7], s.offset_y = p[8];
      s.flip = p[9] != 0;
      const int32_t slot = p[10];
      s.pixels_width = p[11], s.pixels_height = p[12], s.pixels_channels = p[13];
      if (s.pixels_channels != 0 && s.pixels_channels != 1 && s.pixels_channels != 3) throw ArgumentError(what + ": pixels must have 1 or 3 channels");
      if (s.orientation < 1 || s.orientation > 8) throw ArgumentError(what + ": orientation must be 1..8");
      if (s.crop_w < 1 || s.crop_h < 1 || s.crop_w > kMaxSide || s.crop_h > kMaxSide || s.crop_x < 0 || s.crop_y < 0)
        throw ArgumentError(what + ": bad crop");
      if (s.resize_w < 1 || s.resize_h < 1 || s.resize_w > kMaxSide || s.resize_h > kMaxSide) throw ArgumentError(what + ": bad resize");
      if (s.offset_x < 0 || s.offset_y < 0 || s.offset_x + b->layout.width > s.resize_w || s.offset_y + b->layout.height > s.resize_h)
        throw ArgumentError(what + ": the output window does not fit in the resized image");
      if (slot < 0 || static_cast<size_t>(slot) >= slots) throw ArgumentError(what + ": slot " + std::to_string(slot) + " is outside out (" + std::to_string(slots) + " slots)");
      // Two samples in one slot would race (and the result would depend on the thread count).
      if (!used.insert(slot).second) throw ArgumentError(what + ": slot " + std::to_string(slot) + " is used twice");
      s.dst = out.data + static_cast<size_t>(slot) * slot_bytes;
      napi_ref ref;
      NAPI_OK(napi_create_reference(env, input, 1, &ref));
      b->refs.push_back(ref);
    }
    for (napi_value keep : {a[3], a[0]}) {
      napi_ref ref;
      NAPI_OK(napi_create_reference(env, keep, 1, &ref));
      b->refs.push_back(ref);
    }

    napi_value promise;
    NAPI_OK(napi_create_promise(env, &b->deferred, &promise));
    if (n == 0) {
      napi_value empty;
      NAPI_OK(napi_create_array(env, &empty));
      NAPI_OK(napi_resolve_deferred(env, b->deferred, empty));
      return promise;
    }
    auto job = std::make_shared<JpegPool::Job>();
    Batch* raw = b.get();
    job->count = n;
    job->work = [raw, slot_bytes](size_t i) {
      SampleSpec& s = raw->samples[i];
      try {
        run_sample(s, raw->layout);
        return;
      } catch (const std::bad_alloc&) {
        raw->errors[i] = "out of memory";
      } catch (const std::exception& e) {
        raw->errors[i] = e.what();
      } catch (...) {
        raw->errors[i] = "unknown error";
      }
      if (raw->errors[i].empty()) raw->errors[i] = "unknown error";
      std::memset(s.dst, 0, slot_bytes);
    };
    job->done = [raw] {
      // Fails only while the environment closes; the batch is then abandoned with it.
      napi_call_threadsafe_function(raw->handle->tsfn, raw, napi_tsfn_nonblocking);
    };
    if (h->in_flight == 0) NAPI_OK(napi_ref_threadsafe_function(env, h->tsfn));
    h->in_flight++;
    try {
      h->pool->submit(job);
    } catch (...) {
      if (--h->in_flight == 0) napi_unref_threadsafe_function(env, h->tsfn);
      throw;
    }
    guard_refs.handed_over = true;
    b.release();  // owned by the job until deliver() takes it back
    return promise;
  });
}

}  // namespace

void register_jpeg_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"jpegPoolCreate", nullptr, js_pool_create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"jpegDecodeBatch", nullptr, js_decode_batch, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
