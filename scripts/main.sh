#!/usr/bin/env bash
# The main job: set up what is missing, then train the default model on Fashion-MNIST with the
# default recipe (`tessera train` with no arguments): progress, test accuracy, and the report's path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/tessera.js info
node bin/tessera.js train "$@"
