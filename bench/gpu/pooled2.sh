# GPU run 3: pooled2 buffers for TAEHV on WebGPU; a CPU profile of one 480x832x81 decode.
set -u
cp models/taef2_decoder.pth .device/data/
source .device/device-env.sh
rm -rf dist && tar -xJf .gl/distnew.tar.xz
python3 - <<'PY'
import importlib.util, sys, types, torch
sys.modules["tqdm"] = types.ModuleType("tqdm"); m = types.ModuleType("tqdm.auto"); m.tqdm = lambda it=None, *a, **k: it; sys.modules["tqdm.auto"] = m
spec = importlib.util.spec_from_file_location("taehv", ".gl/taehv.py"); t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)
torch.manual_seed(0); torch.save(t.TAEHV(checkpoint_path=None).state_dict(), "/tmp/taew2_1_randw.pth")
PY
echo "== video bench"
timeout 170 $NODE dist/bench/video.js --machine h200-wan480-pooled2 --out "$OUT" --weights /tmp/taew2_1_randw.pth --taehv-py .gl/taehv.py --python python3 --runs 3 --hw 60,104 --frames 21 --settings full,preview --only webgpu-f32,torch:cuda-fp16 2>&1 | grep -v '^Warning'
echo "== cpu profile"
mkdir -p "$OUT/prof" && timeout 90 $NODE --cpu-prof --cpu-prof-dir="$OUT/prof" dist/bench/video.js --run webgpu-f32 21 full --weights /tmp/taew2_1_randw.pth --runs 2 --hw 60,104 2>&1 | grep -v '^Warning'
echo "== gpu profile"
timeout 90 $NODE dist/bench/gpuProfile.js video /tmp/taew2_1_randw.pth 21 60,104 2>&1 | grep -v '^Warning' | head -8
