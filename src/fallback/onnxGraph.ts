// The decoder as an ONNX model, built from loaded weights, so onnxruntime-web runs every variant
// with no model files of its own. Field numbers: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
import { POOL_EPS, POOL_GROUPS, UPSCALE } from '../model/architecture.js';
import type { ConvWeights, DecoderWeights, PoolWeights } from '../model/weights.js';
import { ProtoWriter } from './protobuf.js';

/** Opset 21: the first whose GroupNormalization takes per-channel scale and bias, as `pool.1` holds them (18's are per group). */
export const OPSET = 21;
/** The IR version that goes with opset 21. */
const IR_VERSION = 10;

/** Graph input: `[1, C, h, w]` float32 in TAESD space; h and w are symbolic, one session serves every size. */
export const GRAPH_INPUT = 'latent';
/** Graph output: `[1, 3, 8h, 8w]` float32, the raw decoder output. */
export const GRAPH_OUTPUT = 'image';

// onnx.TensorProto.DataType
const FLOAT = 1;
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
class GraphBuilder {
  readonly graph = new ProtoWriter();
  private count = 0;

  /** Appends a node and returns its output's name, which also names the node (unique, as ONNX asks). */
  node(op: string, inputs: readonly string[], attributes: Attributes = {}, name = op, output = `${name}:${this.count++}`): string {
    const node = new ProtoWriter();
    for (const i of inputs) node.string(1, i);
    node.string(2, output).string(3, output).string(4, op);
    for (const [k, v] of Object.entries(attributes)) node.message(5, attribute(k, v));
    this.graph.message(1, node);
    return output;
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

  conv(x: string, p: ConvWeights): string {
    const inputs = [x, this.initializer(`${p.key}.weight`, [p.cout, p.cin, p.k, p.k], p.weight)];
    if (p.bias) inputs.push(this.initializer(`${p.key}.bias`, [p.cout], p.bias));
    const r = (p.k - 1) / 2;
    return this.node('Conv', inputs, { kernel_shape: [p.k, p.k], pads: [r, r, r, r] }, p.key);
  }

  relu(x: string): string {
    return this.node('Relu', [x]);
  }

  pool(x: string, p: PoolWeights, key: string): string {
    const gamma = this.initializer(`${key}.pool.1.weight`, [p.gamma.length], p.gamma);
    const beta = this.initializer(`${key}.pool.1.bias`, [p.beta.length], p.beta);
    const norm = this.node('GroupNormalization', [this.conv(x, p.expand), gamma, beta], { num_groups: POOL_GROUPS, epsilon: { float: POOL_EPS } }, `${key}.pool.1`);
    return this.conv(this.relu(norm), p.reduce);
  }
}

/**
 * Serialises the decoder for `weights` as an ONNX model (opset 21): Mul/Tanh for the input clamp,
 * Conv, Relu, Add, Resize (nearest x2), and for taef2 the 1x1 convs and GroupNormalization.
 * Weights become initializers, so the bytes are about the weights' float32 size (taef2: 5.4 MB);
 * building takes ~20 ms.
 */
export function buildDecoderGraph(weights: DecoderWeights): Uint8Array {
  const b = new GraphBuilder();
  const scalar = (name: string, v: number) => b.initializer(name, [], Float32Array.of(v));
  const upScales = b.initializer('upsample.scales', [4], Float32Array.of(1, 1, 2, 2));

  // x = tanh(x / 3) * 3
  let x = b.node('Mul', [GRAPH_INPUT, scalar('clamp.in', 1 / 3)]);
  x = b.node('Mul', [b.node('Tanh', [x]), scalar('clamp.out', 3)]);
  for (const layer of weights.layers) {
    if (layer.kind === 'conv') {
      if (layer.upsample) {
        // asymmetric + floor: out[y] = in[floor(y / 2)], PyTorch's nearest.
        x = b.node('Resize', [x, '', upScales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
      }
      x = b.conv(x, layer.conv);
      if (layer.relu) x = b.relu(x);
    } else {
      if (layer.pool) x = b.node('Add', [x, b.pool(x, layer.pool, layer.key)]);
      const [c0, c2, c4] = layer.convs;
      const h = b.conv(b.relu(b.conv(b.relu(b.conv(x, c0)), c2)), c4);
      x = b.relu(b.node('Add', [h, x]));
    }
  }
  // Names the result; onnxruntime drops the Identity when it optimises the graph.
  b.node('Identity', [x], {}, GRAPH_OUTPUT, GRAPH_OUTPUT);

  const channels = weights.model.latentChannels;
  b.graph.string(2, `taesd-web ${weights.model.id} decoder`);
  b.graph.message(11, valueInfo(GRAPH_INPUT, [1, channels, 'h', 'w']));
  b.graph.message(12, valueInfo(GRAPH_OUTPUT, [1, 3, `${UPSCALE}h`, `${UPSCALE}w`]));
  return new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, 'taesd-web')
    .message(7, b.graph)
    .message(8, new ProtoWriter().string(1, '').int(2, OPSET))
    .finish();
}
