// What every conv kernel binds (src/gpu/conv.ts: convLayouts, convDimsData): sizes, input,
// packed weights, residual, GroupNorm statistics, output. Rows are absolute (row 0 = the
// image's top); each buffer says which row it starts at and how many rows it holds per batch
// item, so a decode runs in row bands and a batch in one dispatch.
struct Dims {
  in_w: u32,       // input width (before upsampling)
  in_row0: i32,    // absolute row of the input buffer's first row
  out_w: u32,
  out_h: i32,      // full output height (image bound for zero padding)
  out_rows: u32,   // rows computed by this dispatch, per item
  out_row0: i32,   // absolute row of the first computed row
  dst_row0: i32,   // absolute row of the output buffer's first row
  skip_row0: i32,  // absolute row of the skip buffer's first row
  in_rows: u32,    // rows per batch item held by each buffer
  dst_rows: u32,
  skip_rows: u32,
  batch: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<act4>;
@group(0) @binding(2) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> skip: array<act4>;
@group(0) @binding(4) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> dst: array<out4>;
