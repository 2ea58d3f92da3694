# GPU run 5 (final of the session): image and TAEHV rows side by side with PyTorch CUDA fp16, at the session's last kernels.
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
timeout 150 $NODE dist/bench/video.js --machine h200-wan480-final --out "$OUT" --weights /tmp/taew2_1_randw.pth --taehv-py .gl/taehv.py --python python3 --runs 3 --hw 60,104 --frames 21 --settings full,preview --only webgpu-f32,torch:cuda-fp16 2>&1 | grep -v '^Warning'
echo "== gpu profile"
timeout 60 $NODE dist/bench/gpuProfile.js video /tmp/taew2_1_randw.pth 21 60,104 2>&1 | grep -v '^Warning' | head -10
echo "== image bench"
timeout 150 $NODE dist/bench/run.js --machine h200-final --out "$OUT" --sizes 64,128 --rounds 1 --only wgsl-f32,auto,native,linear,torch:cuda-fp16 2>&1 | tail -14
