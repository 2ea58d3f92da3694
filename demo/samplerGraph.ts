// A stand-in for a sampler step as a tiny ONNX model: x_next = x + rate * (target - x), three nodes
// (Sub, Mul, Add), with `target` held in the model, so a session's output converges to it step by
// step without leaving the GPU. Written with the project's protobuf writer (below the public API:
// the demo needs an ONNX model and ships no model files, as the WASM backend does).
import { ProtoWriter } from '../src/fallback/protobuf.js';

/** Graph input and output names. */
export const SAMPLER_INPUT = 'x';
export const SAMPLER_OUTPUT = 'x_next';

// onnx.proto: TensorProto.DataType FLOAT; ir_version 8 goes with opset 13 (Sub/Mul/Add broadcast since 7).
const FLOAT = 1;
const IR_VERSION = 8;
const OPSET = 13;

function tensor(name: string, dims: readonly number[], data: Float32Array): ProtoWriter {
  const t = new ProtoWriter();
  for (const d of dims) t.int(1, d);
  return t.int(2, FLOAT).string(8, name).bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(name: string, dims: readonly number[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, new ProtoWriter().int(1, d));
  const type = new ProtoWriter().message(1, new ProtoWriter().int(1, FLOAT).message(2, shape));
  return new ProtoWriter().string(1, name).message(2, type);
}

function node(op: string, inputs: readonly string[], output: string): ProtoWriter {
  const n = new ProtoWriter();
  for (const i of inputs) n.string(1, i);
  return n.string(2, output).string(3, output).string(4, op);
}

/** The ONNX bytes of one step toward `target` (float32, any shape, e.g. [1, C, h, w]); `rate` in (0, 1]. */
export function samplerStepModel(target: Float32Array, shape: readonly number[], rate: number): Uint8Array {
  const graph = new ProtoWriter()
    .message(1, node('Sub', ['target', SAMPLER_INPUT], 'delta'))
    .message(1, node('Mul', ['delta', 'rate'], 'move'))
    .message(1, node('Add', [SAMPLER_INPUT, 'move'], SAMPLER_OUTPUT))
    .string(2, 'taesd-web demo sampler step')
    .message(5, tensor('target', shape, target))
    .message(5, tensor('rate', [], Float32Array.of(rate)))
    .message(11, valueInfo(SAMPLER_INPUT, shape))
    .message(12, valueInfo(SAMPLER_OUTPUT, shape));
  return new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, 'taesd-web demo')
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, OPSET))
    .finish();
}
