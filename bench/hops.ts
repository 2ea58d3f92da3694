// The path of one warm image decode() on WebGPU (Dawn in Node), Decoder.decode to queue.submit,
// for issue #20's before/after: (1) its src/ call frames, the stack at submit continued through
// the creation stacks of the promises it ran from (the decoder's queue is a .then, which cuts V8's
// async stack); (2) every src/ function the decode calls (V8 precise coverage).
//   npm run build && node --enable-source-maps dist/bench/hops.js
import { createHook, executionAsyncId } from 'node:async_hooks';
import { Session } from 'node:inspector/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';
import { createDecoder } from '../src/decoder.js';

interface Frame { fn: string; file: string; line: string }
const srcFile = (url: string) => relative(PACKAGE_ROOT, url.startsWith('file:') ? fileURLToPath(url) : url).replace(/^dist\//, '').replace(/\.js$/, '.ts');
const frames = (stack = ''): Frame[] => stack.split('\n').slice(1).flatMap((line) => {
  const m = /at (?:async )?(?:(.*?) \()?((?:file:\/\/)?\/[^)]*?):(\d+):\d+\)?$/.exec(line.trim());
  return m && srcFile(m[2]!).startsWith('src/') ? [{ fn: m[1] ?? '<anonymous>', file: srcFile(m[2]!), line: m[3]! }] : [];
});
const key = (f: Frame) => `${f.fn} ${f.file}${f.fn === '<anonymous>' ? `:${f.line}` : ''}`;
const perFile = (list: readonly { file: string }[]) => list.reduce<Record<string, number>>((o, f) => ((o[f.file] = (o[f.file] ?? 0) + 1), o), {});

Error.stackTraceLimit = Infinity;
const decoder = await createDecoder({ backend: 'webgpu', weights: join(PACKAGE_ROOT, 'models/taef2_decoder.pth'), precision: 'f32' });
const latent = { data: new Float32Array(32 * 8 * 8).map((_, i) => Math.sin(i)), shape: [32, 8, 8] };
await decoder.decode(latent); // cold: plans, uploads and tunes once

const born = new Map<number, { stack: string | undefined; trigger: number }>();
const hook = createHook({ init: (id, type, trigger) => void (type === 'PROMISE' && born.set(id, { stack: new Error().stack, trigger })) });
let path: Frame[] = [];
const queue = decoder.device!.queue, submit = queue.submit.bind(queue);
queue.submit = (buffers) => {
  path = frames(new Error().stack);
  // Outward, promise by promise: a creation stack that holds the outermost frame so far adds what lies
  // outside it; one that does not (the .then's registration) is the next caller; a sibling adds nothing.
  for (let id = executionAsyncId(); born.has(id) && !path.some((f) => f.fn === 'Decoder.decode'); id = born.get(id)!.trigger) {
    const seg = frames(born.get(id)!.stack), at = seg.findIndex((f) => key(f) === key(path.at(-1)!));
    if (at >= 0 || !seg.some((f) => path.some((p) => key(p) === key(f)))) path.push(...seg.slice(at + 1));
  }
  return submit(buffers);
};
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
await session.post('Profiler.takePreciseCoverage'); // from zero
hook.enable();
await decoder.decode(latent);
hook.disable();
const { result } = await session.post('Profiler.takePreciseCoverage');
decoder.destroy();

console.log(`call path, Decoder.decode -> queue.submit: ${path.length} src/ frames`);
for (const f of [...path].reverse()) console.log(`  ${f.fn}  ${f.file}:${f.line}`);
console.log(`  per file: ${JSON.stringify(perFile(path))}`);
const called = result.filter((s) => s.url.includes('/dist/src/')).flatMap((s) => s.functions.filter((fn) => fn.ranges[0]!.count > 0).map((fn) => ({ file: srcFile(s.url), fn: fn.functionName || '<anonymous>', count: fn.ranges[0]!.count })));
console.log(`functions called by the decode: ${called.length} (${called.filter((f) => f.fn !== '<anonymous>').length} named), ${called.reduce((a, f) => a + f.count, 0)} calls`);
console.log(`  per file: ${JSON.stringify(perFile(called))}`);
