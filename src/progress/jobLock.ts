// Node only: one writer per job folder. The lock is a file created exclusively in the job
// folder, naming its holder; a holder that died (kill -9, a crash, a reboot) is detected by its
// pid or by a lock gone unrefreshed, and its lock is taken over.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFile, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegularFile } from '../boundedRead.js';
import { fail, isTaesdError } from '../errors.js';

/** The lock's file name in the job folder (not one the fresh-job policy removes). */
export const LOCK_FILE = '.taesd-lock';

/**
 * A lock unrefreshed for this long is a dead writer's, whatever its pid says (pids get reused).
 * A live ProgressWriter refreshes it with every progress.json, at least every 10 s (its longest heartbeat).
 */
export const LOCK_STALE_MS = 60_000;

/** Locks this process holds: a lock naming our own pid but missing here is a previous process's (a restarted container reuses pids). */
const held = new Set<string>();

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly token: string;
}

function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.token === 'string' ? (h as Holder) : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock at `path` (its text, its age) still belongs to a running writer. */
function isLive(path: string, holder: Holder | null, ageMs: number): boolean {
  if (ageMs > LOCK_STALE_MS) return false;
  // Unreadable and young: another writer is between creating and filling it.
  if (!holder || holder.host !== hostname()) return true;
  return holder.pid === process.pid ? held.has(path) : isAlive(holder.pid);
}

export class JobLock {
  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  /**
   * Takes the lock of job folder `dir` (`what` names the job in messages). Throws IO when a live
   * writer holds it; takes over a dead writer's lock.
   */
  static async acquire(dir: string, what: string): Promise<JobLock> {
    const path = join(dir, LOCK_FILE);
    const token = randomBytes(8).toString('hex');
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), token });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(path, mine, { flag: 'wx' });
        held.add(path);
        return new JobLock(path, token);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const found = await readLock(path);
      if (!found) continue; // released meanwhile
      const holder = parseHolder(found.text);
      if (isLive(path, holder, Date.now() - found.mtimeMs)) {
        const who = holder ? `process ${holder.pid} on ${holder.host} (since ${holder.since})` : 'another writer';
        fail('IO', `job ${what} is being written by ${who}; a second writer would mix two runs. If that writer is gone, delete ${LOCK_FILE} in the job folder`, { reason: 'LOCKED' });
      }
      // A dead writer's lock: move it aside, and discard it only if it is still the one judged dead.
      const aside = join(dir, `${LOCK_FILE}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await rename(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      if ((await readFile(aside, 'utf8').catch(() => '')) !== found.text) await rename(aside, path);
      else await unlink(aside);
    }
    fail('IO', `job ${what}: could not take its lock (${LOCK_FILE}), other writers keep taking it`, { reason: 'LOCKED' });
  }

  /** Marks the holder alive (the lock's mtime); failures are ignored, the next refresh may do. */
  async refresh(): Promise<void> {
    const now = new Date();
    await utimes(this.path, now, now).catch(() => undefined);
  }

  /** Removes the lock if it is still this one's. */
  async release(): Promise<void> {
    held.delete(this.path);
    const found = await readLock(this.path);
    if (found && parseHolder(found.text)?.token === this.token) await unlink(this.path).catch(() => undefined);
  }
}

/** A lock's text is ~150 bytes: a bigger one, or a FIFO or device planted at its name, is never read. */
const MAX_LOCK_BYTES = 4096;

async function readLock(path: string): Promise<{ text: string; mtimeMs: number } | null> {
  let mtimeMs = 0;
  try {
    const bytes = await readRegularFile(path, 'job lock', {
      maxBytes: MAX_LOCK_BYTES,
      tooLarge: (size) => fail('IO', `job lock ${LOCK_FILE} is ${size} bytes, not a lock taesd-web wrote; delete it if no writer is running`, { reason: 'TOO_LARGE' }),
      onStat: (st) => (mtimeMs = st.mtimeMs),
    });
    return { text: new TextDecoder().decode(bytes), mtimeMs };
  } catch (e) {
    if (isTaesdError(e, 'IO') && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
    throw e;
  }
}
