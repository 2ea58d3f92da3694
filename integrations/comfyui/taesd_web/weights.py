"""GET /taesd-web/weights/<id>: a decoder's weights for the viewers, from ComfyUI's models/vae_approx.

The file whose name is ``<id>_decoder.*`` or ``<id>.*`` (.pth, .safetensors) is served; when there
is none, a redirect to the pinned upstream file (MIT, github.com/madebyollin/taesd and taehv), which
the browser fetches itself (raw.githubusercontent.com allows any origin).
"""
import os
import re

from aiohttp import web

ROUTE = "/taesd-web/weights/{model}"
TAESD = "https://raw.githubusercontent.com/madebyollin/taesd/5cccb12dc72074a4be35680c3b108548a7c69978/{}_decoder.pth"
TAEHV = "https://raw.githubusercontent.com/madebyollin/taehv/1f14a568f24bf8811e0a0ac601613e04fc1581e8/{}.pth"
IMAGE_MODELS = {"taesd", "taesdxl", "taesd3", "taef1", "taef2"}
VIDEO_MODELS = {"taew2_1", "taew2_2", "taehv", "taehv1_5", "taecvx", "taeltx_2", "taeltx2_3", "taeh3", "taeos1_3"}
EXTENSIONS = (".safetensors", ".pth", ".pt")


def find_local(model, names, full_path):
    """The vae_approx file for ``model`` among ``names`` (folder_paths.get_filename_list), or None."""
    for stem in (f"{model}_decoder", model):
        for name in names:
            base, ext = os.path.splitext(os.path.basename(name))
            if base == stem and ext.lower() in EXTENSIONS:
                return full_path(name)
    return None


def upstream_url(model):
    if model in IMAGE_MODELS:
        return TAESD.format(model)
    if model in VIDEO_MODELS:
        return TAEHV.format(model)
    return None


async def handle(request):
    model = request.match_info["model"]
    if not re.fullmatch(r"[a-z0-9_]{1,32}", model):
        raise web.HTTPBadRequest(text="model id: lower-case letters, digits and _")
    try:
        import folder_paths

        path = find_local(model, folder_paths.get_filename_list("vae_approx"), lambda n: folder_paths.get_full_path("vae_approx", n))
    except ImportError:
        path = None
    if path:
        return web.FileResponse(path, headers={"Cache-Control": "max-age=3600"})
    url = upstream_url(model)
    if url is None:
        raise web.HTTPNotFound(text=f"no weights for {model}")
    raise web.HTTPFound(url)


def add_routes(routes):
    routes.get(ROUTE)(handle)
