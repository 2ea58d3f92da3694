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

/**
 * A finer reason under some codes (the file readers', a device limit, a few option checks, a
 * progress job's lock and liveness, what a poll reports), for
 * callers and tests that branch on it rather than on the message; the message still names the
 * file and the problem.
 */
export type TaesdErrorReason =
  /** The file ends before what it declares, or is too short to hold its header. */
  | 'TRUNCATED'
  /** A size, count or depth passes one of the readers' caps, or a name passes the length limit. */
  | 'TOO_LARGE'
  /** Not this format at all: no magic, a zip without data.pkl, a pickle that is not a state dict. */
  | 'WRONG_FORMAT'
  /** Allowed by the format but not read here: a dtype, Fortran order, a legacy torch file, a pickle opcode, a zip feature; or a backend this model has no data for (a linear preview without published factors), or that lacks what was asked (a GPU-resident latent or GPU output off webgpu). */
  | 'UNSUPPORTED'
  /** A header, pickle or record that breaks its format: bad JSON, a bad shape, byte order, memo or storage reference. */
  | 'MALFORMED'
  /** Data regions that overlap, leave gaps or bytes over, disagree with their dtype and shape, or run past their storage. */
  | 'BAD_LAYOUT'
  /** A finite value that float32 cannot hold (it would become Infinity). */
  | 'OUT_OF_RANGE'
  /** A pickle that imports a global beyond a tensor state dict's. */
  | 'UNSAFE_GLOBAL'
  /** A pickle that constructs or calls an object. */
  | 'UNSAFE_CALL'
  /** A name the format reserves (safetensors' __metadata__) or that readers would take for the prototype. */
  | 'RESERVED_NAME'
  /** Over a limit of this device (a WebGPU binding or buffer size). */
  | 'DEVICE_LIMIT'
  /** An option that needs the model family (`latentSpace: 'vae'`'s scale and shift) where the model was only guessed from the weights' shapes. */
  | 'MODEL_GUESSED'
  /** A directory, device, FIFO or socket where a file is read: refused before any read. */
  | 'NOT_REGULAR_FILE'
  /** A progress job whose lock a live writer holds (or that other writers keep taking). */
  | 'LOCKED'
  /** A polled job whose record stopped changing while it was still running: its writer seems to have died. */
  | 'STALE'
  /** A request that did not answer within its time limit (a poll's `requestTimeoutMs`). */
  | 'TIMEOUT'
  /** A polled record redirected to another origin: its images are not followed there. */
  | 'CROSS_ORIGIN'
  /** An image name in a polled record that is not a plain .jpeg/.jpg/.png file name in the record's folder: skipped. */
  | 'UNSAFE_NAME'
  /** A polled job that went back to an earlier step for several polls: followed from then on as a restarted job. */
  | 'RESTARTED';

/** What a TaesdError carries besides its code and message. */
export interface TaesdErrorDetail {
  readonly cause?: unknown;
  readonly reason?: TaesdErrorReason;
}

export class TaesdError extends Error {
  override readonly name = 'TaesdError';
  /** A finer reason under `code`, where the thrower gives one. */
  readonly reason: TaesdErrorReason | undefined;
  constructor(
    readonly code: TaesdErrorCode,
    message: string,
    detail: TaesdErrorDetail = {},
  ) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.reason = detail.reason;
  }
}

/** Throws a TaesdError; the one way src/ reports a failure it detected. */
export function fail(code: TaesdErrorCode, message: string, detail?: TaesdErrorDetail): never {
  throw new TaesdError(code, message, detail);
}

export function isTaesdError(e: unknown, code?: TaesdErrorCode): e is TaesdError {
  return e instanceof TaesdError && (code === undefined || e.code === code);
}
