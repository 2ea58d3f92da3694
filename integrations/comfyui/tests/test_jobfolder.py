import json
import os
import tempfile
import unittest

import numpy as np

from taesd_web.jobfolder import JobFolderSink
from taesd_web.protocol import decode_latent, encode_latent
from taesd_web.publisher import Step


def send(sink, step, total=4, prompt="prompt-1"):
    x0 = np.full((1, 4, 2, 2), step, np.float32)
    sink(encode_latent(x0, latent_format="SDXL", step=step, total_steps=total, prompt_id=prompt), Step(None, "SDXL", step, total, prompt, "3", None))


class JobFolderSinkTest(unittest.TestCase):
    def test_writes_each_step_and_progress_json(self):
        with tempfile.TemporaryDirectory() as root:
            sink = JobFolderSink(root, "progress")
            send(sink, 0)
            folder = os.path.join(root, "progress", "prompt-1")
            with open(os.path.join(folder, "progress.json")) as f:
                record = json.load(f)
            self.assertEqual((record["status"], record["current_step"], record["progress_percent"]), ("generating", 0, 0))
            self.assertEqual((record["latest_latent"], record["latent_steps"], record["latest_image"]), ("step_0000.safetensors", [0], None))
            send(sink, 2)
            send(sink, 3)
            with open(os.path.join(folder, "progress.json")) as f:
                record = json.load(f)
            self.assertEqual((record["status"], record["current_step"], record["progress_percent"]), ("completed", 4, 100))
            self.assertEqual(record["latent_steps"], [0, 2, 3])
            self.assertEqual(sorted(os.listdir(folder)), ["progress.json", "step_0000.safetensors", "step_0002.safetensors", "step_0003.safetensors"])
            with open(os.path.join(folder, "step_0002.safetensors"), "rb") as f:
                latent, meta = decode_latent(f.read())
            self.assertEqual((meta["step"], latent[0, 0, 0, 0]), ("2", 2.0))

    def test_unsafe_names(self):
        with tempfile.TemporaryDirectory() as root:
            for bad in ("..", "../x", "a/b", "", "/abs"):
                with self.assertRaises(ValueError, msg=bad):
                    JobFolderSink(root, bad)
            sink = JobFolderSink(root)
            send(sink, 0, prompt="../escape")
            self.assertEqual(os.listdir(os.path.join(root, "progress")), ["comfyui"])


if __name__ == "__main__":
    unittest.main()
