"""The OUTER_SAMPLE wrapper run the way CFGGuider.sample runs it, on ComfyUI's real modules.

Needs a ComfyUI checkout (COMFYUI_PATH): comfy/patcher_extension.py, comfy/latent_formats.py and
comfy_execution/utils.py import with torch alone. comfy/samplers.py does not import here (scipy,
torchsde, einops, safetensors), so the sampler is a small Euler loop with KSAMPLER's callback.
"""
import os
import sys
import threading
import time
import unittest

COMFYUI = os.environ.get("COMFYUI_PATH")
try:
    import torch

    if COMFYUI:
        sys.path.insert(0, COMFYUI)
    import comfy.latent_formats as latent_formats
    import comfy.patcher_extension as patcher_extension
    from comfy_execution.utils import CurrentNodeContext
except ImportError as e:
    SKIP = f"ComfyUI's modules are not importable (set COMFYUI_PATH to a ComfyUI checkout): {e}"
else:
    SKIP = None

from taesd_web.protocol import decode_latent
from taesd_web.publisher import StepPublisher
from taesd_web.wrapper import WRAPPER_KEY, StepWrapper, current_ids


class Guider:
    """What the wrapper reads of ComfyUI's CFGGuider: model_patcher.model.latent_format (a real one)."""

    def __init__(self, latent_format):
        self.model_patcher = type("Patcher", (), {})()
        self.model_patcher.model = type("Model", (), {"latent_format": latent_format})()
        self.model_options = {}

    def outer_sample(self, noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None, disable_pbar=False, seed=None, latent_shapes=None):
        x = noise * sigmas[0]
        total = len(sigmas) - 1
        for i in range(total):
            denoised = x * 0.5 + i  # a stand-in model: x0 changes every step
            if callback is not None:
                callback(i, denoised, x, total)
            x = denoised + (x - denoised) * (sigmas[i + 1] / sigmas[i])
        return x

    def sample(self, wrappers_from, noise, sigmas, callback, latent_shapes=None):
        # As CFGGuider.sample: the OUTER_SAMPLE wrappers of model_options around outer_sample.
        executor = patcher_extension.WrapperExecutor.new_class_executor(
            self.outer_sample, self,
            patcher_extension.get_all_wrappers(patcher_extension.WrappersMP.OUTER_SAMPLE, wrappers_from, is_model_options=True))
        return executor.execute(noise, noise, None, sigmas, None, callback, False, 0, latent_shapes=latent_shapes)


def attach(wrapper):
    """model_options with the wrapper, the way it gets there in ComfyUI: ModelPatcher.add_wrapper_with_key
    keeps it in the patcher's wrappers dict, and sampler_helpers.prepare_model_patcher merges that into
    model_options["transformer_options"]["wrappers"] before CFGGuider.sample reads them."""
    patcher = {}
    patcher_extension.add_wrapper_with_key(patcher_extension.WrappersMP.OUTER_SAMPLE, WRAPPER_KEY, wrapper, patcher)
    model_options = {"transformer_options": {}}
    patcher_extension.merge_nested_dicts(model_options["transformer_options"].setdefault("wrappers", {}), patcher["wrappers"], copy_dict1=False)
    return model_options


