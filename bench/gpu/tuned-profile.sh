# GPU run 2: warp-wide conv variants + tuned video kernels + bigger tuning sample; profile per kernel.
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
timeout 120 $NODE dist/bench/video.js --machine h200-wan480-tuned --out "$OUT" --weights /tmp/taew2_1_randw.pth --taehv-py .gl/taehv.py --python python3 --runs 3 --hw 60,104 --frames 21 --settings full,preview --only webgpu-f32 2>&1 | grep -v '^Warning'
echo "== video profile"
timeout 90 $NODE dist/bench/gpuProfile.js video /tmp/taew2_1_randw.pth 21 60,104 2>&1 | grep -v '^Warning' | head -45
echo "== image profile"
timeout 60 $NODE dist/bench/gpuProfile.js image models/taef2_decoder.pth 64 2>&1 | grep -v '^Warning' | head -25
echo "== image bench"
timeout 150 $NODE dist/bench/run.js --machine h200-tuned --out "$OUT" --sizes 64,128 --rounds 1 --only wgsl-f32,auto 2>&1 | tail -12
