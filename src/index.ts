// taesd-web: real-time previews of diffusion latents. Browser-safe entry; Node extras in ./node.js.
export * from './decoder.js';
export * from './errors.js';
export type { BackendKind, DecodeOptions, LatentDecoder, LatentInput, LatentSpace, RawImage, RgbaImage } from './model/decoder.js';
export { MODELS, MODEL_IDS, getModel, isModelId, type ModelId, type ModelSpec } from './model/registry.js';
export { packFlux2, prepareLatent, unpackFlux2, type Latent } from './model/latent.js';
export { resolveDecoderWeights, type DecoderWeights } from './model/weights.js';
export { loadStateDict, parseWeights, type WeightsSource } from './weights/load.js';
export { encodeSafetensors, parseSafetensors } from './weights/safetensors.js';
export { parseNpy } from './weights/npy.js';
export type { StateDict, Tensor } from './weights/tensor.js';
export { WebGpuDecoder, type WebGpuDecoderOptions, type Precision } from './gpu/decoder.js';
export { requestGpuDevice, isFallbackAdapter } from './gpu/device.js';
export { createWasmDecoder, type WasmDecoderOptions } from './fallback/wasm.js';
export { createLinearDecoder, latent2rgb, type LinearDecoderOptions } from './fallback/linear.js';
export * from './image/index.js';
export * from './progress/index.js';
