// The TAEHV ops that move or combine values without weights (src/gpu/videoSteps.ts), one output
// vec4 per invocation in the shared layout (layout.wgsl): gid.x = pixel x channel block, gid.y =
// row, gid.z = frame. MODE picks the op; `dims` has the output and the `x` input sizes. The Dims
// struct is generated from VIDEO_DIMS (src/gpu/uniforms.ts).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src_x: array<act4>;
@group(0) @binding(2) var<storage, read> src_y: array<act4>;
@group(0) @binding(3) var<storage, read> state: array<act4>;
@group(0) @binding(4) var<storage, read_write> dst: array<act4>;

const MODE_RELU = 0u;
const MODE_ADD = 1u;
const MODE_CLAMP = 2u;
const MODE_UPSAMPLE = 3u;
const MODE_TO_FRAMES = 4u;
const MODE_SHUFFLE = 5u;
// Channels of x, then of y; with PREV, y is x one frame back and frame 0's comes from `state`
// (one frame, packed without the zero region). y has YCB blocks.
const MODE_CONCAT = 6u;

fn at_x(t: u32, row: u32, col: u32, b: u32) -> vec4<f32> {
  return vec4<f32>(src_x[act_at(item_row(t, row, dims.in_h), col, dims.in_w, XCB) + b]);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= dims.out_w * CB || gid.y >= dims.out_h) { return; }
  let col = gid.x / CB;
  let b = gid.x % CB;
  let row = gid.y;
  let t = gid.z;
  var v = vec4<f32>(0.0);
  if (MODE == MODE_RELU) {
    v = max(at_x(t, row, col, b), vec4<f32>(0.0));
  } else if (MODE == MODE_ADD) {
    v = at_x(t, row, col, b) + vec4<f32>(src_y[act_at(item_row(t, row, dims.out_h), col, dims.out_w, CB) + b]);
  } else if (MODE == MODE_CLAMP) {
    v = tanh(clamp(at_x(t, row, col, b) / 3.0, vec4<f32>(-10.0), vec4<f32>(10.0))) * 3.0;
  } else if (MODE == MODE_UPSAMPLE) {
    v = at_x(t, row >> 1u, col >> 1u, b);
  } else if (MODE == MODE_TO_FRAMES) {
    v = at_x(t / STRIDE, row, col, (t % STRIDE) * CB + b);
  } else if (MODE == MODE_SHUFFLE) {
    // PyTorch's pixel_shuffle: out[c, y*F + i, x*F + j] = in[c*F*F + i*F + j, y, x].
    for (var j = 0u; j < 4u; j++) {
      let c = 4u * b + j;
      if (c < CHANNELS) {
        let ic = c * STRIDE * STRIDE + (row % STRIDE) * STRIDE + col % STRIDE;
        v[j] = at_x(t, row / STRIDE, col / STRIDE, ic / 4u)[ic % 4u];
      }
    }
  } else if (MODE == MODE_CONCAT) {
    if (b < XCB) {
      v = at_x(t, row, col, b);
    } else if (!PREV) {
      v = vec4<f32>(src_y[act_at(item_row(t, row, dims.in_h), col, dims.in_w, YCB) + b - XCB]);
    } else if (t == 0u) {
      v = vec4<f32>(state[(row * dims.in_w + col) * YCB + b - XCB]);
    } else {
      v = at_x(t - 1u, row, col, b - XCB);
    }
  }
  dst[act_at(item_row(t, row, dims.out_h), col, dims.out_w, CB) + b] = act4(v);
}
