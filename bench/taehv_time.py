#!/usr/bin/env python3
"""Upstream TAEHV's decode speed on PyTorch, for the video rows of the benchmark (bench/video.ts).
  taehv_time.py TAEHV_PY WEIGHTS FRAMES H,W full|preview cpu|cuda fp32|fp16 [runs=3]
TAEHV_PY is upstream's taehv.py (github.com/madebyollin/taehv at 1f14a56, fetched at run time, never
committed); the model follows WEIGHTS' file name as upstream's rules do. preview: time upscale off
(1/4 of the frames) and the last space upscale off (1/2 the size). Decodes a seeded random latent
[1,FRAMES,16,H,W] (NTCHW) once untimed, then `runs` times; prints one JSON line: the median ms,
the output frames, and the peak RSS. Parallel decode up to 5 latent frames, sequential above
(upstream's parallel form holds every frame of every stage at once)."""
import importlib.util, json, resource, sys, time, torch
path, weights, frames, hw, setting, dev, dtype = sys.argv[1:8]
runs = int(sys.argv[8]) if len(sys.argv) > 8 else 3
if importlib.util.find_spec("tqdm") is None:  # upstream imports tqdm for its progress bars, which are off here
    import types
    class _NoBar:
        def __init__(self, it=None, *a, **k): self.it = it
        def __iter__(self): return iter(self.it)
        def __enter__(self): return self
        def __exit__(self, *a): pass
        def update(self, *a): pass
        def close(self): pass
    sys.modules["tqdm"] = types.ModuleType("tqdm"); sys.modules["tqdm.auto"] = types.ModuleType("tqdm.auto")
    sys.modules["tqdm.auto"].tqdm = _NoBar
spec = importlib.util.spec_from_file_location("taehv", path)
taehv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(taehv)
preview = setting == "preview"
kw = dict(decoder_time_upscale=(False, False), decoder_space_upscale=(True, True, False)) if preview else {}
dt = torch.float16 if dtype == "fp16" else torch.float32
model = taehv.TAEHV(checkpoint_path=weights, **kw).to(dev, dt).eval()
h, w = (int(v) for v in hw.split(","))
g = torch.Generator().manual_seed(1)
z = torch.randn(1, int(frames), model.latent_channels, h, w, generator=g).to(dev, dt)
parallel = int(frames) <= 5
ts = []
with torch.no_grad():
    for i in range(runs + 1):
        if dev == "cuda": torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = model.decode_video(z, parallel=parallel, show_progress_bar=False)
        if dev == "cuda": torch.cuda.synchronize()
        if i: ts.append((time.perf_counter() - t0) * 1000)
ms = sorted(ts)[len(ts) // 2]
print(json.dumps({"ms": round(ms, 1), "frames": out.shape[1], "height": out.shape[3], "width": out.shape[4],
                  "peakRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "parallel": parallel,
                  "note": f"torch {torch.__version__}, {torch.get_num_threads()} threads, {dev} {dtype}"}))
