// Planar f32 frames [n, C, h, w] (what a video stage takes and gives) to the shared layout
// (TO_LAYOUT) or back, 4 channels per invocation: gid.x = pixel x channel block, gid.y = row,
// gid.z = frame. Dims from VIDEO_DIMS (out_* = in_* here).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> planar: array<f32>;
@group(0) @binding(2) var<storage, read_write> act: array<act4>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= dims.out_w * CB || gid.y >= dims.out_h) { return; }
  let col = gid.x / CB;
  let b = gid.x % CB;
  let a = act_at(item_row(gid.z, gid.y, dims.out_h), col, dims.out_w, CB) + b;
  let plane = dims.out_h * dims.out_w;
  let p = gid.y * dims.out_w + col;
  if (TO_LAYOUT) {
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
      if (4u * b + j < CHANNELS) { v[j] = planar[(gid.z * CHANNELS + 4u * b + j) * plane + p]; }
    }
    act[a] = act4(v);
  } else {
    let v = vec4<f32>(act[a]);
    for (var j = 0u; j < 4u; j++) {
      if (4u * b + j < CHANNELS) { planar[(gid.z * CHANNELS + 4u * b + j) * plane + p] = v[j]; }
    }
  }
}
