# GPU run 3: pooled2 buffers for TAEHV on WebGPU; a CPU profile of one 480x832x81 decode.
# Run from the project root: bash bench/gpu/pooled2.sh
source bench/gpu/prelude.sh
echo "== video bench"
timeout 170 $NODE dist/bench/video.js --machine h200-wan480-pooled2 --out "$OUT" --weights /tmp/taew2_1_randw.pth --taehv-py .gl/taehv.py --python python3 --runs 3 --hw 60,104 --frames 21 --settings full,preview --only webgpu-f32,torch:cuda-fp16 2>&1 | grep -v '^Warning'
echo "== cpu profile"
mkdir -p "$OUT/prof" && timeout 90 $NODE --cpu-prof --cpu-prof-dir="$OUT/prof" dist/bench/video.js --run webgpu-f32 21 full --weights /tmp/taew2_1_randw.pth --runs 2 --hw 60,104 2>&1 | grep -v '^Warning'
echo "== gpu profile"
timeout 90 $NODE dist/bench/gpuProfile.js video /tmp/taew2_1_randw.pth 21 60,104 2>&1 | grep -v '^Warning' | head -8
