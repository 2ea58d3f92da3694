// The decoder as an ONNX model, built from its lowered op list (model/graph.ts), so onnxruntime
// runs every variant with no model files of its own. Field numbers: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
import type { DecoderGraph, Op, Stage } from '../model/graph.js';
import type { ConvWeights } from '../model/weights.js';
import { ProtoWriter } from './protobuf.js';

/** Opset 21: the first whose GroupNormalization takes per-channel scale and bias, as `pool.1` holds them (18's are per group). */
export const OPSET = 21;
/** The IR version that goes with opset 21. */
const IR_VERSION = 10;

/** Graph input: `[n, C, h, w]` float32 in TAESD space; n, h and w are symbolic, one session serves every size and batch. */
export const GRAPH_INPUT = 'latent';
/** Graph output: `[n, 3, upscale * h, upscale * w]` float32, the raw decoder output (a stage's graph: that stage's output). */
export const GRAPH_OUTPUT = 'image';

// onnx.TensorProto.DataType
const FLOAT = 1;
const INT64 = 7;
// onnx.AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

type Attribute = number | string | readonly number[];
/** Attributes by name; a plain number is an INT, `{ float }` a FLOAT. */
type Attributes = Record<string, Attribute | { float: number }>;

function attribute(name: string, value: Attribute | { float: number }): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof value === 'string') return a.string(4, value).int(20, ATTR_STRING);
  if (typeof value === 'number') return a.int(3, value).int(20, ATTR_INT);
  if ('float' in value) return a.float(2, value.float).int(20, ATTR_FLOAT);
  for (const v of value) a.int(8, v);
  return a.int(20, ATTR_INTS);
}

