// The body of a separate Node process that reads a job folder in a tight loop, as a frontend's
// server would, and counts every read that is not a complete, valid file. Run with
// `node <file.mjs> <jobDir> <path to jpeg-js> <timeoutMs>`; prints one JSON line when the job
// completes (or the timeout passes). Kept as plain JS so the child needs no TypeScript loader.
export const POLLER_SOURCE = String.raw`
import fs from 'node:fs';
import { createRequire } from 'node:module';
const [dir, jpegPath, timeoutMs] = process.argv.slice(2);
const jpeg = createRequire(import.meta.url)(jpegPath);
const FIELDS = ['job_id', 'status', 'current_step', 'total_steps', 'progress_percent', 'latest_image', 'timestamp'];
const r = { reads: 0, imageReads: 0, jsonFailures: 0, imageFailures: 0, missingAfterSeen: 0, backwards: 0, completed: false, samples: [] };
let seenJson = false, seenImage = false, lastStep = -1;
function decodeJpeg(buf, what) {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8 || buf[buf.length - 2] !== 0xff || buf[buf.length - 1] !== 0xd9)
    throw new Error(what + ': not a whole JPEG (' + buf.length + ' bytes)');
  const im = jpeg.decode(buf, { useTArray: true, tolerantDecoding: false });
  if (!(im.width > 0 && im.height > 0)) throw new Error(what + ': empty image');
}
function read(file) {
  try { return fs.readFileSync(file); } catch (e) { if (e.code === 'ENOENT') return null; throw e; }
}
process.stdout.write('ready\n');
const deadline = Date.now() + Number(timeoutMs);
while (Date.now() < deadline) {
  const text = read(dir + '/progress.json');
  if (text === null) { if (seenJson) r.missingAfterSeen++; continue; }
  seenJson = true;
  r.reads++;
  let rec;
  try {
    rec = JSON.parse(text.toString('utf8'));
    for (const f of FIELDS) if (!(f in rec)) throw new Error('missing ' + f);
  } catch (e) {
    r.jsonFailures++;
    if (r.samples.length < 5) r.samples.push(String(e) + ' in ' + JSON.stringify(text.toString('utf8').slice(0, 80)));
    continue;
  }
  if (rec.current_step < lastStep) r.backwards++;
  lastStep = rec.current_step;
  for (const name of ['latest.jpeg', rec.latest_image]) {
    if (!name) continue;
    const buf = read(dir + '/' + name);
    if (buf === null) { if (name === rec.latest_image || seenImage) r.missingAfterSeen++; continue; }
    seenImage = true;
    r.imageReads++;
    try { decodeJpeg(buf, name); } catch (e) { r.imageFailures++; if (r.samples.length < 5) r.samples.push(String(e)); }
  }
  if (rec.status === 'completed') { r.completed = true; break; }
}
process.stdout.write(JSON.stringify(r) + '\n');
`;
