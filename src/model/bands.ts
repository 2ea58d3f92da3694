// Row bands, the one algorithm both banded backends use (gpu/schedule.ts and fallback/ort.ts): the
// rows every value must hold so that a band of output rows comes out exactly as in a whole decode
// (propagated backwards through the op list with rowsRead), and the search for the fewest bands
// whose largest buffer fits. Ops at latent resolution (level 0, where GroupNorm's statistics over
// the whole image live) always run whole; bands start on latent rows.
import { rowsRead, opInputs, type DecoderGraph, type RowRange } from './graph.js';

/**
 * Rows of each value above level 0 (by value id) that output rows [r0, r1) need, clipped to the
 * image; `latentH` is the latent's height.
 */
export function valueRows(graph: DecoderGraph, latentH: number, r0: number, r1: number): Map<number, RowRange> {
  const need = new Map<number, RowRange>();
  const grow = (id: number, level: number, rows: RowRange) => {
    const lo = Math.max(0, rows.lo), hi = Math.min(latentH << level, rows.hi);
    const r = need.get(id);
    need.set(id, r ? { lo: Math.min(r.lo, lo), hi: Math.max(r.hi, hi) } : { lo, hi });
  };
  grow(graph.output.id, graph.output.level, { lo: r0, hi: r1 });
  for (let i = graph.ops.length - 1; i >= 0; i--) {
    const op = graph.ops[i]!;
    const out = need.get(op.out.id);
    if (!out || op.out.level === 0) continue;
    for (const x of opInputs(op)) grow(x.id, x.level, rowsRead(op, out, latentH << x.level));
  }
  return need;
}

/** Output row bands [r0, r1) of at most `bandHeight` rows covering `height`. */
export function bands(height: number, bandHeight: number): [number, number][] {
  const out: [number, number][] = [];
  for (let r = 0; r < height; r += bandHeight) out.push([r, Math.min(height, r + bandHeight)]);
  return out;
}

/**
 * The tallest band height (the whole `height` first, then 1/2, 1/3, ... of it, rounded up to whole
 * latent rows of `upscale` output rows) for which `fits` holds; null when even one latent row does not.
 */
export function fewestBands(height: number, upscale: number, fits: (bandHeight: number) => boolean): number | null {
  let tried = 0;
  for (let n = 1; ; n++) {
    const bandHeight = n === 1 ? height : Math.ceil(height / n / upscale) * upscale;
    if (bandHeight === tried) continue;
    tried = bandHeight;
    if (fits(bandHeight)) return bandHeight;
    if (bandHeight <= upscale) return null;
  }
}
