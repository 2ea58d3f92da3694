// Runs one ONNX model on onnxruntime-web's wasm backend in a process of its own, so it can use
// a thread count other than the test's (ort fixes threads at the first session of a process).
// Usage: node ortChild.mjs <numThreads> <dir>; reads dir/model.onnx, dir/input.f32 and
// dir/input.json ({ "input": name, "output": name, "dims": [...] }), writes dir/output.f32.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';

const [threads, dir] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8'));
ort.env.wasm.numThreads = Number(threads);
const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
const bytes = readFileSync(join(dir, 'input.f32'));
const input = new ort.Tensor('float32', new Float32Array(new Uint8Array(bytes).buffer), spec.dims);
const output = (await session.run({ [spec.input]: input }))[spec.output];
writeFileSync(join(dir, 'output.f32'), new Uint8Array(output.data.buffer, output.data.byteOffset, output.data.byteLength));
