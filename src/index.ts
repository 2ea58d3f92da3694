// taesd-web: real-time previews of diffusion latents. The browser-safe entry; `taesd-web/node` adds
// what needs the file system. Everything public is listed here, by name.
// Its declarations use WebGPU's global types (GPUDevice, ...): consumers get them through this line.
/// <reference types="@webgpu/types" preserve="true" />

// Decoding
export { createDecoder, type BackendChange, type BackendChoice, type CreateDecoderOptions, type Decoder } from './decoder.js';
export type { KernelChoice, TuningStore } from './gpu/tune.js';
export type { Drawn } from './backend/present.js';
export type { AnyLatentInput, BackendKind, DecodeOptions, GpuLatentInput, LatentDecoder, LatentInput, LatentSpace, RawImage, RgbaImage } from './model/decoder.js';
export type { Precision } from './gpu/conv.js';
export type { LayerKernel } from './gpu/decoder.js';
export type { WasmDecoderOptions } from './fallback/wasm.js';
export type { LinearUpscale } from './fallback/linear.js';
export { TaesdError, isTaesdError, type TaesdErrorCode } from './errors.js';

// Models and latents
export { MODEL_IDS, getModel, type ModelId, type ModelSpec } from './model/registry.js';
export type { FamilyId, LatentFamily } from './model/families.js';
export { packFlux2, unpackFlux2 } from './model/latent.js';
export { encodeSafetensors, parseSafetensors, type EncodableTensor } from './weights/safetensors.js';
export { parseNpy, type NpyArray } from './weights/npy.js';
export { latentFromFile, type LatentFile } from './model/latentFile.js';
export type { DType, StateDict, Tensor } from './weights/tensor.js';
export { loadStateDict, type WeightsSource } from './weights/load.js';

// Images
export { decodeImage, encodeImage, type EncodeImageOptions, type ImageFormat } from './image/encode.js';
export { encodePng, type PngOptions } from './image/png.js';
export { encodeJpeg, type JpegOptions } from './image/jpeg.js';
export { toBase64, toDataUrl } from './image/base64.js';
export { downscale } from './image/downscale.js';
export { contactSheet, type ContactSheetOptions } from './image/contactSheet.js';
export { encodeApng, type ApngOptions } from './image/apng.js';

// Progress artifacts
export { ProgressWriter, type ProgressSummary, type ProgressWriterInit, type StepInput } from './progress/writer.js';
export { runProgressJob, type RunProgressOptions } from './progress/run.js';
export type { ProgressOptions } from './progress/options.js';
export type { ProgressRecord, ProgressStatus } from './progress/record.js';
export type { Artifact, ArtifactKind, JobInfo, ProgressSink } from './progress/sink.js';
export { MemorySink } from './progress/memorySink.js';
export { CallbackSink } from './progress/callbackSink.js';
export { OpfsSink, type OpfsSinkOptions } from './progress/opfsSink.js';
export { gather, type GatherOptions, type Gathered } from './progress/gather.js';
export type { StepFile } from './progress/stepFiles.js';
export { pollProgress, type PollOptions, type PolledImage } from './progress/poll.js';
