# GPU run 2: warp-wide conv variants + tuned video kernels + bigger tuning sample; profile per kernel.
# Run from the project root: bash bench/gpu/tuned-profile.sh
source bench/gpu/prelude.sh
echo "== video bench"
timeout 120 $NODE dist/bench/video.js --machine h200-wan480-tuned --out "$OUT" --weights /tmp/taew2_1_randw.pth --taehv-py .gl/taehv.py --python python3 --runs 3 --hw 60,104 --frames 21 --settings full,preview --only webgpu-f32 2>&1 | grep -v '^Warning'
echo "== video profile"
timeout 90 $NODE dist/bench/gpuProfile.js video /tmp/taew2_1_randw.pth 21 60,104 2>&1 | grep -v '^Warning' | head -45
echo "== image profile"
timeout 60 $NODE dist/bench/gpuProfile.js image models/taef2_decoder.pth 64 2>&1 | grep -v '^Warning' | head -25
echo "== image bench"
timeout 150 $NODE dist/bench/run.js --machine h200-tuned --out "$OUT" --sizes 64,128 --rounds 1 --only wgsl-f32,auto 2>&1 | tail -12
