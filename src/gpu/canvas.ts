// Contexts already configured, and for which device: configuring again each frame is wasted work.
const configured = new WeakMap<GPUCanvasContext, GPUDevice>();

/**
 * Sizes a WebGPU canvas to width x height, configures it for `device` (rgba8unorm, storage
 * usage, opaque) unless it already is, and returns its current texture to draw into.
 */
export function canvasTexture(context: GPUCanvasContext, device: GPUDevice, width: number, height: number): GPUTexture {
  const canvas = context.canvas as { width: number; height: number };
  if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
  if (configured.get(context) !== device) {
    context.configure({ device, format: 'rgba8unorm', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.RENDER_ATTACHMENT, alphaMode: 'opaque' });
    configured.set(context, device);
  }
  return context.getCurrentTexture();
}
