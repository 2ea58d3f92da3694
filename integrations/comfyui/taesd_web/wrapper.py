"""The OUTER_SAMPLE wrapper: sees every step's x0 of whatever sampler runs the model.

ComfyUI calls ``wrapper(executor, noise, latent_image, sampler, sigmas, denoise_mask, callback,
disable_pbar, seed, latent_shapes=...)`` (comfy/samplers.py CFGGuider.sample); this wraps the
callback, whose ``(step, x0, x, total_steps)`` KSAMPLER.sample calls once per step.
"""
import math

from .publisher import Step

WRAPPER_KEY = "taesd_web"


def video_part(x0, latent_shapes=None):
    """The image/video latent of a step: the first of packed audio+video latents, else x0 itself."""
    if getattr(x0, "is_nested", False):
        parts = x0.tensors if hasattr(x0, "tensors") else x0.unbind()
        return parts[0]
    if latent_shapes is not None and len(latent_shapes) > 1 and x0.ndim == 3:
        # Packed as comfy.utils.pack_latents does: each latent flattened to [B,1,N] and concatenated.
        shape = list(latent_shapes[0])
        return x0[:, :, : math.prod(shape[1:])].reshape([x0.shape[0]] + shape[1:])
    return x0


def current_ids():
    """(prompt_id, node_id) of the node being executed (the sampler), as ComfyUI's progress hook finds them."""
    try:
        from comfy_execution.utils import get_executing_context

        ctx = get_executing_context()
    except ImportError:
        ctx = None
    if ctx is not None:
        return ctx.prompt_id, ctx.node_id
    try:  # ComfyUI before the executing context: what the server last announced
        from server import PromptServer

        server = PromptServer.instance
        return getattr(server, "last_prompt_id", None), getattr(server, "last_node_id", None)
    except (ImportError, AttributeError):
        return None, None


class ServerPreviewOff:
    """Context manager: ComfyUI's own previewers return no image while it is active (and restore after)."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.saved = []

    def __enter__(self):
        if not self.enabled:
            return self
        try:
            import latent_preview
        except ImportError:
            return self
        classes, stack = [], [latent_preview.LatentPreviewer]
        while stack:
            cls = stack.pop()
            classes.append(cls)
            stack.extend(cls.__subclasses__())
        for cls in classes:
            if "decode_latent_to_preview_image" in cls.__dict__:
                self.saved.append((cls, cls.__dict__["decode_latent_to_preview_image"]))
                cls.decode_latent_to_preview_image = lambda self, preview_format, x0: None
        return self

    def __exit__(self, *exc):
        for cls, method in self.saved:
            cls.decode_latent_to_preview_image = method
        self.saved = []
        return False


class StepWrapper:
    """OUTER_SAMPLE wrapper that offers each step's x0 to a StepPublisher."""

    def __init__(self, publisher, server_preview=True, ids=current_ids):
        self.publisher = publisher
        self.server_preview = server_preview
        self.ids = ids

    def __call__(self, executor, noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None, disable_pbar=False, seed=None, **kwargs):
        guider = executor.class_obj
        latent_format = type(guider.model_patcher.model.latent_format).__name__
        latent_shapes = kwargs.get("latent_shapes")
        prompt_id, node_id = self.ids()
        sigma_list = sigmas.flatten().tolist() if hasattr(sigmas, "flatten") else [float(s) for s in sigmas]
        publisher = self.publisher

        def step_callback(step, x0, x, total_steps):
            sigma = sigma_list[step] if 0 <= step < len(sigma_list) else None
            latent = video_part(x0, latent_shapes)
            # A device-side copy (queued, not waited for): the sampler may reuse x0's memory before the
            # publisher thread copies it to the CPU.
            latent = latent.detach().clone() if hasattr(latent, "detach") else latent
            publisher.offer(Step(latent, latent_format, step, total_steps, prompt_id, node_id, sigma))
            if callback is not None:
                return callback(step, x0, x, total_steps)

        with ServerPreviewOff(not self.server_preview):
            return executor(noise, latent_image, sampler, sigmas, denoise_mask, step_callback, disable_pbar, seed, **kwargs)


def with_step_wrapper(model, wrapper):
    """A clone of the ModelPatcher with the wrapper added (the input model is left as it was)."""
    from comfy.patcher_extension import WrappersMP

    m = model.clone()
    m.add_wrapper_with_key(WrappersMP.OUTER_SAMPLE, WRAPPER_KEY, wrapper)
    return m
