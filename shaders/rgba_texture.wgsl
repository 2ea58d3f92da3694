// Decoder output (shared layout, f32) -> an rgba8unorm storage texture of
// the same size, e.g. a canvas's current texture: the live-preview path with no CPU readback.

struct Dims { w: u32, h: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var dst: texture_storage_2d<rgba8unorm, write>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= dims.w || gid.y >= dims.h) { return; }
  let v = src[act_pixel(gid.y * dims.w + gid.x, 1u)];
  textureStore(dst, vec2<u32>(gid.xy), vec4<f32>(clamp(v.xyz, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0));
}
