#!/usr/bin/env bash
# Builds the TypeScript and runs every engine benchmark (Tessera against PyTorch from Python on this
# machine, same thread count), then repeats their RESULT lines. Needs the set-up that `npm test` or
# `npm start` does (LibTorch, OpenBLAS, python3-torch with torchvision, the native addon).
#
#   bash bench/run-all.sh                 # every bench, threads = all cores (about 15 minutes on 2 cores)
#   bash bench/run-all.sh --skip-slow     # without the ResNet-18 benches (about 1 minute)
#   bash bench/run-all.sh --threads 1     # flags every bench takes: --threads N, --reps N
#   BENCHES="train-mlp train-cnn" bash bench/run-all.sh
#
# Exit status: 0 when every bench ran, printed its RESULT line and exited 0 (numerics agree, no
# leak), 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build/Release/tessera.node ]; then
  echo "run-all: the native addon is not built; run 'npm test' or 'npm start' (or 'npm run setup') first" >&2
  exit 1
fi
fast_benches="op-overhead train-mlp train-cnn train-mlp-nn train-cnn-nn"
# ResNet-18 at batch 128 takes 1-2 s a step on 2 cores: 2-6 minutes each.
slow_benches="train-resnet18 train-resnet18-bf16 bf16-speedup channels-last-speedup"
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
if [ "$skip_slow" = 0 ] && [ -z "${BENCHES:-}" ] && ! "$python" -c 'import torchvision' 2>/dev/null; then
  echo "run-all: $python cannot import torchvision (the ResNet-18 peer); install python3-torchvision, or pass --skip-slow" >&2
  exit 1
fi

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

read -r -a benches <<< "${BENCHES:-$default_benches}"
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
results=()
status=0
for b in "${benches[@]}"; do
  echo "=== $b $(date -u +%FT%TZ)"
  node "dist/bench/$b.js" ${args[@]+"${args[@]}"} 2>&1 | tee "$log_dir/$b.log"
  rc=${PIPESTATUS[0]}
  line=$(grep '^RESULT ' "$log_dir/$b.log" | tail -n 1)
  if [ -z "$line" ]; then
    results+=("RESULT name=$b FAILED (exit code $rc, no RESULT line)")
    status=1
  else
    results+=("$line")
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
