#!/usr/bin/env bash
# The device kit for the GPU run of the benchmark (bench/GPU-RUN.md, ../shared/GPU.md): what
# ../shared/tools/device-kit.sh packs (Node, dist/, Dawn, weights, latents, torch_time.py), plus what
# bench/run.js needs beyond it, added to the same .device/runtime.tar.xz that device-env.sh unpacks:
# onnxruntime-node's linux-x64 binaries (the native and bare onnxruntime rows) and onnxruntime-web's
# Node WASM build and its two WebGPU builds (the wasm and onnxruntime-web webgpu EP rows on Dawn).
# Run from the project root after `npm run build`; fails if .gl and .device pass 64 MiB together.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shared=$(cd "${TAESD_SHARED:-../shared}" && pwd)
# device-kit.sh writes .git/info/exclude, which a git worktree does not have (.git is a file there):
# it runs in a scratch folder holding dist/, node_modules and the .gl/ of an earlier kit, then the kit comes back.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/.git/info"
cp -r dist "$scratch/"
ln -s "$root/node_modules" "$scratch/node_modules"
[ -d .gl ] && mv .gl "$scratch/"
(cd "$scratch" && TAESD_SHARED="$shared" bash "$shared/tools/device-kit.sh")
rm -rf .device && mv "$scratch/.gl" "$scratch/.device" .
web=node_modules/onnxruntime-web/dist
extra=(
  node_modules/onnxruntime-common
  node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/bin/napi-v6/linux/x64
  node_modules/onnxruntime-web/package.json
  "$web"/ort.node.min.mjs "$web"/ort-wasm-simd-threaded.mjs "$web"/ort-wasm-simd-threaded.wasm
  "$web"/ort.webgpu.bundle.min.mjs "$web"/ort-wasm-simd-threaded.asyncify.mjs "$web"/ort-wasm-simd-threaded.asyncify.wasm
  "$web"/ort.all.bundle.min.mjs "$web"/ort-wasm-simd-threaded.jsep.mjs "$web"/ort-wasm-simd-threaded.jsep.wasm
)
xz -dc .device/runtime.tar.xz > .device/runtime.tar
tar -rf .device/runtime.tar "${extra[@]}"
rm .device/runtime.tar.xz
xz -T2 -6 .device/runtime.tar
# The video rows (bench/video.js): random taew2_1 weights (same cost as the real ones; 22 MB, 2.5 MB
# packed) and upstream's taehv.py for the PyTorch row, from TAEHV_PY (never committed; without it
# the PyTorch video rows say they were skipped).
video=$(mktemp -d)
cp "$shared"/models/test/taew2_1_randw.pth "$video"/
if [ -n "${TAEHV_PY:-}" ]; then cp "$TAEHV_PY" "$video"/taehv.py; else echo "bench/kit.sh: TAEHV_PY not set: no PyTorch video rows" >&2; fi
tar -C "$video" -cJf .device/video.tar.xz .
rm -rf "$video"
total=$(du -sbc .gl .device | tail -1 | cut -f1)
echo "bench/kit.sh: .gl + .device = $((total / 1048576)) MiB (limit 64)"
[ "$total" -le $((64 * 1048576)) ] || { echo "bench/kit.sh: over 64 MiB" >&2; exit 1; }
