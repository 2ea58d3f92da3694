// GroupNorm statistics for taef2's pool branch: one workgroup per group and batch item computes
// the mean and 1/sqrt(var + EPS) over all pixels of its GROUP_BLOCKS channel blocks, in two
// passes (mean, then squared deviations) so large images keep f32 precision. Input in the shared
// layout with CHANNEL_BLOCKS blocks per pixel, items' pixels stacked; stats[item * groups + g].
// The Dims struct is generated from STATS_DIMS (src/gpu/uniforms.ts).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<act4>;
@group(0) @binding(2) var<storage, read_write> stats: array<vec2<f32>>;

var<workgroup> partial: array<f32, WG>;

fn reduce(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let lid = lid3.x;
  let g = wg.x;
  let first = wg.y * dims.pixels;
  let n = dims.pixels * GROUP_BLOCKS;
  var sum = 0.0;
  for (var i = lid; i < n; i += WG) {
    let v = vec4<f32>(src[act_pixel(first + i / GROUP_BLOCKS, CHANNEL_BLOCKS) + g * GROUP_BLOCKS + i % GROUP_BLOCKS]);
    sum += v.x + v.y + v.z + v.w;
  }
  let mean = reduce(lid, sum) / f32(n * 4u);
  var sq = 0.0;
  for (var i = lid; i < n; i += WG) {
    let d = vec4<f32>(src[act_pixel(first + i / GROUP_BLOCKS, CHANNEL_BLOCKS) + g * GROUP_BLOCKS + i % GROUP_BLOCKS]) - mean;
    sq += dot(d, d);
  }
  let variance = reduce(lid, sq) / f32(n * 4u);
  if (lid == 0u) { stats[wg.y * (CHANNEL_BLOCKS / GROUP_BLOCKS) + g] = vec2<f32>(mean, inverseSqrt(variance + EPS)); }
}
