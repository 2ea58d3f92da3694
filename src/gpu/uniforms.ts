// Uniform blocks declared once: a field list generates the WGSL `struct` (prepended to the kernel
// with its parameters) and writes the buffer by name, with WGSL's own offsets, so TypeScript and
// the shader cannot drift apart (webgpu-utils' makeShaderDataDefinitions, for our few types).

/** Scalars, a vec4f, or a trailing array of vec4f whose length is the kernel constant named by `of`. */
export type UniformType = 'u32' | 'i32' | 'f32' | 'vec4f' | { readonly arrayOf: 'vec4f'; readonly length: string };

export interface UniformStruct<F extends string> {
  readonly name: string;
  /** The WGSL declaration. */
  readonly wgsl: string;
  /** Bytes of the fixed fields (a trailing array adds 16 per element), rounded up to 16. */
  readonly bytes: number;
  /** The block filled by name; a trailing array takes `rows`. Fields not given are 0. */
  write(values: Partial<Readonly<Record<F, number | readonly number[]>>>, rows?: readonly (readonly number[])[]): ArrayBuffer;
}

const alignOf = (t: UniformType) => (typeof t === 'string' && t !== 'vec4f' ? 4 : 16);
const sizeOf = (t: UniformType) => (typeof t === 'string' && t !== 'vec4f' ? 4 : 16);
const wgslType = (t: UniformType) => (typeof t === 'string' ? t : `array<vec4f, ${t.length}>`);

function uniformStruct<F extends string>(name: string, fields: Readonly<Record<F, UniformType>>): UniformStruct<F> {
  const offsets = new Map<string, { at: number; type: UniformType }>();
  let at = 0, tail: number | null = null;
  for (const [field, type] of Object.entries(fields) as [string, UniformType][]) {
    at = Math.ceil(at / alignOf(type)) * alignOf(type);
    offsets.set(field, { at, type });
    if (typeof type === 'object') tail = at;
    else at += sizeOf(type);
  }
  const fixed = Math.ceil((tail ?? at) / 16) * 16;
  const wgsl = `struct ${name} {\n${[...offsets].map(([f, { type }]) => `  ${f}: ${wgslType(type)},`).join('\n')}\n}\n`;
  return {
    name, wgsl, bytes: fixed,
    write(values, rows = []) {
      const buffer = new ArrayBuffer(fixed + 16 * rows.length);
      const view = new DataView(buffer);
      for (const [field, value] of Object.entries(values) as [string, number | readonly number[]][]) {
        const { at: offset, type } = offsets.get(field)!;
        if (type === 'vec4f') (value as readonly number[]).forEach((v, i) => view.setFloat32(offset + 4 * i, v, true));
        else if (type === 'f32') view.setFloat32(offset, value as number, true);
        else if (type === 'u32') view.setUint32(offset, value as number, true);
        else if (type === 'i32') view.setInt32(offset, value as number, true);
      }
      rows.forEach((row, i) => row.forEach((v, j) => view.setFloat32((tail ?? fixed) + 16 * i + 4 * j, v, true)));
      return buffer;
    },
  };
}

/** Conv sizes (shaders/conv*.wgsl). Rows are absolute (0 = the image's top); each buffer holds `*_rows` rows per batch item from its `*_row0`. */
export const CONV_DIMS = uniformStruct('Dims', {
  in_w: 'u32', // input width (before upsampling)
  in_row0: 'i32',
  out_w: 'u32',
  out_h: 'i32', // full output height: the image bound for zero padding
  out_rows: 'u32', // rows computed by this dispatch, per item
  out_row0: 'i32',
  dst_row0: 'i32',
  skip_row0: 'i32',
  in_rows: 'u32',
  dst_rows: 'u32',
  skip_rows: 'u32',
});

/** The input kernel (shaders/latent_in.wgsl): latent size, VAE-space mapping `(x - shift) * scale`. */
export const LATENT_DIMS = uniformStruct('Dims', { w: 'u32', h: 'u32', scale: 'f32', shift: 'f32' });

/** GroupNorm statistics (shaders/group_norm_stats.wgsl): pixels per batch item. */
export const STATS_DIMS = uniformStruct('Dims', { pixels: 'u32' });

/** The RGBA output kernels (shaders/rgba_out.wgsl, rgba_texture.wgsl): one item's image size; the item a texture gets. */
export const IMAGE_DIMS = uniformStruct('Dims', { w: 'u32', h: 'u32', item: 'u32' });

/** The TAEHV kernels (shaders/video_*.wgsl): one frame's output size and its `x` input's size. */
export const VIDEO_DIMS = uniformStruct('Dims', { out_w: 'u32', out_h: 'u32', in_w: 'u32', in_h: 'u32' });

/** The linear preview (shaders/latent_rgb.wgsl): latent size, upscale, bias, one factor row per channel. */
export const LINEAR_PARAMS = uniformStruct('Params', {
  width: 'u32', height: 'u32', upscale: 'u32', bias: 'vec4f', factors: { arrayOf: 'vec4f', length: 'CHANNELS' },
});
