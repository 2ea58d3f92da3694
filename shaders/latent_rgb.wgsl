// Linear latent preview, the GPU twin of latent2rgb in src/fallback/linear.ts (ComfyUI's
// Latent2RGBPreviewer): per latent pixel, rgb = clamp((latent . factors + bias + 1) / 2, 0, 1),
// stored into an rgba8unorm texture (e.g. a canvas's) over an upscale x upscale block (nearest).
// CHANNELS is injected (4, 16 or 32; FLUX.2's 128 are unpacked on the CPU first); the uniform is
// declared by LINEAR_PARAMS in src/gpu/uniforms.ts (the Params struct is generated from it).
// id.z is the batch item (a video frame): item z reads latent item z and draws below item z - 1.

@group(0) @binding(0) var<storage, read> latent: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var dst: texture_storage_2d<rgba8unorm, write>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let x = id.x;
  let y = id.y;
  if (x >= params.width || y >= params.height) {
    return;
  }
  let plane = params.width * params.height;
  let item = id.z * CHANNELS * plane;
  var rgb = params.bias.xyz;
  for (var c = 0u; c < CHANNELS; c++) {
    rgb += latent[item + c * plane + y * params.width + x] * params.factors[c].xyz;
  }
  let color = vec4f(clamp((rgb + 1.0) * 0.5, vec3f(0.0), vec3f(1.0)), 1.0);
  let u = params.upscale;
  for (var dy = 0u; dy < u; dy++) {
    for (var dx = 0u; dx < u; dx++) {
      textureStore(dst, vec2u(x * u + dx, (id.z * params.height + y) * u + dy), color);
    }
  }
}
