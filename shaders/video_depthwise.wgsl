// Zero-padded K x K depthwise conv, no bias (TAEHV's SuperMemBlock), in the shared layout: one
// output vec4 per invocation (gid.x = pixel x channel block, gid.y = row, gid.z = frame). Weights:
// params[b * K * K + tap] = the tap's weights of channels 4b..4b+3. Dims from VIDEO_DIMS.
// PREV_CONCAT: the input is a SuperMemBlock's concat of x (the first CB / 2 blocks) and x's
// previous frame, read from two bindings rather than a copy: the frame before in `src`, or for
// frame 0 the carried frame in `prev` (one frame, no zero region).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<act4>;
@group(0) @binding(2) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<act4>;
@group(0) @binding(4) var<storage, read> prev: array<act4>;

const IN_CB = select(CB, CB / 2u, PREV_CONCAT);

fn load_in(frame: u32, y: u32, x: u32, b: u32) -> vec4<f32> {
  if (!PREV_CONCAT || b < IN_CB) { return vec4<f32>(src[act_at(item_row(frame, y, dims.out_h), x, dims.out_w, IN_CB) + b]); }
  if (frame == 0u) { return vec4<f32>(prev[act_at(y, x, dims.out_w, IN_CB) - ZERO_VEC4S + b - IN_CB]); }
  return vec4<f32>(src[act_at(item_row(frame - 1u, y, dims.out_h), x, dims.out_w, IN_CB) + b - IN_CB]);
}

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
      let v = load_in(gid.z, u32(y), u32(x), b);
      acc += params[b * u32(K * K) + u32(ky * K + kx)] * v;
    }
  }
  dst[act_at(item_row(gid.z, gid.y, dims.out_h), u32(col), dims.out_w, CB) + b] = act4(acc);
}
