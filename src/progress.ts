// taesd-web/progress: the per-step artifacts and their poll client, browser-safe and without the
// decoder (a polling page loads only this). FileSink and readJobSteps need Node: taesd-web/node.
// The main entries re-export all of it.
export { ProgressWriter, type ProgressSummary, type ProgressWriterInit, type StepInput } from './progress/writer.js';
export { runProgressJob, type RunProgressOptions } from './progress/run.js';
export type { BatchMode, ProgressOptions, ResolvedProgressOptions } from './progress/options.js';
export type { PreviewMadeWith, ProgressRecord, ProgressStatus, StepVideo, VideoLayout } from './progress/record.js';
export { videoLayout } from './progress/videoLayout.js';
export type { VideoFrames, VideoLatentStep, VideoPreviewer } from './progress/videoStep.js';
export type { VideoLatentInput } from './model/videoLatent.js';
export type { Artifact, ArtifactKind, JobInfo, ProgressSink } from './progress/sink.js';
export { MemorySink } from './progress/memorySink.js';
export { CallbackSink } from './progress/callbackSink.js';
export { OpfsSink, type OpfsSinkOptions } from './progress/opfsSink.js';
export { gather, type GatherOptions, type Gathered } from './progress/gather.js';
export type { StepFile } from './progress/stepFiles.js';
export { pollProgress, type PollOptions, type PolledImage } from './progress/poll.js';
export { TaesdError, isTaesdError, type TaesdErrorCode, type TaesdErrorDetail, type TaesdErrorReason } from './errors.js';
// The types ProgressWriter's signatures use (a decoder, its latents, images): names only, no code.
export type { AnyLatentInput, BackendKind, DecodeOptions, GpuLatentInput, LatentDecoder, LatentInput } from './model/decoderTypes.js';
export type { RgbaImage } from './model/rgba.js';
export type { ModelId, ModelSpec } from './model/registry.js';
export type { FamilyId, LatentFamily, Rgb } from './model/families.js';
export type { ImageFormat } from './image/encode.js';
