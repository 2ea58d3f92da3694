// Tiled 3x3 (or 1x1) convolution as an implicit GEMM, the way GPU convolutions are built: a
// workgroup computes TILE_PX output pixels of one row (M) x TILE_OB output-channel blocks (N);
// the reduction (K = taps x input channels) runs in chunks of KB input blocks, each staged
// through workgroup memory (the input pixels it needs, GroupNorm + ReLU applied on the way in,
// and the weights), so each value is read from global memory once per tile and reused from fast
// memory TP (weights) or TB (inputs) times. Each invocation accumulates TP pixels x TB blocks
// (vec4s of 4 channels) in registers, in f32. The input normalisation and the epilogue (residual,
// ReLU, store) are conv_io.wgsl's, as in conv.wgsl; both read the same packed weights and Dims.
//
// Parameters: WG_X x WG_Y invocations; TP pixels and TB output blocks per invocation, so
// TILE_PX = WG_X * TP and TILE_OB = WG_Y * TB; KB input blocks per chunk (CIN_BLOCKS % KB == 0);
// MATH: the type products are computed in (f16 where the device has shader-f16).

const TILE_PX = WG_X * TP;
const TILE_OB = WG_Y * TB;
const INVOCATIONS = WG_X * WG_Y;
// Output-block tiles per item: wid.z runs over items x tiles, so no dimension passes 65535.
const OB_TILES = (COUT_BLOCKS + TILE_OB - 1u) / TILE_OB;

// The chunk's input: TILE_PX pixels x KB blocks; its weights: KB blocks x TILE_OB output blocks x 4 columns.
var<workgroup> tile_in: array<vec4<MATH>, TILE_PX * KB>;
var<workgroup> tile_w: array<vec4<MATH>, KB * TILE_OB * 4>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let flat = lid.y * WG_X + lid.x;
  let x_base = wid.x * TILE_PX;
  let item = wid.z / OB_TILES;
  let y = i32(wid.y) + dims.out_row0;
  let ob_base = (wid.z % OB_TILES) * TILE_OB;

  var acc: array<array<vec4<f32>, TB>, TP>;
  for (var b = 0u; b < TB; b++) {
    let ob = ob_base + lid.y * TB + b;
    let bias = params[BIAS_AT + min(ob, COUT_BLOCKS - 1u)];
    for (var p = 0u; p < TP; p++) { acc[p][b] = bias; }
  }

  for (var tap = 0u; tap < u32(K * K); tap++) {
    let uy = y + i32(tap / u32(K)) - K / 2;
    let row_ok = uy >= 0 && uy < dims.out_h;
    let sy = u32(select(uy, uy >> 1u, UPSAMPLE) - dims.in_row0);
    let dx = i32(tap % u32(K)) - K / 2;
    for (var cb0 = 0u; cb0 < CIN_BLOCKS; cb0 += KB) {
      // Stage the inputs: zero padding outside the image, GroupNorm + ReLU applied inside it.
      for (var i = flat; i < TILE_PX * KB; i += INVOCATIONS) {
        let ux = i32(x_base + i / KB) + dx;
        let cb = cb0 + i % KB;
        var v = vec4<f32>(0.0);
        if (row_ok && ux >= 0 && ux < i32(dims.out_w)) {
          let sx = u32(select(ux, ux >> 1u, UPSAMPLE));
          v = load_in(act_at(item_row(item, sy, dims.in_rows), sx, dims.in_w, IN_BLOCKS), cb, item);
          if (NORM_INPUT) { v = norm_input(v, item, cb); }
        }
        tile_in[i] = vec4<MATH>(v);
      }
      // Stage the weights: column j of block (input cb, output ob) at ((ob * K*K + tap) * CIN_BLOCKS + cb) * 4 + j.
      for (var i = flat; i < KB * TILE_OB * 4u; i += INVOCATIONS) {
        let j = i % 4u;
        let ob = ob_base + (i / 4u) % TILE_OB;
        let cb = cb0 + i / (4u * TILE_OB);
        tile_w[i] = vec4<MATH>(params[((min(ob, COUT_BLOCKS - 1u) * u32(K * K) + tap) * CIN_BLOCKS + cb) * 4u + j]);
      }
      workgroupBarrier();
      for (var k = 0u; k < KB; k++) {
        var x: array<vec4<MATH>, TP>;
        for (var p = 0u; p < TP; p++) { x[p] = tile_in[(lid.x + p * WG_X) * KB + k]; }
        for (var b = 0u; b < TB; b++) {
          let w = (k * TILE_OB + lid.y * TB + b) * 4u;
          let m = mat4x4<MATH>(tile_w[w], tile_w[w + 1u], tile_w[w + 2u], tile_w[w + 3u]);
          for (var p = 0u; p < TP; p++) { acc[p][b] += vec4<f32>(m * x[p]); }
        }
      }
      workgroupBarrier();
    }
  }

  for (var p = 0u; p < TP; p++) {
    // Pixels are interleaved (lid.x + p * WG_X), so neighbouring invocations touch neighbouring pixels.
    let x = x_base + lid.x + p * WG_X;
    if (x >= dims.out_w) { continue; }
    for (var b = 0u; b < TB; b++) {
      let ob = ob_base + lid.y * TB + b;
      if (ob < COUT_BLOCKS) { store_out(item, y, x, ob, acc[p][b]); }
    }
  }
}
