// taesd-web: real-time previews of diffusion latents. The browser-safe entry; `taesd-web/node` adds
// what needs the file system. Everything public is listed here by name, or in the two subpath
// entries it re-exports whole (image.ts: taesd-web/image, progress.ts: taesd-web/progress).
// Its declarations use WebGPU's global types (GPUDevice, ...): consumers get them through this line.
/// <reference types="@webgpu/types" preserve="true" />

// Decoding
export { createDecoder, type BackendChange, type BackendChoice, type CreateDecoderOptions, type Decoder } from './decoder.js';
export type { KernelChoice, TuningStore } from './gpu/tune.js';
export type { AnyCanvas, Drawn } from './backend/present.js';
export type { AnyLatentInput, BackendKind, DecodeOptions, DecoderCapabilities, GpuLatentInput, GpuOutputs, LatentDecoder, LatentInput, LatentSpace } from './model/decoderTypes.js';
export type { RawImage } from './model/rgba.js';
export type { Precision } from './gpu/conv.js';
export type { LayerKernel } from './gpu/decoder.js';
export type { OrtExecutionProvider, WasmDecoderOptions } from './fallback/wasm.js';
export type { NativeDecoderOptions } from './fallback/native.js';
export type { LinearUpscale } from './fallback/linear.js';

// Video (TAEHV)
export { createVideoDecoder, VideoDecoder, type CreateVideoDecoderOptions, type VideoBackendChoice, type VideoCallOptions, type VideoStream, type WebGpuVideoOptions } from './videoDecoder.js';
export type { GpuVideoFrame, VideoDecodeOptions } from './model/videoSession.js';
export type { AnyVideoLatentInput, GpuVideoLatentInput, VideoLatentInput } from './model/videoLatent.js';
export { VIDEO_MODEL_IDS, getVideoModel, type FrameRuleKind, type VideoArch, type VideoModelId, type VideoModelSpec } from './model/videoRegistry.js';

// Models and latents
export { MODEL_IDS, getModel, type ModelId, type ModelSpec } from './model/registry.js';
export type { FamilyId, LatentFamily, Rgb } from './model/families.js';
export { packFlux2, unpackFlux2, type Latent } from './model/latent.js';
export { encodeSafetensors, parseSafetensors, type EncodableTensor } from './weights/safetensors.js';
export { parseNpy, type NpyArray } from './weights/npy.js';
export { latentFromFile, type LatentFile } from './model/latentFile.js';
export type { DType, StateDict, Tensor } from './weights/tensor.js';
export { loadStateDict, type WeightsSource } from './weights/load.js';

// Images (also taesd-web/image) and progress artifacts (also taesd-web/progress)
export * from './image.js';
export * from './progress.js';
export { createLinearVideoDecoder, type LinearVideoDecoder, type LinearVideoCallOptions, type LinearVideoDecoderOptions } from './linearVideo.js';
export { VIDEO_FAMILIES, VIDEO_MODEL_FAMILY, videoVaeToModel } from './model/videoFamilies.js';
export type { VideoFamilyId } from './model/families.js';
export { cheapFirstPreviewer, type CheapFirstPreviewer, type CheapFirstOptions, type TaehvRung } from './videoPreview.js';
