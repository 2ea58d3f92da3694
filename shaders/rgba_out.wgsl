// Decoder output (shared layout, RGB + unused 4th channel) -> 8-bit RGBA,
// one u32 per pixel: clamp to [0,1], scale by 255, round (pack4x8unorm), alpha 255.

struct Dims { w: u32, h: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= dims.w || gid.y >= dims.h) { return; }
  let p = gid.y * dims.w + gid.x;
  let v = src[act_pixel(p, 1u)];
  dst[p] = pack4x8unorm(vec4<f32>(clamp(v.xyz, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0));
}
