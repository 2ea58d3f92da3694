"""taesd-web's ComfyUI bridge: step latents out of the sampler, decoded on the viewer's GPU."""
