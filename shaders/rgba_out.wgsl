// Decoder output -> 8-bit RGBA in a buffer, one u32 per pixel (pack4x8unorm rounds), the items of a
// batch one after another (one per gid.z; dims.h is one item's height).

@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= dims.w || gid.y >= dims.h) { return; }
  let p = (gid.z * dims.h + gid.y) * dims.w + gid.x;
  dst[p] = pack4x8unorm(output_rgba(p));
}
