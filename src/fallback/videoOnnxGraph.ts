// One stage of the TAEHV decoder (model/videoGraph.ts, between TGrow splits) as an ONNX model with
// its MemBlocks' carried frames as explicit inputs and outputs (the past-key-values pattern), so a
// video decodes in chunks of any size and equals the whole decode.
import type { VideoGraph, VideoOp, VideoStage } from '../model/videoGraph.js';
import { emit, GraphBuilder } from './onnxGraph.js';

export const STAGE_INPUT = 'x';
export const STAGE_OUTPUT = 'y';
/** The carried frame of state `i` in (`[1, c, h, w]`; zeros at the start of a video) and out. */
export const stateIn = (i: number): string => `state.${i}`;
export const stateOut = (i: number): string => `state.${i}.next`;

/** Slice bounds along the frame axis, made once per graph. */
interface FrameSlices { readonly axis: string; readonly lastStart: string; readonly end: string; readonly zero: string; readonly dropLast: string }

function frameSlices(b: GraphBuilder): FrameSlices {
  return { axis: b.int64('axis0', [0]), lastStart: b.int64('last.start', [-1]), end: b.int64('last.end', [Number.MAX_SAFE_INTEGER]), zero: b.int64('shift.start', [0]), dropLast: b.int64('shift.end', [-1]) };
}

function emitVideo(b: GraphBuilder, op: VideoOp, name: (id: number) => string, s: FrameSlices): string {
  switch (op.kind) {
    case 'prevFrame': {
      const x = name(op.x.id);
      // The last frame goes to the next chunk; the frames shift by one behind the carried one.
      b.node('Slice', [x, s.lastStart, s.end, s.axis], {}, stateOut(op.state), stateOut(op.state));
      const joined = b.node('Concat', [stateIn(op.state), x], { axis: 0 });
      return b.node('Slice', [joined, s.zero, s.dropLast, s.axis]);
    }
    case 'concat': return b.node('Concat', [name(op.x.id), name(op.y.id)], { axis: 1 });
    case 'depthwise': {
      const { key, channels, k, weight } = op.weights;
      const r = (k - 1) / 2;
      return b.node('Conv', [name(op.x.id), b.initializer(`${key}.weight`, [channels, 1, k, k], weight)], { group: channels, kernel_shape: [k, k], pads: [r, r, r, r] }, key);
    }
    case 'toFrames': return b.node('Reshape', [name(op.x.id), b.int64(`frames.${op.out.id}`, [-1, op.out.channels, 0, 0])]);
    case 'pixelShuffle': return b.node('DepthToSpace', [name(op.x.id)], { blocksize: op.factor, mode: 'CRD' });
    default: return emit(b, op, name);
  }
}

/** Serialises stage `stage` of `graph` (opset 21): `x` `[n, C, h, w]` and the states in, `y` and the states out. */
export function buildVideoStageGraph(graph: VideoGraph, stage: VideoStage): Uint8Array {
  const b = new GraphBuilder();
  const names = new Map<number, string>([[stage.input.id, STAGE_INPUT]]);
  const name = (id: number) => names.get(id)!;
  const slices = frameSlices(b);
  for (const op of stage.ops) names.set(op.out.id, emitVideo(b, op, name, slices));
  b.node('Identity', [name(stage.output.id)], {}, STAGE_OUTPUT, STAGE_OUTPUT);
  const state = (i: number) => { const v = graph.states[i]!; return [1, v.channels, `h${v.level}`, `w${v.level}`]; };
  const inputs = [[STAGE_INPUT, ['n', stage.input.channels, 'h', 'w']] as const, ...stage.states.map((i) => [stateIn(i), state(i)] as const)];
  const outputs = [[STAGE_OUTPUT, ['m', stage.output.channels, 'oh', 'ow']] as const, ...stage.states.map((i) => [stateOut(i), state(i)] as const)];
  return b.modelWithIo(`taesd-web ${graph.weights.model.id} video stage`, inputs, outputs);
}
