import { fail } from '../errors.js';
import { bands, fewestBands, valueRows } from '../model/bands.js';
import type { RowRange } from '../model/graph.js';
import type { Activation, Program, Step } from './program.js';

/** One activation as held in one buffer: absolute rows [row0, row0 + rows) of its level. */
export interface Instance {
  readonly act: Activation;
  readonly row0: number;
  readonly rows: number;
  readonly width: number;
  readonly bytes: number;
  /** Index of the step that writes it, and of the last step that reads it. */
  readonly first: number;
  last: number;
  /** Buffer slot, or -1 for the input and output, which have buffers of their own. */
  slot: number;
}

/** A whole decode of an h x w latent, in run order, with buffer slots assigned by liveness. */
export interface Schedule {
  readonly steps: readonly { readonly step: Step; readonly rows: RowRange; readonly band: number }[];
  /** The instance of an activation in a band (level-0 activations have one, for all bands). */
  instance(a: Activation, band: number): Instance;
  readonly input: Instance;
  /** Bytes of each slot buffer. */
  readonly slots: readonly number[];
  readonly outputBytes: number;
  readonly bandCount: number;
}

/** Bytes of the final RGB(+0) f32 output of `batch` h x w latents. */
export function outputBytes(program: Program, batch: number, h: number, w: number): number {
  const u = program.graph.upscale;
  return (program.zeroVec4s + batch * h * w * u * u) * 16;
}

/**
 * Plans a decode of `batch` h x w latents under `maxBytes` per buffer: the whole image when it
 * fits, else the fewest output-row bands that do (level-0 steps run once, whole; every band runs
 * all items). Pure: makes no GPU objects.
 */
export function scheduleDecode(program: Program, batch: number, h: number, w: number, vec4Bytes: number, maxBytes: number): Schedule {
  const u = program.graph.upscale;
  const H = h * u;
  const output = outputBytes(program, batch, h, w);
  const latents = batch > 1 ? `${batch} latents` : 'latent';
  if (output > maxBytes) {
    fail('LATENT_SHAPE', `${latents} ${h}x${w} too large for this device: the ${w * u}x${H} float output needs ${output} bytes, over the ${maxBytes}-byte buffer limit`, { reason: 'DEVICE_LIMIT' });
  }
  let fitting: ReturnType<typeof bandSchedule> | null = null;
  fewestBands(H, u, (bandHeight) => {
    const schedule = bandSchedule(program, batch, h, w, bandHeight, vec4Bytes);
    if (Math.max(...schedule.all.map((i) => i.bytes)) > maxBytes) return false;
    fitting = schedule;
    return true;
  });
  if (!fitting) fail('LATENT_SHAPE', `${latents} ${h}x${w} too large for this device: a ${w * u}-pixel-wide image needs buffers over ${maxBytes} bytes`, { reason: 'DEVICE_LIMIT' });
  return assignSlots(program, fitting);
}

function bandSchedule(program: Program, batch: number, h: number, w: number, bandHeight: number, vec4Bytes: number) {
  const steps: { step: Step; rows: RowRange; band: number }[] = [];
  const maxGroups = Math.max(1, ...program.steps.map((s) => (s.kind === 'stats' ? s.groups : 0)));
  const instances = new Map<string, Instance>();
  const key = (a: Activation, band: number) => (a.level === 0 ? `0:${a.id}` : `${band}:${a.id}`);
  const use = (a: Activation, band: number, index: number, rows?: RowRange) => {
    const inst = instances.get(key(a, band));
    if (inst) { inst.last = index; return; }
    const r = rows ?? { lo: 0, hi: h << a.level };
    const width = w << a.level;
    // GroupNorm statistics: a (mean, inv_std) f32 pair per group and item.
    const bytes = a.holds === 'stats' ? 8 * maxGroups * batch : (program.zeroVec4s + batch * (r.hi - r.lo) * width * a.channelBlocks) * vec4Bytes;
    instances.set(key(a, band), { act: a, row0: r.lo, rows: r.hi - r.lo, width, bytes, first: index, last: index, slot: -1 });
  };
  for (const step of program.steps) if (step.dst.level === 0) steps.push({ step, rows: { lo: 0, hi: h }, band: -1 });
  const bandList = bands(h * program.graph.upscale, bandHeight);
  bandList.forEach(([r0, r1], band) => {
    const need = valueRows(program.graph, h, r0, r1);
    for (const step of program.steps) if (step.dst.level > 0) steps.push({ step, rows: need.get(step.dst.value)!, band });
  });
  steps.forEach(({ step, rows, band }, i) => {
    use(step.dst, band, i, rows);
    use(step.src, band, i);
    if (step.kind === 'conv') {
      if (step.residual) use(step.residual, band, i);
      if (step.stats) use(step.stats, band, i);
    }
  });
  const output = [...instances.values()].filter((i) => i.act === program.output);
  return { steps, instances, key, bandCount: bandList.length, all: [...instances.values()].filter((i) => !output.includes(i)), batch, h, w };
}

/** Buffer slots by liveness: an instance takes a free slot when first written, frees it after its last read. */
function assignSlots(program: Program, s: ReturnType<typeof bandSchedule>): Schedule {
  const slots: { bytes: number; freeAt: number; stats: boolean }[] = [];
  const input = s.instances.get(s.key(program.latent, -1))!;
  for (const inst of [...s.instances.values()].sort((a, b) => a.first - b.first)) {
    if (inst === input || inst.act === program.output) continue;
    const stats = inst.act.holds === 'stats';
    let slot = slots.findIndex((x) => x.freeAt < inst.first && x.stats === stats);
    if (slot < 0) slots.push({ bytes: 0, freeAt: 0, stats }), (slot = slots.length - 1);
    slots[slot]!.bytes = Math.max(slots[slot]!.bytes, inst.bytes);
    slots[slot]!.freeAt = inst.last;
    inst.slot = slot;
  }
  return {
    steps: s.steps,
    instance: (a, band) => s.instances.get(s.key(a, band))!,
    input,
    slots: slots.map((x) => x.bytes),
    outputBytes: outputBytes(program, s.batch, s.h, s.w),
    bandCount: s.bandCount,
  };
}
