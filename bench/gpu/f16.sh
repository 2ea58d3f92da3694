# GPU run prepared in the fourth session of 2026-12-04 (no GPU then): WGSL f16 on NVIDIA, which Dawn
# now exposes (src/gpu/device.ts turns on vulkan_enable_f16_on_nvidia), checked against upstream and
# timed beside f32 and PyTorch CUDA fp16, with the per-kernel profile in f16. Most wanted first; the
# timeouts add up to about 500 s (the call's limit is 540).
# Run from the project root: bash bench/gpu/f16.sh (keep examples/astronaut.safetensors in the tree)
source bench/gpu/prelude.sh
$NODE --input-type=module -e "const { getGpu } = await import('./dist/src/gpu/device.js'); const a = await (await getGpu()).requestAdapter(); console.log('adapter features:', [...a.features].sort().join(' '))" 2>&1 | grep -v '^Warning'
echo "== f16 check"
timeout 110 python3 bench/gpu/f16check.py "$NODE bin/taesd-web.js" .gl/taehv.py /tmp/taew2_1_randw.pth
echo "== video bench"
timeout 150 $NODE dist/bench/video.js --machine h200-wan480-f16 --out "$OUT" --weights /tmp/taew2_1_randw.pth --taehv-py .gl/taehv.py --python python3 --runs 2 --hw 60,104 --frames 21 --settings full,preview --only webgpu-f16,webgpu-f32,torch:cuda-fp16 2>&1 | grep -v '^Warning'
echo "== gpu profile, f16"
PRECISION=f16 timeout 50 $NODE dist/bench/gpuProfile.js video /tmp/taew2_1_randw.pth 21 60,104 2>&1 | grep -v '^Warning' | head -16
echo "== conv 64->3 (the final RGB conv: 13% of the last f32 profile), split reductions beside the direct and tiled kernels"
VARIANTS=direct-8x2,direct-8x4,direct-4x8,tiled-4x1-k2-wg64x1,split-2-wg16x16,split-2-wg8x32,split-2-wg4x64 timeout 30 $NODE dist/bench/conv.js 512 20 64 3 2>&1 | grep -v '^Warning'
echo "== conv 64->64 at 512x512 in f16 storage: f32 and f16 products"
PRECISION=f16 VARIANTS=direct-8x4,direct-4x8,tiled-4x4-k2-wg32x4,tiled-2x4-k4-wg32x4,tiled-8x2-k2-wg16x8,tiled-4x4-k4-f16,tiled-4x4-k2-f16-wg32x4,tiled-2x4-k4-f16-wg32x4,tiled-8x2-k2-f16-wg16x8 timeout 40 $NODE dist/bench/conv.js 512 20 64 64 2>&1 | grep -v '^Warning'
echo "== image bench"
timeout 90 $NODE dist/bench/run.js --machine h200-f16 --out "$OUT" --sizes 64,128 --rounds 1 --only wgsl-f16,wgsl-f32,auto,torch:cuda-fp16 2>&1 | tail -14
