"""The OUTER_SAMPLE wrapper: sees every step's x0 of whatever sampler runs the model.

ComfyUI calls ``wrapper(executor, noise, latent_image, sampler, sigmas, denoise_mask, callback,
disable_pbar, seed, latent_shapes=...)`` (comfy/samplers.py CFGGuider.sample); this wraps the
callback, whose ``(step, x0, x, total_steps)`` KSAMPLER.sample calls once per step.
"""
import logging
import math

from .publisher import Step

WRAPPER_KEY = "taesd_web"
log = logging.getLogger("taesd_web")


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
    """Context manager: while ``silent()`` is true, ComfyUI's own previewers return no image, so the
    server decodes nothing for its preview (checked per step); restored on exit."""

    def __init__(self, silent):
        self.silent = silent
        self.saved = []

    def __enter__(self):
        try:
            import latent_preview
        except ImportError:
            return self
        classes, stack = [], [latent_preview.LatentPreviewer]
        while stack:
            cls = stack.pop()
            classes.append(cls)
            stack.extend(cls.__subclasses__())
        silent = self.silent
        for cls in classes:
            if "decode_latent_to_preview_image" in cls.__dict__:
                method = cls.__dict__["decode_latent_to_preview_image"]
                self.saved.append((cls, method))

                def unless_silent(previewer, preview_format, x0, _method=method):
                    return None if silent() else _method(previewer, preview_format, x0)

                cls.decode_latent_to_preview_image = unless_silent
        return self

    def __exit__(self, *exc):
        for cls, method in self.saved:
            cls.decode_latent_to_preview_image = method
        self.saved = []
        return False


class StepWrapper:
    """OUTER_SAMPLE wrapper that offers each step's x0 to a StepPublisher."""

    def __init__(self, publisher, server_preview="auto", ids=current_ids, watching=lambda prompt_id: False):
        """server_preview: "keep" ComfyUI's own preview, turn it "off", or "auto": off while
        ``watching(prompt_id)`` says a viewer follows the prompt (checked each step)."""
        if server_preview not in ("auto", "off", "keep"):
            raise ValueError(f"server_preview must be auto, off or keep, got {server_preview!r}")
        self.publisher = publisher
        self.server_preview = server_preview
        self.ids = ids
        self.watching = watching

    def __call__(self, executor, noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None, disable_pbar=False, seed=None, **kwargs):
        guider = executor.class_obj
        fmt = getattr(getattr(getattr(guider, "model_patcher", None), "model", None), "latent_format", None)
        latent_format = type(fmt).__name__ if fmt is not None else "Unknown"
        latent_shapes = kwargs.get("latent_shapes")
        prompt_id, node_id = self.ids()
        sigma_list = sigmas.flatten().tolist() if hasattr(sigmas, "flatten") else [float(s) for s in sigmas]
        publisher = self.publisher

        failed = []

        def step_callback(step, x0, x, total_steps):
            try:
                sigma = sigma_list[step] if 0 <= step < len(sigma_list) else None
                latent = video_part(x0, latent_shapes)
                # A device-side copy (queued, not waited for): the sampler may reuse x0's memory before the
                # publisher thread copies it to the CPU.
                latent = latent.detach().clone() if hasattr(latent, "detach") else latent
                publisher.offer(Step(latent, latent_format, step, total_steps, prompt_id, node_id, sigma))
            except Exception:  # a preview must never stop the sampling: say it once, go on
                if not failed:
                    failed.append(step)
                    log.exception("taesd-web: step %s not published", step)
            if callback is not None:
                return callback(step, x0, x, total_steps)

        mode, watching = self.server_preview, self.watching
        with ServerPreviewOff(lambda: mode == "off" or (mode == "auto" and watching(prompt_id))):
            return executor(noise, latent_image, sampler, sigmas, denoise_mask, step_callback, disable_pbar, seed, **kwargs)


def with_step_wrapper(model, wrapper):
    """A clone of the ModelPatcher with the wrapper added (the input model is left as it was)."""
    from comfy.patcher_extension import WrappersMP

    m = model.clone()
    m.add_wrapper_with_key(WrappersMP.OUTER_SAMPLE, WRAPPER_KEY, wrapper)
    return m
