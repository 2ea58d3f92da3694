# GPU run 5 (final of the session): image and TAEHV rows side by side with PyTorch CUDA fp16, at the session's last kernels.
# Run from the project root: bash bench/gpu/final.sh
source bench/gpu/prelude.sh
echo "== video bench"
timeout 150 $NODE dist/bench/video.js --machine h200-wan480-final --out "$OUT" --weights /tmp/taew2_1_randw.pth --taehv-py .gl/taehv.py --python python3 --runs 3 --hw 60,104 --frames 21 --settings full,preview --only webgpu-f32,torch:cuda-fp16 2>&1 | grep -v '^Warning'
echo "== gpu profile"
timeout 60 $NODE dist/bench/gpuProfile.js video /tmp/taew2_1_randw.pth 21 60,104 2>&1 | grep -v '^Warning' | head -10
echo "== image bench"
timeout 150 $NODE dist/bench/run.js --machine h200-final --out "$OUT" --sizes 64,128 --rounds 1 --only wgsl-f32,auto,native,linear,torch:cuda-fp16 2>&1 | tail -14
