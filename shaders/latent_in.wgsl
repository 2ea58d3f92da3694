// Decoder input: planar latents [N, C, h, w] -> activations in the shared layout, mapped
// (x - shift) * scale (VAE space; identity otherwise), with TAESD's input clamp x = tanh(x/3)*3.
// The latent is f32, or (F16) f16 pairs in u32 words; PACKED reads FLUX.2's [N, 4C, h/2, w/2]
// 2x2-patch layout in place. So a sampler's GPU buffer is read as it is, with no copy. The tanh
// argument is clamped first because some tanh implementations overflow to NaN for large inputs.
// The Dims struct is generated from LATENT_DIMS (src/gpu/uniforms.ts).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> latent: array<LATENT_WORD>;
@group(0) @binding(2) var<storage, read_write> dst: array<act4>;

// Channel c at (y, x) of item `item`, as the unpacked [C, h, w] the decoder takes. (The bitcasts
// type-check under either LATENT_WORD; only the branch for the injected type runs.)
fn latent_at(item: u32, c: u32, y: u32, x: u32) -> f32 {
  var index: u32;
  if (PACKED) {
    let pc = 4u * c + 2u * (y & 1u) + (x & 1u);
    index = ((item * 4u * CHANNELS + pc) * (dims.h / 2u) + (y >> 1u)) * (dims.w / 2u) + (x >> 1u);
  } else {
    index = ((item * CHANNELS + c) * dims.h + y) * dims.w + x;
  }
  if (F16) { return unpack2x16float(bitcast<u32>(latent[index >> 1u]))[index & 1u]; }
  return bitcast<f32>(latent[index]);
}

// One row per gid.y, one item per gid.z (so large batches stay under 65535 workgroups per dimension).
@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= dims.w * CHANNEL_BLOCKS || gid.y >= dims.h) { return; }
  let item = gid.z;
  let row = item * dims.h + gid.y;
  let x = gid.x / CHANNEL_BLOCKS;
  let cb = gid.x % CHANNEL_BLOCKS;
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    let c = cb * 4u + j;
    if (c < CHANNELS) { v[j] = latent_at(item, c, gid.y, x); }
  }
  v = (v - dims.shift) * dims.scale;
  dst[act_pixel(row * dims.w + x, CHANNEL_BLOCKS) + cb] = act4(tanh(clamp(v / 3.0, vec4<f32>(-10.0), vec4<f32>(10.0))) * 3.0);
}
