import struct
import unittest

import numpy as np

from taesd_web.protocol import decode_latent, encode_latent

try:
    import torch
except ImportError:  # numpy input is tested either way
    torch = None


class EncodeLatentTest(unittest.TestCase):
    def test_round_trip_numpy_image_layout(self):
        x = np.random.default_rng(1).standard_normal((2, 4, 5, 7)).astype(np.float32)
        msg = encode_latent(x, latent_format="SDXL", step=3, total_steps=20, prompt_id="p-1", node_id="9", sigma=1.25)
        back, meta = decode_latent(msg)
        self.assertEqual(back.shape, (2, 4, 5, 7))
        np.testing.assert_allclose(back, x.astype(np.float16).astype(np.float32))
        self.assertEqual(meta["latent_format"], "SDXL")
        self.assertEqual((meta["step"], meta["total_steps"], meta["prompt_id"], meta["node_id"]), ("3", "20", "p-1", "9"))
        self.assertEqual(float(meta["sigma"]), 1.25)
        self.assertEqual(meta["layout"], "BCHW")
        self.assertTrue(all(isinstance(v, str) for v in meta.values()))

    def test_is_a_safetensors_file_with_aligned_f16_data(self):
        msg = encode_latent(np.zeros((1, 16, 2, 3, 4), np.float32), latent_format="Wan21", step=0, total_steps=1)
        (n,) = struct.unpack("<Q", msg[:8])
        self.assertEqual(n % 8, 0)
        self.assertEqual(len(msg), 8 + n + 2 * 16 * 2 * 3 * 4)
        self.assertEqual(decode_latent(msg)[1]["layout"], "BCTHW")
        self.assertEqual(decode_latent(msg)[1]["prompt_id"], "")

    @unittest.skipIf(torch is None, "torch is not installed for this python")
    def test_torch_input_any_dtype(self):
        x = torch.randn(1, 128, 4, 4, dtype=torch.bfloat16)
        back, _ = decode_latent(encode_latent(x, latent_format="Flux2", step=0, total_steps=4))
        np.testing.assert_allclose(back, x.float().numpy().astype(np.float16).astype(np.float32))

    def test_out_of_f16_range_is_clamped_not_infinite(self):
        back, _ = decode_latent(encode_latent(np.full((1, 4, 1, 1), 1e6, np.float32), latent_format="SD15", step=0, total_steps=1))
        self.assertTrue(np.isfinite(back).all())
        self.assertEqual(back.max(), 65504.0)

    def test_rejects_bad_arguments(self):
        x = np.zeros((1, 4, 2, 2), np.float32)
        for kwargs in ({"latent_format": "not a name"}, {"latent_format": ""}, {"step": -1}, {"total_steps": 0}, {"step": 1.5}):
            args = {"latent_format": "SD15", "step": 0, "total_steps": 1, **kwargs}
            with self.assertRaises(ValueError, msg=str(kwargs)):
                encode_latent(x, **args)
        with self.assertRaises(ValueError):
            encode_latent(np.zeros((4, 2, 2), np.float32), latent_format="SD15", step=0, total_steps=1)
        with self.assertRaises(ValueError):
            encode_latent(x, latent_format="SD15", step=0, total_steps=1, prompt_id="x" * 300)

    def test_decode_rejects_truncation(self):
        msg = encode_latent(np.zeros((1, 4, 2, 2), np.float32), latent_format="SD15", step=0, total_steps=1)
        for cut in (0, 7, 20, len(msg) - 1):
            with self.assertRaises(ValueError):
                decode_latent(msg[:cut])


if __name__ == "__main__":
    unittest.main()
