// Decoder output -> an rgba8unorm storage texture of the same size, e.g. a canvas's current
// texture: the live-preview path with no CPU readback. `dims.item` picks one image of a batch
// (a frame of a video chunk); 0 for a single image.

@group(0) @binding(2) var dst: texture_storage_2d<rgba8unorm, write>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= dims.w || gid.y >= dims.h) { return; }
  textureStore(dst, vec2<u32>(gid.xy), output_rgba((dims.item * dims.h + gid.y) * dims.w + gid.x));
}
