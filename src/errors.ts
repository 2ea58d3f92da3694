/** Every failure taesd-web reports on purpose is a TaesdError with one of these codes. */
export type TaesdErrorCode =
  /** Latent is malformed: not `{ data, shape }`, data not Float32Array/Uint16Array or not matching the shape, wrong rank or batch, an empty or oversized dimension. */
  | 'LATENT_SHAPE'
  /** Latent channel count does not match the model. */
  | 'LATENT_CHANNELS'
  /** Latent holds NaN or +-Infinity. */
  | 'LATENT_NON_FINITE'
  /** Latent file holds finite values beyond float32's range (float64 data such as 1e300), which would become Infinity. */
  | 'LATENT_OUT_OF_RANGE'
  /** Latent file is truncated, corrupt, too large, or not a format we read (a weights file, an image, text). */
  | 'LATENT_CORRUPT'
  /** The decoder's output holds NaN or +-Infinity (weights that overflow): no image is given. */
  | 'OUTPUT_NON_FINITE'
  /** Weights file is truncated, corrupt, or not a format we read. */
  | 'WEIGHTS_CORRUPT'
  /** A .pth pickle asks for something beyond a tensor state dict. */
  | 'WEIGHTS_UNSAFE'
  /** A tensor the model needs is absent. */
  | 'WEIGHTS_MISSING_TENSOR'
  /** A tensor has the wrong shape for the model. */
  | 'WEIGHTS_SHAPE'
  /** The weights fit several models that decode differently and nothing chose one: pass `model`. */
  | 'MODEL_AMBIGUOUS'
  /** The requested model id and the weights disagree, or the weights match no model. */
  | 'MODEL_MISMATCH'
  /** Unknown model id. */
  | 'MODEL_UNKNOWN'
  /** No WebGPU adapter or device could be obtained. */
  | 'NO_WEBGPU'
  /** A backend's runtime is not there: onnxruntime-node not installed, or the native backend in a browser. */
  | 'BACKEND_UNAVAILABLE'
  /** The GPU device was lost and could not be recovered. */
  | 'DEVICE_LOST'
  /** The decoder was used after destroy(). */
  | 'DESTROYED'
  /** A path or name would escape its folder, or is otherwise unsafe. */
  | 'UNSAFE_PATH'
  /** An option has a value outside its range. */
  | 'BAD_OPTION'
  /** Reading or writing a file or URL failed. */
  | 'IO'
  /** The GPU could not allocate what a decode needs; a smaller image, a lower `maxBufferBytes` or another backend may fit. */
  | 'GPU_OUT_OF_MEMORY'
  /** A bug in taesd-web (e.g. WebGPU rejected a kernel it generated); please report it with the message. */
  | 'INTERNAL';

export class TaesdError extends Error {
  override readonly name = 'TaesdError';
  constructor(
    readonly code: TaesdErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Throws a TaesdError; the one way src/ reports a failure it detected. */
export function fail(code: TaesdErrorCode, message: string, cause?: unknown): never {
  throw new TaesdError(code, message, cause === undefined ? undefined : { cause });
}

export function isTaesdError(e: unknown, code?: TaesdErrorCode): e is TaesdError {
  return e instanceof TaesdError && (code === undefined || e.code === code);
}
