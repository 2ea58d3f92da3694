#!/usr/bin/env python3
"""Makes examples/wan.safetensors, the shipped real video example (`taesd-web decode --example wan`).

Input: upstream's examples/test_latents_wan.pth from github.com/madebyollin/taehv (MIT) at commit
1f14a568f24bf8811e0a0ac601613e04fc1581e8, a real Wan 2.1 latent [1,16,16,40,64] in bfloat16
(a cake on a plate). It is a bare tensor, not a state dict, so it is read with PyTorch:

    git --git-dir=<taehv mirror> show 1f14a56:examples/test_latents_wan.pth > /tmp/test_latents_wan.pth
    /usr/bin/python3 scripts/make-wan-example.py /tmp/test_latents_wan.pth examples/wan.safetensors

Output: tensor `latent` [1,16,FRAMES,40,64], the first FRAMES latent frames (the first is Wan's
single-frame one; contiguous, as TAEHV's memory needs), the bfloat16 bits unchanged; metadata
model, source and licence. FRAMES = 5 gives 17 frames of 320x512 and a 400 KB file. Rerunning it
writes the same bytes.
"""
import json
import struct
import sys

import torch

COMMIT = "1f14a568f24bf8811e0a0ac601613e04fc1581e8"
FRAMES = 5


def main(src: str, out: str) -> None:
    latent = torch.load(src, map_location="cpu", weights_only=True)
    if not (torch.is_tensor(latent) and latent.dtype == torch.bfloat16 and tuple(latent.shape) == (1, 16, 16, 40, 64)):
        sys.exit(f"{src}: expected upstream's bf16 [1,16,16,40,64] latent, got {getattr(latent, 'shape', type(latent))}")
    crop = latent[:, :, :FRAMES].contiguous()
    data = crop.view(torch.int16).numpy().astype("<i2").tobytes()
    header = {
        "__metadata__": {
            "model": "taew2_1",
            "source": f"github.com/madebyollin/taehv@{COMMIT} examples/test_latents_wan.pth: a real Wan 2.1 latent "
                      f"[1,16,16,40,64]; its first {FRAMES} latent frames, bf16 bits unchanged (scripts/make-wan-example.py)",
            "licence": "MIT, Copyright (c) 2025 Ollin Boer Bohan (see examples/LICENSE-taehv)",
        },
        "latent": {"dtype": "BF16", "shape": list(crop.shape), "data_offsets": [0, len(data)]},
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # safetensors pads the header to 8 bytes
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    print(f"wrote {out}: latent {list(crop.shape)} bf16, {8 + len(text) + len(data)} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make-wan-example.py <test_latents_wan.pth> <out.safetensors>")
    main(sys.argv[1], sys.argv[2])
