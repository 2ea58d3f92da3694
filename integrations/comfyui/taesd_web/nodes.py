"""The ComfyUI node and the server wiring (imports ComfyUI's modules; the rest of taesd_web does not)."""
from . import weights
from .hub import ViewerHub
from .jobfolder import JobFolderSink
from .publisher import StepPublisher
from .wrapper import StepWrapper, with_step_wrapper

HUB = ViewerHub()
_publishers = {}


def publisher(job_folder=""):
    """One publisher thread per destination (the viewers, plus a job folder when given), started on first use."""
    if job_folder not in _publishers:
        sinks = [HUB.sink]
        if job_folder:
            import folder_paths

            sinks.append(JobFolderSink(folder_paths.get_output_directory(), job_folder))
        _publishers[job_folder] = StepPublisher(sinks)
    return _publishers[job_folder]


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
    weights.add_routes(instance.routes)
    return True


class TaesdWebPreview:
    """MODEL in, MODEL out: the clone publishes every sampler step's latent to taesd-web viewers."""

    CATEGORY = "sampling/preview"
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    DESCRIPTION = ("Sends each sampler step's latent (f16) to viewers connected to /taesd-web/ws, which decode it on "
                   "their own GPU. server_preview auto: ComfyUI's own preview is not computed while a viewer follows "
                   "the prompt; off: never; keep: always.")

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "server_preview": (["auto", "off", "keep"], {"default": "auto", "tooltip": "auto: the server decodes no preview while a taesd-web viewer follows the prompt; off: never; keep: always"}),
        }, "optional": {
            "job_folder": ("STRING", {"default": "", "tooltip": "also write the steps to output/<job_folder>/<prompt id>/ (empty: do not)"}),
        }}

    def patch(self, model, server_preview="auto", job_folder=""):
        return (with_step_wrapper(model, StepWrapper(publisher(job_folder.strip()), server_preview, watching=HUB.watching)),)


NODE_CLASS_MAPPINGS = {"TaesdWebPreview": TaesdWebPreview}
NODE_DISPLAY_NAME_MAPPINGS = {"TaesdWebPreview": "taesd-web preview (decode on the viewer)"}
