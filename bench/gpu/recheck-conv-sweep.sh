# GPU run 1 of session 2026-12-04b: fresh image bench at current main, conv sweep, TAEHV WebGPU baseline.
# Run from the project root: bash bench/gpu/recheck-conv-sweep.sh
source bench/gpu/prelude.sh
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
echo "== conv sweep"
V=tiled-4x2-k4,tiled-4x4-k4,tiled-2x2-k4,tiled-4x2-k2,tiled-4x4-k2,tiled-4x4-k1,tiled-8x2-k4,tiled-8x4-k2,tiled-8x4-k1,tiled-4x8-k2,tiled-4x8-k1,tiled-4x4-k4-wg16x4,tiled-4x4-k2-wg16x8,tiled-2x4-k4-wg32x4,tiled-8x2-k2-wg16x8,tiled-4x4-k2-wg32x4,direct-8x2,direct-8x4,direct-4x4,direct-4x8,direct-8x8
for s in "256 20 64 64" "512 10 64 64" "128 20 128 128" "128 20 256 128" "64 40 256 256" "64 40 512 256"; do VARIANTS=$V timeout 60 $NODE dist/bench/conv.js $s 2>&1 | grep -v '^Warning'; done
echo "== image bench"
timeout 170 $NODE dist/bench/run.js --machine h200 --out "$OUT" --sizes 64,128 --rounds 1 --only wgsl-f32,auto,native,linear,torch:cuda-fp16 2>&1 | tail -40
echo "== video"
timeout 150 $NODE dist/bench/video.js --machine h200-wan480-s2 --out "$OUT" --weights /tmp/taew2_1_randw.pth --taehv-py .gl/taehv.py --python python3 --runs 2 --hw 60,104 --frames 21 --settings full,preview --only webgpu-f32 2>&1 | grep -v '^Warning'
