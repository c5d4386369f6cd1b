#!/usr/bin/env bash
# The whole test suite: set up what is missing, check the generated code is current, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/codegen/main.js --check
node scripts/gen-onnx-proto.mjs --check
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
node --test --test-reporter=spec "${files[@]}"
