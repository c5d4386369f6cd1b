#!/usr/bin/env bash
# The main job: set up what is missing, then show the engine and train a small network on Fashion-MNIST.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/tessera.js info
node bin/tessera.js demo
