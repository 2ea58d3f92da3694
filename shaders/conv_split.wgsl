// 3x3 (or 1x1) convolution with few output channels (the final RGB conv, 64 -> 3): the reduction
// is split across invocations instead of the outputs. A workgroup holds WG_Y pixel lanes x WG_X
// input-block lanes; invocation (lane, cl) accumulates input blocks cl, cl + WG_X, ... of PIX
// pixels (lane + p * WG_Y) for all COUT_BLOCKS outputs. Neighbouring invocations read neighbouring
// blocks of one pixel, so a warp's loads are contiguous; with one output block the direct kernel
// has each invocation walk its own pixels, a cache line apart. The WG_X partial sums of each
// output meet in workgroup memory, where the first WG_Y * PIX * COUT_BLOCKS invocations add them
// up and run the epilogue. Bindings, weights and rows as conv.wgsl and conv_io.wgsl say.

const OUTPUTS = WG_Y * PIX * COUT_BLOCKS;
var<workgroup> partial: array<vec4<f32>, OUTPUTS * WG_X>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let cl = lid.x;
  let item = wid.z;
  let y = i32(wid.y) + dims.out_row0;
  let x_base = wid.x * WG_Y * PIX;

  var acc: array<array<vec4<f32>, PIX>, COUT_BLOCKS>;
  for (var ky = 0; ky < K; ky++) {
    for (var kx = 0; kx < K; kx++) {
      var at: array<u32, PIX>;
      for (var p = 0u; p < PIX; p++) { at[p] = tap_at(item, y, i32(x_base + lid.y + p * WG_Y), ky, kx); }
      let tap = u32(ky * K + kx);
      for (var cb = cl; cb < CIN_BLOCKS; cb += WG_X) {
        var v: array<vec4<f32>, PIX>;
        for (var p = 0u; p < PIX; p++) { v[p] = load_in(at[p], cb, item); }
        if (NORM_INPUT) {
          // Padding taps (at 0) stay zero: the reference pads after the norm.
          for (var p = 0u; p < PIX; p++) { v[p] = select(vec4<f32>(0.0), norm_input(v[p], item, cb), at[p] != 0u); }
        }
        for (var o = 0u; o < COUT_BLOCKS; o++) {
          let w = ((o * u32(K * K) + tap) * CIN_BLOCKS + cb) * 4u;
          let m = mat4x4<f32>(params[w], params[w + 1u], params[w + 2u], params[w + 3u]);
          for (var p = 0u; p < PIX; p++) { acc[o][p] += m * v[p]; }
        }
      }
    }
  }

  // Output (pixel lane, p, o) gathers its WG_X partial sums at (((lane * PIX + p) * COUT_BLOCKS + o) * WG_X + cl).
  for (var p = 0u; p < PIX; p++) {
    for (var o = 0u; o < COUT_BLOCKS; o++) { partial[((lid.y * PIX + p) * COUT_BLOCKS + o) * WG_X + cl] = acc[o][p]; }
  }
  workgroupBarrier();
  for (var i = lid.y * WG_X + cl; i < OUTPUTS; i += WG_X * WG_Y) {
    let o = i % COUT_BLOCKS;
    let p = (i / COUT_BLOCKS) % PIX;
    let x = x_base + i / (COUT_BLOCKS * PIX) + p * WG_Y;
    if (x >= dims.out_w) { continue; }
    var r = params[BIAS_AT + o];
    for (var c = 0u; c < WG_X; c++) { r += partial[i * WG_X + c]; }
    store_out(item, y, x, o, r);
  }
}
