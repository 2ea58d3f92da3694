"""Test support: a raw little-endian float32 file -> a step message, through protocol.encode_latent.

python3 -m tests.make_message <in.f32> <B,C,h,w[,T...]> <latent_format> <step> <total_steps> <out.safetensors>
(run from integrations/comfyui).
"""
import sys

import numpy as np

from taesd_web.protocol import encode_latent

raw, shape, latent_format, step, total, out = sys.argv[1:7]
x0 = np.fromfile(raw, dtype="<f4").reshape([int(d) for d in shape.split(",")])
try:
    import torch

    x0 = torch.from_numpy(x0)  # as the sampler hands it over
except ImportError:
    pass
with open(out, "wb") as f:
    f.write(encode_latent(x0, latent_format=latent_format, step=int(step), total_steps=int(total), prompt_id="test-prompt", node_id="3", sigma=0.5))
