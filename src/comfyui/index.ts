// taesd-web/comfyui: previews of ComfyUI's sampler steps, decoded where they are viewed. The
// server side is the custom node in integrations/comfyui; this is the viewer side, for any frontend.
export { ComfyPreviewClient, COMFY_ROUTE, comfyRouteUrl, type ComfyPreview, type ComfyPreviewOptions } from './client.js';
export { parseStepMessage, type StepMessage } from './message.js';
export { COMFY_LATENT_FORMATS, comfyProcessOut, modelForComfyFormat, type ComfyFormat, type ComfyModelId, type ComfyProcessOut } from '../model/comfyFormats.js';
// Types the client's signatures use, so this entry names all of them (test/api.test.ts).
export type { LatentInput } from '../model/decoderTypes.js';
export type { TaesdError, TaesdErrorCode, TaesdErrorDetail, TaesdErrorReason } from '../errors.js';
