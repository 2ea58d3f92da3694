// Zero-padded K x K depthwise conv, no bias (TAEHV's SuperMemBlock), in the shared layout: one
// output vec4 per invocation (gid.x = pixel x channel block, gid.y = row, gid.z = frame). Weights:
// params[b * K * K + tap] = the tap's weights of channels 4b..4b+3. Dims from VIDEO_DIMS.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<act4>;
@group(0) @binding(2) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<act4>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= dims.out_w * CB || gid.y >= dims.out_h) { return; }
  let col = i32(gid.x / CB);
  let b = gid.x % CB;
  let row = i32(gid.y);
  var acc = vec4<f32>(0.0);
  for (var ky = 0; ky < K; ky++) {
    let y = row + ky - K / 2;
    if (y < 0 || y >= i32(dims.out_h)) { continue; }
    for (var kx = 0; kx < K; kx++) {
      let x = col + kx - K / 2;
      if (x < 0 || x >= i32(dims.out_w)) { continue; }
      let v = vec4<f32>(src[act_at(item_row(gid.z, u32(y), dims.out_h), u32(x), dims.out_w, CB) + b]);
      acc += params[b * u32(K * K) + u32(ky * K + kx)] * v;
    }
  }
  dst[act_at(item_row(gid.z, gid.y, dims.out_h), u32(col), dims.out_w, CB) + b] = act4(acc);
}
