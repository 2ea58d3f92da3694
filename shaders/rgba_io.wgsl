// The decoder's output (shared layout, RGB + an unused 4th channel, f32) as the colour both RGBA
// kernels store: clamped to [0,1], alpha 1. Non-finite values (weights that overflow) are counted
// into `non_finite`, which the decoder reads back with the image or after the frame, so a NaN
// image fails (OUTPUT_NON_FINITE) instead of passing as black or white. The Dims struct is
// generated from IMAGE_DIMS (src/gpu/uniforms.ts).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> non_finite: array<atomic<u32>, 1>;

fn output_rgba(pixel: u32) -> vec4<f32> {
  let v = src[act_pixel(pixel, 1u)];
  // An f32 is NaN or +-Infinity exactly when its exponent bits are all ones.
  let bad = (bitcast<vec3<u32>>(v.xyz) & vec3<u32>(0x7f800000u)) == vec3<u32>(0x7f800000u);
  let count = u32(bad.x) + u32(bad.y) + u32(bad.z);
  if (count > 0u) { atomicAdd(&non_finite[0], count); }
  return vec4<f32>(clamp(v.xyz, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}
