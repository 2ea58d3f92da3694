// Linear latent preview, the GPU twin of latent2rgb in src/fallback/linear.ts (ComfyUI's
// Latent2RGBPreviewer): per latent pixel, rgb = clamp((latent . factors + bias + 1) / 2, 0, 1),
// written as RGBA8 and repeated over an upscale x upscale block (nearest neighbour).
//
// Injected before this text, as a generated const block (it changes the WGSL: key the pipeline on it):
//   const CHANNELS: u32;   // latent channels after unpacking: 4, 16 or 32 (FLUX.2's 128 are
//                          // unpacked to 32 by prepareLatent on the CPU first)
//
// Bindings, all @group(0):
//   @binding(0) latent: var<storage, read>        array<f32>  [CHANNELS, height, width], TAESD space
//   @binding(1) params: var<uniform>              Params      32 + 16 * CHANNELS bytes:
//                 u32 width, u32 height (latent), u32 upscale (1, 2, 4 or 8), u32 pad,
//                 vec4f bias (rgb, w unused), then per channel vec4f factors (rgb, w unused),
//                 i.e. ModelSpec.latentRgbBias and .latentRgbFactors rows padded to 4 floats
//   @binding(2) pixels: var<storage, read_write>  array<u32>  (height * upscale) x (width * upscale),
//                 row-major, one pack4x8unorm(r, g, b, 1) per pixel: byte order R, G, B, A, so the
//                 bytes read back are ImageData's layout, and copyBufferToTexture into an
//                 rgba8unorm texture works when width * upscale * 4 is a multiple of 256
// Entry point `main`, workgroup 8 x 8; dispatch (ceil(width / 8), ceil(height / 8), 1): one
// invocation per latent pixel (at most 1024 x 1024, well within 65535 workgroups per axis).

struct Params {
  width: u32,
  height: u32,
  upscale: u32,
  pad: u32,
  bias: vec4f,
  factors: array<vec4f, CHANNELS>,
}

@group(0) @binding(0) var<storage, read> latent: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read_write> pixels: array<u32>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let x = id.x;
  let y = id.y;
  if (x >= params.width || y >= params.height) {
    return;
  }
  let plane = params.width * params.height;
  var rgb = params.bias.xyz;
  for (var c = 0u; c < CHANNELS; c++) {
    rgb += latent[c * plane + y * params.width + x] * params.factors[c].xyz;
  }
  // pack4x8unorm clamps to [0,1] and rounds to 8 bits; the clamp here keeps the formula visible.
  let color = pack4x8unorm(vec4f(clamp((rgb + 1.0) * 0.5, vec3f(0.0), vec3f(1.0)), 1.0));
  let u = params.upscale;
  let outWidth = params.width * u;
  for (var dy = 0u; dy < u; dy++) {
    let row = (y * u + dy) * outWidth + x * u;
    for (var dx = 0u; dx < u; dx++) {
      pixels[row + dx] = color;
    }
  }
}
