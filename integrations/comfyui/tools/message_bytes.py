"""Bytes per step: a taesd-web step message (f16 latent) vs ComfyUI's JPEG preview at 512 px.

python3 -m tools.message_bytes [../../../shared/golden/taef2_astronaut.safetensors] (from
integrations/comfyui). The golden holds a real photo's FLUX.2 latent and its TAEF2 decode (512x512):
the JPEG is that image saved as ComfyUI's server saves previews (PIL, quality 95). The other rows
are the message sizes of a 512x512 image's latent in each format's sampler layout.
"""
import io
import json
import struct
import sys

import numpy as np
from PIL import Image

from taesd_web.protocol import encode_latent

path = sys.argv[1] if len(sys.argv) > 1 else "../../../shared/golden/taef2_astronaut.safetensors"
with open(path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8 : 8 + n])
info = header["image"]
begin, end = info["data_offsets"]
image = np.frombuffer(raw[8 + n + begin : 8 + n + end], dtype="<f4").reshape(info["shape"])
rgb = (np.clip(image, 0, 1) * 255).round().astype(np.uint8).transpose(1, 2, 0)
jpeg = io.BytesIO()
Image.fromarray(rgb).save(jpeg, format="JPEG", quality=95)
small = io.BytesIO()
Image.fromarray(rgb).resize((64, 64), Image.BILINEAR).resize((512, 512), Image.BILINEAR).save(small, format="JPEG", quality=95)
print(f"ComfyUI JPEG preview, TAESD-decoded photo 512x512 q95: {len(jpeg.getvalue())} B")
print(f"ComfyUI JPEG preview, latent2rgb (64x64 upscaled to 512) q95: {len(small.getvalue())} B")
rows = [("SD15", (1, 4, 64, 64)), ("SDXL", (1, 4, 64, 64)), ("SD3", (1, 16, 64, 64)), ("Flux", (1, 16, 64, 64)),
        ("Flux2", (1, 128, 32, 32)), ("Wan21 81 frames 480x832", (1, 16, 21, 60, 104)), ("Wan21 1 frame 512", (1, 16, 1, 64, 64))]
for name, shape in rows:
    fmt = name.split()[0]
    msg = encode_latent(np.zeros(shape, np.float32), latent_format=fmt, step=12, total_steps=30, prompt_id="0" * 36, node_id="3", sigma=0.5)
    print(f"step message {name} {list(shape)}: {len(msg)} B")
