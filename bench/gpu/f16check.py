# WGSL f16 (and f32) on a GPU against the reference, through the CLI: a random Wan 2.1 latent
# decoded by upstream's taehv.py (float32, on CUDA where there is one) beside `taesd-web decode
# --backend webgpu --precision P`, and the shipped TAEF2 example against the native decode. Dawn
# gates shader-f16 on NVIDIA behind a toggle (src/gpu/device.ts), so this is what says whether its
# f16 is right there. Prints the largest difference in 8-bit levels and the share of values off by
# more than 3 levels (#21's bar for f16).
#   python3 bench/gpu/f16check.py "<node> bin/taesd-web.js" <taehv.py> <taew2_1 weights .pth>
import importlib.util, json, subprocess, sys, tempfile, types
from pathlib import Path

import numpy as np
import torch

cli, taehv_py, weights = sys.argv[1].split(), sys.argv[2], sys.argv[3]
work = Path(tempfile.mkdtemp(prefix="f16check-"))
device = "cuda" if torch.cuda.is_available() else "cpu"


def read_image(path):
    """Tensor `image` of a safetensors file the CLI wrote (float32)."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    meta = json.loads(raw[8:8 + n])["image"]
    start, end = meta["data_offsets"]
    return np.frombuffer(raw[8 + n + start:8 + n + end], dtype=np.float32).reshape(meta["shape"])


def decode(*args):
    out = work / f"out{len(list(work.iterdir()))}.safetensors"
    done = subprocess.run([*cli, "decode", *args, "--out", str(out)], capture_output=True, text=True)
    if done.returncode:
        return None, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    return read_image(out), None


def compare(name, got, want):
    levels = np.abs(np.round(got * 255) - np.round(want * 255))
    print(f"{name}: max abs {np.abs(got - want).max():.2e}, max {levels.max():.0f} levels, "
          f"{(levels > 3).mean() * 100:.3f}% over 3 levels, shape {list(got.shape)}")


sys.modules["tqdm"] = types.ModuleType("tqdm")
tqdm_auto = types.ModuleType("tqdm.auto")
tqdm_auto.tqdm = lambda it=None, *a, **k: it
sys.modules["tqdm.auto"] = tqdm_auto
spec = importlib.util.spec_from_file_location("taehv", taehv_py)
taehv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(taehv)

torch.manual_seed(0)
latent = torch.randn(1, 16, 3, 30, 52)
np.save(work / "latent.npy", latent.numpy())
model = taehv.TAEHV(checkpoint_path=weights).to(device).float()
with torch.no_grad():
    want = model.decode_video(latent.to(device).transpose(1, 2), parallel=True, show_progress_bar=False)[0].cpu().numpy()
print(f"reference: upstream taehv.py, float32 on {device}, {list(want.shape)}")
for precision in ("f32", "f16"):
    got, err = decode(str(work / "latent.npy"), "--model", "taew2_1", "--weights", weights, "--backend", "webgpu", "--precision", precision)
    print(f"taew2_1 webgpu {precision}: {err}") if err else compare(f"taew2_1 webgpu {precision}", got, want)

native, err = decode("--example", "--backend", "native")
if err:
    print(f"taef2 native: {err}")
else:
    for precision in ("f32", "f16"):
        got, err = decode("--example", "--backend", "webgpu", "--precision", precision)
        print(f"taef2 webgpu {precision}: {err}") if err else compare(f"taef2 webgpu {precision} vs native", got, native)
