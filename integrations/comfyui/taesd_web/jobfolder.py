"""A StepPublisher sink that writes the step messages into a job folder, as taesd-web's progress
artifacts lay one out (README "Progress artifacts"): ``<root>/<output_folder>/<job_id>/``
``step_NNNN.safetensors`` (0-based step, the latent a viewer decodes) and ``progress.json``, whose
extra fields ``latest_latent`` and ``latent_steps`` name them. No image is written (the server
decodes nothing): ``taesd-web progress <job>/step_*.safetensors --job-id ...`` or any viewer
turns them into images. Every file is written to a temporary name and renamed, so a poller never
reads a torn one.
"""
import json
import os
import re
import time

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _atomic_write(path, data):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class JobFolderSink:
    def __init__(self, root, output_folder="progress", default_job="comfyui"):
        for name in (output_folder, default_job):
            if not SAFE_NAME.fullmatch(name) or ".." in name:
                raise ValueError(f"unsafe folder name {name!r}")
        self.base = os.path.join(root, output_folder)
        self.default_job = default_job
        self.steps = {}

    def folder(self, job_id):
        job = job_id if job_id and SAFE_NAME.fullmatch(job_id) and ".." not in job_id else self.default_job
        return job, os.path.join(self.base, job)

    def __call__(self, message, step):
        job, folder = self.folder(step.prompt_id)
        os.makedirs(folder, exist_ok=True)
        name = f"step_{step.step:04d}.safetensors"
        _atomic_write(os.path.join(folder, name), message)
        steps = self.steps.setdefault(job, [])
        if step.step not in steps:
            steps.append(step.step)
            steps.sort()
        last = step.step == step.total_steps - 1
        record = {
            "job_id": job,
            "status": "completed" if last else "generating",
            "current_step": step.total_steps if last else step.step,
            "total_steps": step.total_steps,
            "progress_percent": 100 if last else (100 * step.step) // step.total_steps,
            "latest_image": None,
            "timestamp": time.time(),
            "latest_latent": name,
            "latent_steps": list(steps),
        }
        _atomic_write(os.path.join(folder, "progress.json"), json.dumps(record).encode())
