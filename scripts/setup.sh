#!/usr/bin/env bash
# Idempotent set-up on Debian 12 (as root, or through sudo): system packages, npm dependencies,
# the native addon and the TypeScript build. A second run only checks, and does no needless work.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# LibTorch and an OpenMP OpenBLAS (without it, LibTorch falls back to the reference BLAS and linear
# layers run ~25x slower); PyTorch and TorchVision for reference fixtures and benchmark peers;
# Fashion-MNIST for the main job; Chromium to check the HTML report in a real browser; ONNX
# (python3-onnx) for its onnx.proto, from which the exporter's messages are generated, and its checker;
# Gloo's headers, which LibTorch's c10d headers include, for the distributed part of the addon;
# libjpeg-turbo's headers and library for the addon's native JPEG path (native/csrc/jpeg_*.cc).
PACKAGES=(libtorch-dev libopenblas0-openmp python3-torch python3-torchvision dataset-fashion-mnist chromium python3-onnx libgloo-dev libjpeg62-turbo-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies, only when the lockfile changed since the last install. `npm ci` runs our
# install script, which builds the addon.
stamp=node_modules/.tessera-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci"
  # onnxruntime-node ships its CPU binary; its install script only fetches a CUDA build from the
  # network. package.json's allowScripts denies it (npm 11); the variable skips it for older npm.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
  # New type packages can leave tsc's incremental state inconsistent (`using` on a Tensor then
  # fails to type-check); after a dependency change, build the TypeScript from scratch.
  rm -f dist/.tsbuildinfo
else
  node scripts/build-native.mjs | grep -v "^make: " || true
fi

# TypeScript, incremental: a no-op when nothing changed.
node node_modules/typescript/bin/tsc -p tsconfig.json
