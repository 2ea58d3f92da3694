// Planar f32 frames [n, C, h, w] (what a video stage takes and gives) to the shared layout
// (TO_LAYOUT) or back (optionally through the output's pixel shuffle), 4 channels per invocation:
// gid.x = pixel x channel block, gid.y = row, gid.z = frame. Dims from VIDEO_DIMS (out_* = in_*
// here: the layout's size).

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
    // Written through a pixel shuffle by SHUFFLE (1: none): channel c of (row, col) is channel
    // c / SHUFFLE² of pixel (row * SHUFFLE + (c / SHUFFLE) % SHUFFLE, col * SHUFFLE + c % SHUFFLE).
    let v = vec4<f32>(act[a]);
    let out_w = dims.out_w * SHUFFLE;
    for (var j = 0u; j < 4u; j++) {
      let c = 4u * b + j;
      if (c < CHANNELS) {
        let plane_at = (gid.z * (CHANNELS / (SHUFFLE * SHUFFLE)) + c / (SHUFFLE * SHUFFLE)) * plane * SHUFFLE * SHUFFLE;
        planar[plane_at + (gid.y * SHUFFLE + (c / SHUFFLE) % SHUFFLE) * out_w + col * SHUFFLE + c % SHUFFLE] = v[j];
      }
    }
  }
}
