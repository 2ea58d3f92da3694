// What every conv kernel binds (src/gpu/conv.ts: convLayouts; the Dims struct is generated from
// CONV_DIMS in src/gpu/uniforms.ts): sizes, input, packed weights, residual, GroupNorm statistics,
// output. Rows are absolute (row 0 = the image's top); each buffer says which row it starts at and
// how many rows it holds per batch item, so a decode runs in row bands and a batch in one dispatch.
// The steps every conv variant shares are here as functions (tfjs' hook style): the
// normalise-on-read of the input and the bias-residual-ReLU-store epilogue.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<act4>;
@group(0) @binding(2) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> skip: array<act4>;
@group(0) @binding(4) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> dst: array<out4>;

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