@unittest.skipIf(SKIP, SKIP)
class StepWrapperTest(unittest.TestCase):
    def run_sampler(self, latent_format, noise, latent_shapes=None, steps=6):
        got, seen = [], []
        done = threading.Event()

        def sink(message, st):
            got.append(decode_latent(message))
            if st.step == steps - 1:
                done.set()

        pub = StepPublisher([sink])
        guider = Guider(latent_format)
        model_options = attach(StepWrapper(pub))
        sigmas = torch.linspace(1.0, 0.0, steps + 1)
        try:
            with CurrentNodeContext("prompt-7", "12"):
                out = guider.sample(model_options, noise, sigmas, lambda i, x0, x, n: seen.append(i), latent_shapes)
            self.assertTrue(done.wait(10), "the last step was not published")
        finally:
            pub.close()
        return out, got, seen, sigmas

    def test_every_step_reaches_the_sink_with_its_metadata_and_the_original_callback_still_runs(self):
        noise = torch.randn(1, 16, 4, 4)
        out, got, seen, sigmas = self.run_sampler(latent_formats.Flux(), noise)
        self.assertEqual(seen, list(range(6)))
        self.assertEqual(out.shape, noise.shape)
        latent, meta = got[-1]
        self.assertEqual(meta["latent_format"], "Flux")
        self.assertEqual((meta["prompt_id"], meta["node_id"], meta["step"], meta["total_steps"]), ("prompt-7", "12", "5", "6"))
        self.assertAlmostEqual(float(meta["sigma"]), float(sigmas[5]), places=6)
        self.assertEqual(latent.shape, (1, 16, 4, 4))
        steps = [int(m["step"]) for _, m in got]
        self.assertEqual(steps, sorted(set(steps)))

    def test_packed_audio_video_latents_publish_the_video_part(self):
        video, audio = (1, 16, 3, 4, 6), (1, 8, 10)
        noise = torch.cat([torch.randn(video).reshape(1, 1, -1), torch.randn(audio).reshape(1, 1, -1)], dim=-1)
        _, got, _, _ = self.run_sampler(latent_formats.Wan21(), noise, latent_shapes=[video, audio])
        latent, meta = got[-1]
        self.assertEqual(meta["latent_format"], "Wan21")
        self.assertEqual(meta["layout"], "BCTHW")
        self.assertEqual(latent.shape, video)

    def test_ids_come_from_the_executing_node(self):
        self.assertEqual(current_ids(), (None, None))
        with CurrentNodeContext("p", "n"):
            self.assertEqual(current_ids(), ("p", "n"))

    def test_the_callback_returns_at_once_while_the_publisher_is_busy(self):
        gate = threading.Event()
        pub = StepPublisher([lambda m, st: gate.wait(10)])
        try:
            guider, options = Guider(latent_formats.SDXL()), attach(StepWrapper(pub))
            t = time.perf_counter()
            guider.sample(options, torch.randn(1, 4, 64, 64), torch.linspace(1, 0, 201), None)
            self.assertLess(time.perf_counter() - t, 5.0)
            self.assertGreater(pub.slots.dropped, 150)
        finally:
            gate.set()
            pub.close()


if __name__ == "__main__":
    unittest.main()


class ServerPreviewOffTest(unittest.TestCase):
    """ComfyUI's latent_preview does not import here (it needs safetensors, which Debian lacks), so
    this module stands in for it with the same class shape: LatentPreviewer and subclasses that
    override decode_latent_to_preview_image (as custom nodes' previewers do)."""

    def test_silences_every_previewer_while_asked_and_restores_them(self):
        import types

        from taesd_web.wrapper import ServerPreviewOff

        module = types.ModuleType("latent_preview")

        class LatentPreviewer:
            def decode_latent_to_preview_image(self, preview_format, x0):
                return ("JPEG", "image", 512)

        class Latent2RGBPreviewer(LatentPreviewer):
            pass

        class CustomPreviewer(Latent2RGBPreviewer):
            def decode_latent_to_preview_image(self, preview_format, x0):
                return ("JPEG", "custom", 512)

        module.LatentPreviewer = LatentPreviewer
        saved = sys.modules.get("latent_preview")
        sys.modules["latent_preview"] = module
        try:
            with ServerPreviewOff(lambda: False):
                self.assertEqual(CustomPreviewer().decode_latent_to_preview_image("JPEG", None)[1], "custom")
            silent = [True]
            with ServerPreviewOff(lambda: silent[0]):
                for cls in (LatentPreviewer, Latent2RGBPreviewer, CustomPreviewer):
                    self.assertIsNone(cls().decode_latent_to_preview_image("JPEG", None))
                silent[0] = False  # a viewer went away mid-run: ComfyUI's preview is back at the next step
                self.assertEqual(Latent2RGBPreviewer().decode_latent_to_preview_image("JPEG", None)[1], "image")
            self.assertEqual(Latent2RGBPreviewer().decode_latent_to_preview_image("JPEG", None)[1], "image")
            self.assertEqual(CustomPreviewer().decode_latent_to_preview_image("JPEG", None)[1], "custom")
            self.assertNotIn("decode_latent_to_preview_image", Latent2RGBPreviewer.__dict__)
        finally:
            if saved is None:
                del sys.modules["latent_preview"]
            else:
                sys.modules["latent_preview"] = saved


@unittest.skipIf(SKIP, SKIP)
class StepWrapperFailureTest(unittest.TestCase):
    def test_a_step_that_cannot_be_published_does_not_stop_the_sampling(self):
        class Broken:
            def offer(self, step):
                raise RuntimeError("boom")

        seen = []
        guider = Guider(latent_formats.SDXL())
        with self.assertLogs("taesd_web", "ERROR") as logs:
            out = guider.sample(attach(StepWrapper(Broken())), torch.randn(1, 4, 8, 8), torch.linspace(1, 0, 5), lambda i, x0, x, n: seen.append(i))
        self.assertEqual(seen, [0, 1, 2, 3])
        self.assertEqual(out.shape, (1, 4, 8, 8))
        self.assertEqual(len(logs.records), 1)
