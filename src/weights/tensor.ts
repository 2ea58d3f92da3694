/** Element types found in the weight and latent files we read. */
export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** A named tensor converted to float32, row-major (PyTorch's contiguous layout). */
export interface Tensor {
  /** The element type it was stored as (the data here is always float32). */
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Tensors by state-dict key, e.g. `"3.conv.0.weight"`. */
export type StateDict = Map<string, Tensor>;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Most float32 elements one weights file may produce, all its tensors (and a .pth's storages)
 * together: 2^25 = 128 MiB of float32. A float32 TAESana decoder needs 2 x 8.3M, TAEF2 2 x 2.7M.
 */
export const MAX_ELEMENTS = 2 ** 25;
