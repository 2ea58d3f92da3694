"""The step message: one safetensors file per sampler step, the same bytes on the socket and on disk.

Tensor ``latent`` (F16, the sampler's layout: [B,C,h,w] for images, [B,C,T,h,w] for video) and a
``__metadata__`` of strings that says what a viewer needs to pick a decoder. Needs numpy only;
torch tensors are accepted (copied to the CPU here, so call it off the sampler's thread).
"""
import json
import math
import struct

import numpy as np

FORMAT = "taesd-web.step/1"
F16_MAX = 65504.0
# A header stays small: a few strings; this caps what a reader must parse.
MAX_METADATA_CHARS = 4096


def _to_numpy_f16(x0):
    if hasattr(x0, "detach"):  # a torch tensor, on any device and dtype
        import torch

        x0 = x0.detach().to(device="cpu", dtype=torch.float32).numpy()
    a = np.asarray(x0, dtype=np.float32)
    # f16 overflows to inf past 65504; a clamp keeps a wild step decodable (NaN stays NaN).
    return np.clip(a, -F16_MAX, F16_MAX).astype("<f2")


def _text(name, value):
    if value is None:
        return ""
    s = str(value)
    if len(s) > 256:
        raise ValueError(f"{name} is over 256 characters")
    return s


def encode_latent(x0, *, latent_format, step, total_steps, prompt_id=None, node_id=None, sigma=None, extra=None):
    """One step's x0 -> the bytes of a safetensors file (see the module docstring).

    ``latent_format`` is ComfyUI's latent-format class name (``SDXL``, ``Flux2``, ``Wan21``, ...);
    ``step`` is 0-based, ``total_steps`` the sampler's count. ``extra``: more string metadata.
    """
    if not isinstance(latent_format, str) or not latent_format.isidentifier():
        raise ValueError(f"latent_format must be a ComfyUI class name, got {latent_format!r}")
    if not (isinstance(step, int) and isinstance(total_steps, int) and 0 <= step and 0 < total_steps):
        raise ValueError(f"step and total_steps must be integers, 0 <= step, 0 < total_steps (got {step!r}, {total_steps!r})")
    a = _to_numpy_f16(x0)
    if a.ndim not in (4, 5) or 0 in a.shape:
        raise ValueError(f"x0 must be [B,C,h,w] or [B,C,T,h,w] with no empty dimension, got shape {list(a.shape)}")
    meta = {
        "format": FORMAT,
        "latent_format": latent_format,
        "latent_space": "model",
        "layout": "BCHW" if a.ndim == 4 else "BCTHW",
        "step": str(step),
        "total_steps": str(total_steps),
        "prompt_id": _text("prompt_id", prompt_id),
        "node_id": _text("node_id", node_id),
        "sigma": "" if sigma is None else repr(float(sigma)),
    }
    for k, v in (extra or {}).items():
        meta[str(k)] = _text(k, v)
    data = np.ascontiguousarray(a).tobytes()
    header = {"__metadata__": meta, "latent": {"dtype": "F16", "shape": list(a.shape), "data_offsets": [0, len(data)]}}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if len(text) > MAX_METADATA_CHARS + 256:
        raise ValueError("metadata is too large")
    text += b" " * (-len(text) % 8)  # the tensor data starts 8-byte aligned
    return struct.pack("<Q", len(text)) + text + data


def decode_latent(message):
    """The inverse of encode_latent: (float32 numpy array, metadata dict). ValueError when malformed."""
    message = bytes(message)
    if len(message) < 8:
        raise ValueError("message is shorter than a safetensors header")
    (n,) = struct.unpack("<Q", message[:8])
    if n > len(message) - 8 or n > MAX_METADATA_CHARS + 1024:
        raise ValueError("safetensors header length is out of range")
    header = json.loads(message[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    t = header.get("latent")
    if not isinstance(t, dict) or t.get("dtype") != "F16":
        raise ValueError("message has no F16 tensor named latent")
    shape = [int(d) for d in t["shape"]]
    begin, end = t["data_offsets"]
    if end - begin != 2 * math.prod(shape) or 8 + n + end > len(message):
        raise ValueError("tensor latent does not match its shape")
    body = message[8 + n + begin : 8 + n + end]
    return np.frombuffer(body, dtype="<f2").astype(np.float32).reshape(shape), meta
