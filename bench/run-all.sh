#!/usr/bin/env bash
# Builds the TypeScript and runs every benchmark (Tessera against PyTorch from Python on this
# machine, same thread count), then repeats their RESULT lines. Needs the set-up that `npm test` or
# `npm start` does (LibTorch, OpenBLAS, python3-torch with torchvision, the native addon, and
# Debian's dataset-fashion-mnist for the Fashion-MNIST benches).
#
#   bash bench/run-all.sh                 # every bench, threads = all cores (about 20 minutes on 2 cores)
#   bash bench/run-all.sh --skip-slow     # the fast list only (about 3 minutes)
#   bash bench/run-all.sh --threads 1     # passed to every bench that takes it: --threads N, --reps N
#   BENCHES="train-mlp data-folder" bash bench/run-all.sh
#
# A flag is passed only to the benches whose --help lists it (data-pipeline and jpeg-kernel are
# one core by design and take no --threads; model-throughput takes neither); run-all says which it
# left out.
#
# Exit status: 0 when every bench ran, printed its RESULT line and exited 0 (numerics agree, no
# leak), 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build/Release/tessera.node ]; then
  echo "run-all: the native addon is not built; run 'npm test' or 'npm start' (or 'npm run setup') first" >&2
  exit 1
fi
# Engine benches (under a minute each), then data and trainer benches (10 s to 2 minutes each).
fast_benches="op-overhead train-mlp train-cnn train-mlp-nn train-cnn-nn optimizer-step
  data-pipeline jpeg-kernel data-fashion-mnist data-setup data-packed data-folder data-eval data-packed-jpeg trainer-overhead model-throughput inference-batch"
# ResNet-18 at batch 128 takes 1-2 s a step on 2 cores: 2-6 minutes each. time-to-accuracy runs the
# main job (tessera train) for seeds 0, 1, 2 and its PyTorch peer once: about 20-25 minutes.
# train-unet and train-dcgan (segmentation and GAN steps) take about a second a step: 1-2 minutes each.
# The serving benches (tessera serve under autocannon on loopback) take 2-4 minutes each.
# data-camera writes 64 photos of 4000×3000 (about a minute) and decodes them on both sides.
# compress trains nothing: int8 (ONNX Runtime) and channel-pruned models against the originals, 1-3 minutes.
slow_benches="train-resnet18 train-resnet18-bf16 bf16-speedup channels-last-speedup time-to-accuracy train-unet train-dcgan
  serve-batching serve-backends serve-peer serve-soak compress data-camera"
# Benches whose peer imports torchvision.
torchvision_benches=" data-pipeline jpeg-kernel data-packed data-folder data-eval data-camera data-packed-jpeg train-resnet18 train-resnet18-bf16 bf16-speedup channels-last-speedup serve-peer "
args=()
skip_slow=0
for a in "$@"; do
  if [ "$a" = "--skip-slow" ]; then skip_slow=1; else args+=("$a"); fi
done
default_benches="$fast_benches"
[ "$skip_slow" = 1 ] || default_benches="$fast_benches $slow_benches"

python="${TESSERA_BENCH_PYTHON:-/usr/bin/python3}"
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "run-all: $python cannot import torch (the peer); install python3-torch ('npm run setup' does)" >&2
  exit 1
fi
read -r -a benches <<< "$(echo ${BENCHES:-$default_benches})"
for b in "${benches[@]}"; do
  if [[ "$torchvision_benches" == *" $b "* ]] && ! "$python" -c 'import torchvision' 2>/dev/null; then
    echo "run-all: $python cannot import torchvision (the peer of $b); install python3-torchvision" >&2
    exit 1
  fi
done

echo "run-all: building (npx tsc -p tsconfig.json)"
# tsc emits JavaScript even when some file does not type-check. Errors in bench/ stop the run;
# errors elsewhere (someone's work in progress) are reported and the benchmarks run anyway.
if ! build_log=$(npx --no-install tsc -p tsconfig.json 2>&1); then
  echo "$build_log" | grep -v '^npm warn' >&2
  if echo "$build_log" | grep -q '^bench/'; then
    echo "run-all: the benchmarks do not type-check" >&2
    exit 1
  fi
  echo "run-all: WARNING: type errors outside bench/ (above); running the JavaScript tsc emitted anyway" >&2
fi
for b in $fast_benches $slow_benches; do
  [ -f "dist/bench/$b.js" ] || { echo "run-all: dist/bench/$b.js was not built" >&2; exit 1; }
done

node bin/tessera.js info
echo

# The flags of "$@" that bench $1 accepts (those its --help lists), one per line.
bench_args() {
  local help i=0 a name n
  help=$(node "dist/bench/$1.js" --help 2>&1 || true)
  while [ $i -lt ${#args[@]} ]; do
    a=${args[$i]}
    name=${a%%=*}
    if [[ "$a" == *=* ]] || [ $((i + 1)) -ge ${#args[@]} ] || [[ "${args[$((i + 1))]}" == --* ]]; then n=1; else n=2; fi
    if grep -q -- "^ *$name " <<< "$help"; then
      printf '%s\n' "${args[@]:$i:$n}"
    else
      echo "run-all: $1 takes no $name; not passed" >&2
    fi
    i=$((i + n))
  done
}

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
results=()
status=0
for b in "${benches[@]}"; do
  echo "=== $b $(date -u +%FT%TZ)"
  mapfile -t these < <(bench_args "$b")
  node "dist/bench/$b.js" ${these[@]+"${these[@]}"} 2>&1 | tee "$log_dir/$b.log"
  rc=${PIPESTATUS[0]}
  # Most benches print one RESULT line; jpeg-kernel prints one per case. Keep them all.
  mapfile -t lines < <(grep '^RESULT ' "$log_dir/$b.log")
  if [ ${#lines[@]} -eq 0 ]; then
    results+=("RESULT name=$b FAILED (exit code $rc, no RESULT line)")
    status=1
  else
    results+=("${lines[@]}")
    if [ "$rc" -ne 0 ]; then
      results+=("  ^ $b exited with code $rc (numerics mismatch or leak: see its output)")
      status=1
    fi
  fi
  echo
done

echo "=== summary"
printf '%s\n' "${results[@]}"
exit $status
