import { fail } from '../errors.js';
import * as shaders from './shaders.generated.js';
import { CONV_DIMS, IMAGE_DIMS, LATENT_DIMS, LINEAR_PARAMS, STATS_DIMS, VIDEO_DIMS } from './uniforms.js';

/** Values injected into a kernel as WGSL `const`s (numbers, booleans) or `alias`es (type names). */
export type KernelParams = Readonly<Record<string, number | boolean | { readonly type: string }>>;

export type KernelName = 'conv' | 'convTiled' | 'convSplit' | 'groupNormStats' | 'latentIn' | 'latentRgb' | 'rgbaOut' | 'rgbaTexture' | 'videoMap' | 'videoDepthwise' | 'videoPlanar';

/**
 * Each kernel's source: its uniform struct (declared once, src/gpu/uniforms.ts), then for those
 * touching activations the shared layout functions, then its own code.
 */
const SOURCES: Record<KernelName, string> = {
  conv: CONV_DIMS.wgsl + shaders.layoutWgsl + shaders.convIoWgsl + shaders.convWgsl,
  convTiled: CONV_DIMS.wgsl + shaders.layoutWgsl + shaders.convIoWgsl + shaders.convTiledWgsl,
  convSplit: CONV_DIMS.wgsl + shaders.layoutWgsl + shaders.convIoWgsl + shaders.convSplitWgsl,
  groupNormStats: STATS_DIMS.wgsl + shaders.layoutWgsl + shaders.groupNormStatsWgsl,
  latentIn: LATENT_DIMS.wgsl + shaders.layoutWgsl + shaders.latentInWgsl,
  latentRgb: LINEAR_PARAMS.wgsl + shaders.latentRgbWgsl,
  rgbaOut: IMAGE_DIMS.wgsl + shaders.layoutWgsl + shaders.rgbaIoWgsl + shaders.rgbaOutWgsl,
  rgbaTexture: IMAGE_DIMS.wgsl + shaders.layoutWgsl + shaders.rgbaIoWgsl + shaders.rgbaTextureWgsl,
  videoMap: VIDEO_DIMS.wgsl + shaders.layoutWgsl + shaders.videoMapWgsl,
  videoDepthwise: VIDEO_DIMS.wgsl + shaders.layoutWgsl + shaders.videoDepthwiseWgsl,
  videoPlanar: VIDEO_DIMS.wgsl + shaders.layoutWgsl + shaders.videoPlanarWgsl,
};

/** The generated prelude: `enable f16;` when any alias uses f16, then one line per parameter. */
function wgslPrelude(params: KernelParams): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'object') lines.push(`alias ${name} = ${value.type};`);
    else if (typeof value === 'boolean') lines.push(`const ${name} = ${value};`);
    else if (Number.isInteger(value)) lines.push(`const ${name} = ${value};`);
    else lines.push(`const ${name} = ${value.toExponential()};`);
  }
  const f16 = lines.some((l) => l.startsWith('alias') && l.includes('f16'));
  return `${f16 ? 'enable f16;\n' : ''}${lines.join('\n')}\n`;
}

function kernelSource(name: KernelName, params: KernelParams): string {
  return `${wgslPrelude(params)}\n${SOURCES[name]}`;
}

// Pipelines by device, then by kernel + parameters: a lost or destroyed device takes its own along.
const cache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();
const compiled = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

const pipelineKey = (name: KernelName, params: KernelParams, layout?: GPUPipelineLayout) => JSON.stringify([name, params, layout?.label ?? 'auto']);

/**
 * A compute pipeline for `name` specialised by `params`, compiled once per device without
 * blocking (createComputePipelineAsync). A kernel WebGPU refuses is a bug: INTERNAL, with its message.
 */
export function kernelPipeline(device: GPUDevice, name: KernelName, params: KernelParams, layout?: GPUPipelineLayout): Promise<GPUComputePipeline> {
  let pipelines = cache.get(device);
  if (!pipelines) cache.set(device, (pipelines = new Map()));
  const key = pipelineKey(name, params, layout);
  let pipeline = pipelines.get(key);
  if (!pipeline) {
    const label = `taesd ${name} ${JSON.stringify(params)}`;
    const module = device.createShaderModule({ label, code: kernelSource(name, params) });
    pipeline = device.createComputePipelineAsync({ label, layout: layout ?? 'auto', compute: { module, entryPoint: 'main' } }).then(
      (p) => {
        if (!compiled.has(device)) compiled.set(device, new Map());
        compiled.get(device)!.set(key, p);
        return p;
      },
      async (e: unknown) => {
        pipelines.delete(key);
        const info = await module.getCompilationInfo().catch(() => null);
        const errors = info?.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
        return fail('INTERNAL', `WebGPU refused kernel ${label}: ${errors || (e instanceof Error ? e.message : String(e))}`, { cause: e });
      },
    );
    pipelines.set(key, pipeline);
  }
  return pipeline;
}

/**
 * A pipeline kernelPipeline has already compiled, without awaiting: so GPU objects can be made
 * in one synchronous stretch (inside error scopes that then catch only this library's calls).
 */
export function compiledPipeline(device: GPUDevice, name: KernelName, params: KernelParams, layout?: GPUPipelineLayout): GPUComputePipeline {
  return compiled.get(device)?.get(pipelineKey(name, params, layout)) ?? fail('INTERNAL', `kernel ${name} ${JSON.stringify(params)} was used before it was compiled`);
}

export interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

/** A dispatch of a compiled pipeline with an automatic layout; `resources[i]` is bound at binding i. */
export function pipelineDispatch(device: GPUDevice, pipeline: GPUComputePipeline, resources: readonly GPUBindingResource[], workgroups: readonly [number, number, number]): Dispatch {
  const entries = resources.map((resource, binding) => ({ binding, resource }));
  return { pipeline, bindGroup: device.createBindGroup({ label: pipeline.label, layout: pipeline.getBindGroupLayout(0), entries }), workgroups };
}

export function encodeDispatches(encoder: GPUCommandEncoder, dispatches: readonly Dispatch[], label = 'taesd decode'): void {
  const pass = encoder.beginComputePass({ label });
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
  }
  pass.end();
}