function tensorType(dims: readonly (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  return new ProtoWriter().message(1, new ProtoWriter().int(1, FLOAT).message(2, shape));
}

function valueInfo(name: string, dims: readonly (number | string)[]): ProtoWriter {
  return new ProtoWriter().string(1, name).message(2, tensorType(dims));
}

/** Nodes and initializers of one graph, with fresh names for intermediate values. */
export class GraphBuilder {
  readonly graph = new ProtoWriter();
  private count = 0;
  private readonly constants = new Set<string>();

  /** Appends a node and returns its output's name, which also names the node (unique, as ONNX asks). */
  node(op: string, inputs: readonly string[], attributes: Attributes = {}, name = op, output = `${name}:${this.count++}`): string {
    const node = new ProtoWriter();
    for (const i of inputs) node.string(1, i);
    node.string(2, output).string(3, output).string(4, op);
    for (const [k, v] of Object.entries(attributes)) node.message(5, attribute(k, v));
    this.graph.message(1, node);
    return output;
  }

  /** A float32 constant (a scalar, or a vector given as an array), made once per name. */
  scalar(name: string, v: number | readonly number[]): string {
    if (!this.constants.has(name)) {
      const data = typeof v === 'number' ? Float32Array.of(v) : Float32Array.from(v);
      this.initializer(name, typeof v === 'number' ? [] : [data.length], data);
      this.constants.add(name);
    }
    return name;
  }

  /** A float32 constant, as little-endian raw bytes (what every JS host's typed arrays hold). */
  initializer(name: string, dims: readonly number[], data: Float32Array): string {
    const t = new ProtoWriter();
    for (const d of dims) t.int(1, d);
    t.int(2, FLOAT).string(8, name);
    t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.graph.message(5, t);
    return name;
  }

  /** An int64 constant (shapes, axes), as little-endian raw bytes. */
  int64(name: string, values: readonly number[]): string {
    const t = new ProtoWriter();
    t.int(1, values.length).int(2, INT64).string(8, name);
    const bytes = new Uint8Array(8 * values.length);
    values.forEach((v, i) => new DataView(bytes.buffer).setBigInt64(8 * i, BigInt(v), true));
    this.graph.message(5, t.bytes(9, bytes));
    return name;
  }

  /** The model: this graph with its one input and output, named and shaped. */
  model(title: string, input: string, inputDims: readonly (number | string)[], output: string, outputDims: readonly (number | string)[]): Uint8Array {
    return this.modelWithIo(title, [[input, inputDims]], [[output, outputDims]]);
  }

  /** The model with several inputs and outputs (a video stage's carried states), each `[name, dims]`. */
  modelWithIo(title: string, inputs: readonly (readonly [string, readonly (number | string)[]])[], outputs: readonly (readonly [string, readonly (number | string)[]])[]): Uint8Array {
    this.graph.string(2, title);
    for (const [name, dims] of inputs) this.graph.message(11, valueInfo(name, dims));
    for (const [name, dims] of outputs) this.graph.message(12, valueInfo(name, dims));
    return new ProtoWriter()
      .int(1, IR_VERSION)
      .string(2, 'taesd-web')
      .message(7, this.graph)
      .message(8, new ProtoWriter().string(1, '').int(2, OPSET))
      .finish();
  }

  conv(x: string, p: ConvWeights): string {
    const inputs = [x, this.initializer(`${p.key}.weight`, [p.cout, p.cin, p.k, p.k], p.weight)];
    if (p.bias) inputs.push(this.initializer(`${p.key}.bias`, [p.cout], p.bias));
    const r = (p.k - 1) / 2;
    return this.node('Conv', inputs, { kernel_shape: [p.k, p.k], pads: [r, r, r, r] }, p.key);
  }
}

/** The ONNX node(s) of one op; returns the output's name. */
export function emit(b: GraphBuilder, op: Op, name: (id: number) => string): string {
  const x = name(op.x.id);
  switch (op.kind) {
    case 'clamp': {
      // x = tanh(x / 3) * 3
      const third = b.node('Mul', [x, b.scalar('clamp.in', 1 / 3)]);
      return b.node('Mul', [b.node('Tanh', [third]), b.scalar('clamp.out', 3)]);
    }
    case 'conv': return b.conv(x, op.conv);
    case 'relu': return b.node('Relu', [x]);
    case 'add': return b.node('Add', [x, name(op.y.id)]);
    // asymmetric + floor: out[y] = in[floor(y / 2)], PyTorch's nearest.
    case 'upsample': return b.node('Resize', [x, '', b.scalar('upsample.scales', [1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    case 'groupNorm': {
      const gamma = b.initializer(`groupnorm.${op.out.id}.weight`, [op.gamma.length], op.gamma);
      const beta = b.initializer(`groupnorm.${op.out.id}.bias`, [op.beta.length], op.beta);
      return b.node('GroupNormalization', [x, gamma, beta], { num_groups: op.groups, epsilon: { float: op.eps } });
    }
  }
}

/**
 * Serialises a lowered decoder as an ONNX model (opset 21): Mul/Tanh for the input clamp, Conv,
 * Relu, Add, Resize (nearest x2) and GroupNormalization, one node per op. Weights become
 * initializers, so the bytes are about the weights' float32 size (taef2: 5.4 MB); building
 * takes ~20 ms. With `stage`, only that stage's ops (for decoding in row bands).
 */
export function buildDecoderGraph(graph: DecoderGraph, stage?: Stage): Uint8Array {
  const { input, output, ops } = stage ?? graph;
  const b = new GraphBuilder();
  const names = new Map<number, string>([[input.id, GRAPH_INPUT]]);
  const name = (id: number) => names.get(id)!;
  for (const op of ops) names.set(op.out.id, emit(b, op, name));
  // Names the result; onnxruntime drops the Identity when it optimises the graph.
  b.node('Identity', [name(output.id)], {}, GRAPH_OUTPUT, GRAPH_OUTPUT);

  const title = `taesd-web ${graph.weights.model.id} decoder${stage ? ` stage ${stage.level}` : ''}`;
  return b.model(title, GRAPH_INPUT, ['n', input.channels, 'h', 'w'], GRAPH_OUTPUT, ['n', output.channels, 'oh', 'ow']);
}
