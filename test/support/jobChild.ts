// A ProgressWriter in a process of its own, to be killed: `node jobChild.mjs <root> <jobId>
// <heartbeatMs>` starts the job, saves step 0, prints `started`, then idles (a sampler between
// steps) with its heartbeat running, until it is killed.
import { FileSink } from '../../src/progress/fileSink.js';
import { ProgressWriter } from '../../src/progress/writer.js';
import { syntheticImage } from './progressImages.js';

const [root, jobId, heartbeatMs] = process.argv.slice(2) as [string, string, string];
const writer = new ProgressWriter({ sink: new FileSink({ root }), jobId, totalSteps: 10, format: 'png', heartbeatMs: Number(heartbeatMs) });
await writer.start();
writer.push(syntheticImage(16, 16, 1));
await writer.flush();
process.stdout.write('started\n');
setInterval(() => undefined, 1 << 30); // the heartbeat timer is unref'd; this keeps the process up
