// What every conv kernel binds (src/gpu/conv.ts: convLayouts; the Dims struct is generated from
// CONV_DIMS in src/gpu/uniforms.ts): sizes, input, packed weights, residual, GroupNorm statistics,
// output, and the carried frame of a MemBlock's concat (PREV_CONCAT). Rows are absolute (row 0 =
// the image's top); each buffer says which row it starts at and how many rows it holds per batch
// item, so a decode runs in row bands and a batch in one dispatch.
// The steps every conv variant shares are here as functions (tfjs' hook style): the input load,
// its normalise-on-read and the bias-residual-ReLU-store epilogue.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<act4>;
@group(0) @binding(2) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> skip: array<act4>;
@group(0) @binding(4) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> dst: array<out4>;
@group(0) @binding(6) var<storage, read> prev: array<act4>;

// Input block `cb` of the pixel at `at` (act_at of item `item` in `src`, IN_BLOCKS a pixel; 0 for
// padding). With PREV_CONCAT the input is a MemBlock's concat of x (its IN_BLOCKS blocks) and x's
// previous frame, read from two bindings rather than a copy: blocks from IN_BLOCKS on are the
// item before's, or for item 0 the carried frame in `prev` (one frame, no zero region).
fn load_in(at: u32, cb: u32, item: u32) -> vec4<f32> {
  if (!PREV_CONCAT || cb < IN_BLOCKS) { return vec4<f32>(src[at + cb]); }
  if (at == 0u) { return vec4<f32>(0.0); }
  if (item == 0u) { return vec4<f32>(prev[at - ZERO_VEC4S + cb - IN_BLOCKS]); }
  return vec4<f32>(src[at - dims.in_rows * dims.in_w * IN_BLOCKS + cb - IN_BLOCKS]);
}

// Where tap (ky, kx) of output pixel (x, y) of item `item` reads its input blocks: through the
// nearest upsample (UPSAMPLE), or 0 (the zero region) for a padding tap outside the image.
fn tap_at(item: u32, y: i32, x: i32, ky: i32, kx: i32) -> u32 {
  let uy = y + ky - K / 2;
  let ux = x + kx - K / 2;
  let ok = uy >= 0 && uy < dims.out_h && ux >= 0 && ux < i32(dims.out_w);
  let sy = select(uy, uy >> 1u, UPSAMPLE) - dims.in_row0;
  let sx = select(ux, ux >> 1u, UPSAMPLE);
  return select(0u, act_at(item_row(item, u32(sy), dims.in_rows), u32(sx), dims.in_w, IN_BLOCKS), ok);
}

// GroupNorm + ReLU of input block `cb` of batch item `item`, as the conv reads it (NORM_INPUT):
// statistics from `stats`, gamma at NORM_AT + cb and beta at NORM_AT + CIN_BLOCKS + cb.
fn norm_input(v: vec4<f32>, item: u32, cb: u32) -> vec4<f32> {
  let s = stats[item * (CIN_BLOCKS / GROUP_BLOCKS) + cb / GROUP_BLOCKS];
  let scale = params[NORM_AT + cb] * s.y;
  let shift = params[NORM_AT + CIN_BLOCKS + cb] - s.x * scale;
  return max(v * scale + shift, vec4<f32>(0.0));
}

// The epilogue: `r` (bias included) plus the residual (RESIDUAL), ReLU'd (RELU), stored as output
// block `ob` of pixel (x, y) of batch item `item`.
fn store_out(item: u32, y: i32, x: u32, ob: u32, acc: vec4<f32>) {
  var r = acc;
  if (RESIDUAL) {
    r += vec4<f32>(skip[act_at(item_row(item, u32(y - dims.skip_row0), dims.skip_rows), x, dims.out_w, COUT_BLOCKS) + ob]);
  }
  if (RELU) { r = max(r, vec4<f32>(0.0)); }
  dst[act_at(item_row(item, u32(y - dims.dst_row0), dims.dst_rows), x, dims.out_w, COUT_BLOCKS) + ob] = out4(r);
}
