{
  # The native addon. LibTorch's location and flags come from native/find-libtorch.mjs, which
  # honours LIBTORCH, LIBTORCH_USE_PYTORCH=1, or falls back to the system's libtorch-dev.
  "targets": [
    {
      # The fused JPEG kernel (decode, resize, write; its thread pool) on the system's libjpeg-turbo
      # (libjpeg62-turbo-dev). A library of its own: it needs neither LibTorch nor Node, and its
      # resize loops want -O3, which vectorises them (the addon's -O2 leaves them scalar, ~2x slower).
      "target_name": "tessera_jpeg",
      "type": "static_library",
      "sources": [
        "native/csrc/jpeg_decode.cc",
        "native/csrc/jpeg_resample.cc",
        "native/csrc/jpeg_kernel.cc",
        "native/csrc/jpeg_pool.cc"
      ],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fPIC", "-O3", "-Wall", "-Wno-unused-parameter"],
      "link_settings": { "libraries": ["-ljpeg", "-lpthread"] }
    },
    {
      "target_name": "tessera",
      "sources": [
        "native/csrc/addon.cc",
        "native/csrc/errors.cc",
        "native/csrc/handle.cc",
        "native/csrc/tensor_core.cc",
        "native/csrc/autograd.cc",
        "native/csrc/runtime.cc",
        "native/csrc/serialize.cc",
        "native/csrc/autocast.cc",
        "native/csrc/mmap.cc",
        "native/csrc/dist.cc",
        "native/csrc/dist_rendezvous.cc",
        "native/csrc/dist_heartbeat.cc",
        "native/csrc/jpeg_addon.cc",
        "native/generated/ops_0.cc",
        "native/generated/ops_1.cc",
        "native/generated/ops_2.cc",
        "native/generated/ops_3.cc",
        "native/generated/ops_register.cc"
      ],
      "dependencies": ["tessera_jpeg"],
      "include_dirs": ["native/csrc", "<!@(node native/find-libtorch.mjs includes)"],
      "defines": ["<!@(node native/find-libtorch.mjs defines)", "NAPI_VERSION=8"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["<!@(node native/find-libtorch.mjs ldflags)"],
      "libraries": ["<!@(node native/find-libtorch.mjs libs)"]
    }
  ]
}
