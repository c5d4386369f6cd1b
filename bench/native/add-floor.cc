// The C++ floor for bench/op-overhead.ts: LibTorch's own cost of `at::add` on two 1-element
// float32 tensors, with no language binding in between. Prints one JSON line per repetition.
//   add-floor <calls per rep> <reps> <threads>
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const long calls = argc > 1 ? std::atol(argv[1]) : 1000000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  at::set_num_threads(threads);
  at::Tensor a = at::ones({1}, at::kFloat);
  at::Tensor b = at::ones({1}, at::kFloat);
  for (long i = 0; i < calls / 10; i++) at::Tensor c = at::add(a, b);  // warm-up
  for (int r = 0; r < reps; r++) {
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; i++) {
      at::Tensor c = at::add(a, b);
    }
    auto t1 = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(t1 - t0).count();
    std::printf("{\"callsPerSec\": %.1f}\n", calls / s);
    std::fflush(stdout);
  }
  return 0;
}
