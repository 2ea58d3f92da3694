// Plain CPU reference of the TAEHV decoder: interprets the lowered video op list
// (src/model/videoGraph.ts) frame by frame, with the image reference's ops for the shared kinds.
import type { VideoGraph, VideoOp } from '../../src/model/videoGraph.js';
import type { DepthwiseWeights } from '../../src/model/videoWeights.js';
import { add, conv, relu, tanhClamp, upsample, type Map3 } from './reference.js';

function depthwise(x: Map3, p: DepthwiseWeights): Map3 {
  const { h, w } = x, r = (p.k - 1) / 2;
  const out = new Float32Array(x.data.length);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let acc = 0;
        for (let ky = 0; ky < p.k; ky++) {
          const sy = y + ky - r;
          if (sy < 0 || sy >= h) continue;
          for (let kx = 0; kx < p.k; kx++) {
            const sx = xx + kx - r;
            if (sx >= 0 && sx < w) acc += p.weight[(c * p.k + ky) * p.k + kx]! * x.data[(c * h + sy) * w + sx]!;
          }
        }
        out[(c * h + y) * w + xx] = acc;
      }
  return { ...x, data: out };
}

function pixelShuffle(x: Map3, r: number): Map3 {
  const c = x.c / (r * r), H = x.h * r, W = x.w * r;
  const out = new Float32Array(x.data.length);
  for (let o = 0; o < c; o++)
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++) out[(o * H + y) * W + xx] = x.data[((o * r * r + (y % r) * r + (xx % r)) * x.h + Math.floor(y / r)) * x.w + Math.floor(xx / r)]!;
  return { c, h: H, w: W, data: out };
}

const concat = (a: Map3, b: Map3): Map3 => {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { ...a, c: a.c + b.c, data };
};

const zerosLike = (x: Map3): Map3 => ({ ...x, data: new Float32Array(x.data.length) });

/**
 * Runs the graph on latent frames (each `[C,h,w]`), with each MemBlock's carried frame from
 * `states` (null: zeros, the start of a video); returns the raw output frames and the new states.
 */
export function referenceVideoDecode(graph: VideoGraph, latents: readonly Map3[], states: readonly (Map3 | null)[] = []): { frames: Map3[]; states: Map3[] } {
  const values = new Map<number, Map3[]>([[graph.input.id, [...latents]]]);
  const next: Map3[] = [];
  const run = (op: VideoOp): Map3[] => {
    const x = values.get(op.x.id)!;
    switch (op.kind) {
      case 'clamp': return x.map(tanhClamp);
      case 'relu': return x.map(relu);
      case 'conv': return x.map((f) => conv(f, op.conv));
      case 'add': { const y = values.get(op.y.id)!; return x.map((f, i) => add(f, y[i]!)); }
      case 'upsample': return x.map(upsample);
      case 'groupNorm': throw new Error('no groupNorm in a video graph');
      case 'prevFrame':
        next[op.state] = x[x.length - 1]!;
        return [states[op.state] ?? zerosLike(x[0]!), ...x.slice(0, -1)];
      case 'concat': { const y = values.get(op.y.id)!; return x.map((f, i) => concat(f, y[i]!)); }
      case 'depthwise': return x.map((f) => depthwise(f, op.weights));
      case 'toFrames': return x.flatMap((f) => {
        const c = f.c / op.stride, n = c * f.h * f.w;
        return Array.from({ length: op.stride }, (_, s) => ({ c, h: f.h, w: f.w, data: f.data.slice(s * n, (s + 1) * n) }));
      });
      case 'pixelShuffle': return x.map((f) => pixelShuffle(f, op.factor));
    }
  };
  for (const op of graph.ops) values.set(op.out.id, run(op));
  return { frames: values.get(graph.output.id)!, states: next };
}
