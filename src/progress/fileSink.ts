// Node only: writes a job folder on disk. Not imported by browser code.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rm } from 'node:fs/promises';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import { fail, TaesdError } from '../errors.js';
import { describeFsError, replaceFile } from './atomicFile.js';
import { JobLock } from './jobLock.js';
import { checkName } from './names.js';
import type { Artifact, JobInfo, ProgressSink } from './sink.js';
import { isOwnFileName } from './stepFiles.js';

export interface FileSinkOptions {
  /** The folder job folders live under, as `<root>/<outputFolder>/<jobId>` (default: the current directory). */
  readonly root?: string;
}

function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Writes each artifact to `<root>/<outputFolder>/<jobId>/<name>` atomically: the bytes go to a
 * temp file in the same folder (`.taesd-<name>.<random>.tmp`, created exclusively), which is
 * then renamed over the target, so a reader sees the old file or the new one, whole. On
 * Windows, a rename refused because a reader holds the target open is retried (up to ~2.5 s).
 *
 * Full disk: when the temp file cannot be written, progress.json is overwritten in place
 * instead (not atomic: a poller may read it torn once, and retries), in the space the previous
 * record holds, so the final `error` or `completed` status still lands. Error messages name
 * the file inside the job folder and the cause (`no space left on device (ENOSPC)`), never a
 * server path.
 *
 * One writer per job: `open` takes a lock (`.taesd-lock`, see JobLock) and refuses, with IO, a
 * job a live writer holds; a dead writer's lock is taken over. Every progress.json write
 * refreshes it; `close` releases it.
 *
 * Safety: every name is checked (checkName) before anything is created; the output folder and
 * the job folder are created one level at a time and must be real folders, not symlinks
 * (UNSAFE_PATH otherwise, with nothing created through the link); and the job folder's real
 * path must lie inside the root's. The root itself is the caller's to trust.
 *
 * Fresh job (the policy): `open` deletes, in the job folder, only the names this library writes
 * for that prefix (progress.json first, then latest.*, `<prefix>_NNNN.*`, `<prefix>_final.*`,
 * stale temp files), in every format. Other files stay; a poller meanwhile sees progress.json
 * missing (404), then `starting`.
 */
export class FileSink implements ProgressSink {
  readonly root: string;
  private jobDir: string | null = null;
  private jobName = '';
  private lock: JobLock | null = null;

  constructor(options: FileSinkOptions = {}) {
    this.root = resolve(options.root ?? '.');
  }

  /** The job folder, once opened. */
  get dir(): string | null {
    return this.jobDir;
  }

  async open(job: JobInfo): Promise<void> {
    const folder = checkName('outputFolder', job.outputFolder);
    const id = checkName('jobId', job.jobId);
    const prefix = checkName('filenamePrefix', job.filenamePrefix);
    const dir = join(this.root, folder, id);
    if (!inside(this.root, dir)) fail('UNSAFE_PATH', `job folder ${dir} is not inside ${this.root}`);
    await this.close(); // a sink opened again lets go of its previous job
    try {
      await mkdir(this.root, { recursive: true });
      // Create the two levels one at a time, refusing a symlink (or a file) at either, so
      // nothing is ever created through a link that points outside the root.
      let at = this.root;
      for (const segment of [folder, id]) {
        at = join(at, segment);
        const st = await lstat(at).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
        if (st === null) await mkdir(at);
        else if (st.isSymbolicLink() || !st.isDirectory()) fail('UNSAFE_PATH', `${at} is a symlink or not a folder; refusing to write through it`);
      }
    } catch (e) {
      if (e instanceof TaesdError) throw e;
      fail('IO', `cannot create job folder ${dir}`, { cause: e });
    }
    const [realRoot, realDir] = await Promise.all([realpath(this.root), realpath(dir)]);
    if (!inside(realRoot, realDir)) fail('UNSAFE_PATH', `job folder ${dir} resolves to ${realDir}, outside the root ${realRoot}`);
    this.jobName = `${folder}/${id}`;
    try {
      this.lock = await JobLock.acquire(realDir, this.jobName);
    } catch (e) {
      if (e instanceof TaesdError) throw e;
      fail('IO', `job ${this.jobName}: cannot take its lock: ${describeFsError(e)}`, { cause: e });
    }
    this.jobDir = realDir;
    try {
      const old = (await readdir(realDir)).filter((n) => isOwnFileName(n, prefix));
      old.sort((a, b) => Number(b === 'progress.json') - Number(a === 'progress.json'));
      for (const name of old) await rm(join(realDir, name), { force: true });
    } catch (e) {
      await this.close();
      fail('IO', `cannot clear the earlier run in ${realDir}`, { cause: e });
    }
  }

  async write(artifact: Artifact): Promise<void> {
    const dir = this.jobDir;
    if (!dir) fail('BAD_OPTION', 'FileSink.write before open');
    const name = checkName('file name', artifact.name);
    const target = join(dir, name);
    if (!inside(dir, target) || target.slice(dir.length + 1).includes(sep)) fail('UNSAFE_PATH', `${name} escapes ${dir}`);
    try {
      await replaceFile(target, artifact.bytes);
    } catch (e) {
      const saved = artifact.kind === 'progress' && (await overwriteInPlace(target, artifact.bytes));
      if (!saved) fail('IO', `cannot write ${name} in job ${this.jobName}: ${describeFsError(e)}`, { cause: e });
    }
    if (artifact.kind === 'progress') await this.lock?.refresh();
  }

  /** Releases the job lock; the job folder stays as written. */
  async close(): Promise<void> {
    await this.lock?.release();
    this.lock = null;
  }
}

/**
 * Rewrites an existing file's bytes where they are (no new file, so no new inode, and no new
 * blocks while the bytes fit the old ones). Never creates a file or follows a symlink. True if done.
 */
async function overwriteInPlace(target: string, bytes: Uint8Array): Promise<boolean> {
  try {
    const file = await open(target, constants.O_RDWR | (constants.O_NOFOLLOW ?? 0));
    try {
      await file.write(bytes, 0, bytes.length, 0);
      await file.truncate(bytes.length);
    } finally {
      await file.close();
    }
    return true;
  } catch {
    return false;
  }
}
