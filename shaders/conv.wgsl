// Direct 3x3 (or 1x1) convolution over activations in the shared layout (layout.wgsl).
//
// Each invocation computes OB output-channel blocks (4 channels each) x PIX adjacent pixels of
// one row, so every weight mat4x4 it loads is used PIX times and every input vec4 OB times.
// Out-of-image taps (zero padding) read the zero region instead of branching, so the inner loop
// over input blocks is branch-free. Rows and batch items as conv_io.wgsl says (gid.y runs over
// rows, gid.z over items x output-block groups).
//
// Options (injected consts): K (1|3), UPSAMPLE (read the input through a nearest 2x upsample),
// NORM_INPUT (GroupNorm + ReLU applied to the input as it is read: taef2's pool branch),
// RELU, RESIDUAL (add `skip` before the ReLU). Weights are packed by packBlocks (src/gpu/conv.ts):
// params[((ob * K*K + tap) * CIN_BLOCKS + cb) * 4 + j] = column j of the 4x4 block (input
// channel 4cb+j -> output channels 4ob..4ob+3); bias at BIAS_AT + ob; with NORM_INPUT,
// gamma at NORM_AT + cb and beta at NORM_AT + CIN_BLOCKS + cb.

// Output-block groups per item: gid.z runs over items x groups, so no dimension passes 65535.
const OB_GROUPS = COUT_BLOCKS / OB;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let x0 = gid.x * PIX;
  if (x0 >= dims.out_w || gid.y >= dims.out_rows) { return; }
  let item = gid.z / OB_GROUPS;
  let y = i32(gid.y) + dims.out_row0;
  let ob0 = (gid.z % OB_GROUPS) * OB;

  var acc: array<array<vec4<f32>, PIX>, OB>;
  for (var o = 0u; o < OB; o++) {
    let b = params[BIAS_AT + ob0 + o];
    for (var p = 0u; p < PIX; p++) { acc[o][p] = b; }
  }

  for (var ky = 0; ky < K; ky++) {
    for (var kx = 0; kx < K; kx++) {
      var at: array<u32, PIX>;
      for (var p = 0u; p < PIX; p++) { at[p] = tap_at(item, y, i32(x0 + p), ky, kx); }
      let tap = u32(ky * K + kx);
      for (var cb = 0u; cb < CIN_BLOCKS; cb++) {
        var v: array<vec4<f32>, PIX>;
        for (var p = 0u; p < PIX; p++) { v[p] = load_in(at[p], cb, item); }
        if (NORM_INPUT) {
          // Padding taps (at 0) stay zero: the reference pads after the norm.
          for (var p = 0u; p < PIX; p++) { v[p] = select(vec4<f32>(0.0), norm_input(v[p], item, cb), at[p] != 0u); }
        }
        for (var o = 0u; o < OB; o++) {
          let w = (((ob0 + o) * u32(K * K) + tap) * CIN_BLOCKS + cb) * 4u;
          let m = mat4x4<f32>(params[w], params[w + 1u], params[w + 2u], params[w + 3u]);
          for (var p = 0u; p < PIX; p++) { acc[o][p] += m * v[p]; }
        }
      }
    }
  }

  for (var p = 0u; p < PIX; p++) {
    let x = x0 + p;
    if (x >= dims.out_w) { break; }
    for (var o = 0u; o < OB; o++) { store_out(item, y, x, ob0 + o, acc[o][p]); }
  }
}
