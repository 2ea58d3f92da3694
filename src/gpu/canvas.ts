// Contexts already configured, and for which device: configuring again each frame is wasted work.
const configured = new WeakMap<GPUCanvasContext, GPUDevice>();

/**
 * Sizes a WebGPU canvas to width x height, configures it for `device` (rgba8unorm, storage and
 * copy-destination usage, opaque) unless it already is, and returns its current texture to draw into.
 */
export function canvasTexture(context: GPUCanvasContext, device: GPUDevice, width: number, height: number): GPUTexture {
  const canvas = context.canvas as { width: number; height: number };
  if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
  if (configured.get(context) !== device) {
    context.configure({ device, format: 'rgba8unorm', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT, alphaMode: 'opaque' });
    configured.set(context, device);
  }
  return context.getCurrentTexture();
}

/** Copies an rgba8unorm texture of `device` into a WebGPU canvas sized to it: a frame drawn with no readback. */
export function drawTexture(context: GPUCanvasContext, device: GPUDevice, source: GPUTexture): void {
  const target = canvasTexture(context, device, source.width, source.height);
  const encoder = device.createCommandEncoder({ label: 'taesd texture to canvas' });
  encoder.copyTextureToTexture({ texture: source }, { texture: target }, [source.width, source.height]);
  device.queue.submit([encoder.finish()]);
}
