#!/usr/bin/env bash
# Builds the TypeScript and runs every engine benchmark (Tessera against PyTorch from Python on this
# machine, same thread count), then repeats their RESULT lines. Needs the set-up that `npm test` or
# `npm start` does (LibTorch, OpenBLAS, python3-torch, the native addon).
#
#   bash bench/run-all.sh                 # every bench, threads = all cores
#   bash bench/run-all.sh --threads 1     # flags every bench takes: --threads N, --reps N
#   BENCHES="train-mlp train-cnn" bash bench/run-all.sh
#
# Exit status: 0 when every bench ran and printed its RESULT line, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build/Release/tessera.node ]; then
  echo "run-all: the native addon is not built; run 'npm test' or 'npm start' (or 'npm run setup') first" >&2
  exit 1
fi
python="${TESSERA_BENCH_PYTHON:-/usr/bin/python3}"
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "run-all: $python cannot import torch (the peer); install python3-torch ('npm run setup' does)" >&2
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
for b in op-overhead train-mlp train-cnn; do
  [ -f "dist/bench/$b.js" ] || { echo "run-all: dist/bench/$b.js was not built" >&2; exit 1; }
done

node bin/tessera.js info
echo

read -r -a benches <<< "${BENCHES:-op-overhead train-mlp train-cnn}"
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
results=()
status=0
for b in "${benches[@]}"; do
  echo "=== $b $(date -u +%FT%TZ)"
  node "dist/bench/$b.js" "$@" 2>&1 | tee "$log_dir/$b.log"
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
