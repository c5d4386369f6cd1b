// Memory-mapped files for packed shards and NPY arrays: the page cache holds the data, so a data
// set larger than RAM is read on demand and several loaders share one copy. The mapping is
// private and writable (copy-on-write): a JS write into the ArrayBuffer never reaches the file and
// never faults, unlike a read-only mapping would. The ArrayBuffer owns the mapping; V8 unmaps it
// when the buffer is collected.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "convert.h"
#include "errors.h"
#include "napi_util.h"

namespace tessera {
namespace {

struct Mapping {
  void* base;
  size_t length;
};

void unmap(napi_env, void*, void* hint) {
  auto* m = static_cast<Mapping*>(hint);
  munmap(m->base, m->length);
  delete m;
}

std::string errno_text(const std::string& path) { return path + ": " + std::strerror(errno); }

// mapFile(path): an ArrayBuffer over the whole file. An empty file gives an empty (unmapped) buffer.
napi_value js_map_file(napi_env env, napi_callback_info info) {
  return guard(env, "mapFile", [&]() -> napi_value {
    Args a(env, info, 1);
    std::string path = to_string(env, a[0], "path");
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ArgumentError(errno_text(path));
    struct stat st;
    if (fstat(fd, &st) != 0) {
      std::string msg = errno_text(path);
      close(fd);
      throw ArgumentError(msg);
    }
    if (!S_ISREG(st.st_mode)) {
      close(fd);
      throw ArgumentError(path + ": not a regular file");
    }
    size_t length = static_cast<size_t>(st.st_size);
    // V8 refuses ArrayBuffers above 4 GiB (Node 20's kMaxLength); refuse here, with the reason,
    // before mapping anything.
    if (length > (size_t{1} << 32)) {
      close(fd);
      throw ArgumentError(path + ": " + std::to_string(length) + " bytes is more than one ArrayBuffer can hold (4 GiB); read it in parts");
    }
    napi_value result;
    if (length == 0) {
      close(fd);
      NAPI_OK(napi_create_arraybuffer(env, 0, nullptr, &result));
      return result;
    }
    void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    int saved = errno;
    close(fd);  // the mapping keeps the file alive
    if (base == MAP_FAILED) {
      errno = saved;
      throw ArgumentError(errno_text(path));
    }
    auto* m = new Mapping{base, length};
    napi_status s = napi_create_external_arraybuffer(env, base, length, unmap, m, &result);
    // On failure Node may already have run the finalizer (it does for some errors), so the
    // mapping is not released here: a rare leak is better than a double free.
    NAPI_OK(s);
    return result;
  });
}

}  // namespace

void register_mmap_functions(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mapFile", nullptr, js_map_file, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
}

}  // namespace tessera
