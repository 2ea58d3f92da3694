"""The ComfyUI node and the server wiring (imports ComfyUI's modules; the rest of taesd_web does not)."""
from .hub import ViewerHub
from .publisher import StepPublisher
from .wrapper import StepWrapper, with_step_wrapper

HUB = ViewerHub()
_publisher = None


def publisher():
    """One publisher thread for the whole server, started on first use."""
    global _publisher
    if _publisher is None:
        _publisher = StepPublisher([HUB.sink])
    return _publisher


def register_routes():
    """Adds the websocket route to ComfyUI's server (called once, when ComfyUI loads the package)."""
    try:
        from server import PromptServer
    except ImportError:
        return False
    instance = getattr(PromptServer, "instance", None)
    if instance is None:
        return False
    HUB.loop = instance.loop
    HUB.add_routes(instance.routes)
    return True


class TaesdWebPreview:
    """MODEL in, MODEL out: the clone publishes every sampler step's latent to taesd-web viewers."""

    CATEGORY = "sampling/preview"
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    DESCRIPTION = ("Sends each sampler step's latent (f16) to viewers connected to /taesd-web/ws, which decode it on "
                   "their own GPU. With server_preview off, ComfyUI's own preview for this sampler is not computed.")

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "server_preview": (["off", "keep"], {"default": "off", "tooltip": "off: the server decodes no preview for this model's sampling"}),
        }}

    def patch(self, model, server_preview="off"):
        return (with_step_wrapper(model, StepWrapper(publisher(), server_preview=server_preview == "keep")),)


NODE_CLASS_MAPPINGS = {"TaesdWebPreview": TaesdWebPreview}
NODE_DISPLAY_NAME_MAPPINGS = {"TaesdWebPreview": "taesd-web preview (decode on the viewer)"}
