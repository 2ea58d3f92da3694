// Decoder input: a planar float32 latent [C,h,w] -> activations in the shared layout, with
// TAESD's input clamp x = tanh(x/3)*3 applied. The argument is clamped first because some tanh
// implementations overflow to NaN for large inputs.

struct Dims { w: u32, h: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> latent: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<act4>;

// One row per gid.y (2-D, so large latents stay under the 65535 workgroups per dimension).
@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let plane = dims.w * dims.h;
  if (gid.x >= dims.w * CHANNEL_BLOCKS || gid.y >= dims.h) { return; }
  let i = gid.y * dims.w * CHANNEL_BLOCKS + gid.x;
  let pixel = i / CHANNEL_BLOCKS;
  let cb = i % CHANNEL_BLOCKS;
  let c = cb * 4u;
  let v = vec4<f32>(latent[c * plane + pixel], latent[(c + 1u) * plane + pixel],
                    latent[(c + 2u) * plane + pixel], latent[(c + 3u) * plane + pixel]);
  dst[act_pixel(pixel, CHANNEL_BLOCKS) + cb] = act4(tanh(clamp(v / 3.0, vec4<f32>(-10.0), vec4<f32>(10.0))) * 3.0);
}
