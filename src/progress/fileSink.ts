// Node only: writes a job folder on disk. Not imported by browser code.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, realpath, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import { fail, TaesdError } from '../errors.js';
import { checkName } from './names.js';
import type { Artifact, JobInfo, ProgressSink } from './sink.js';
import { isOwnFileName } from './stepFiles.js';

export interface FileSinkOptions {
  /** The folder job folders live under, as `<root>/<outputFolder>/<jobId>` (default: the current directory). */
  readonly root?: string;
}

const RENAME_RETRIES = 8;

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
 * Safety: every name is checked (checkName) before anything is created; the output folder and
 * the job folder are created one level at a time and must be real folders, not symlinks
 * (UNSAFE_PATH otherwise, with nothing created through the link); and the job folder's real
 * path must lie inside the root's. The root itself is the caller's to trust.
 *
 * Fresh job (the policy): `open` deletes, in the job folder, only the names this library writes
 * for that prefix (progress.json first, then latest.*, `<prefix>_NNNN.*`, `<prefix>_final.*`,
 * stale temp files), in every format. Other files stay; a poller meanwhile sees progress.json
 * missing (404), then `starting`. One writer per job folder at a time.
 */
export class FileSink implements ProgressSink {
  readonly root: string;
  private jobDir: string | null = null;

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
      fail('IO', `cannot create job folder ${dir}`, e);
    }
    const [realRoot, realDir] = await Promise.all([realpath(this.root), realpath(dir)]);
    if (!inside(realRoot, realDir)) fail('UNSAFE_PATH', `job folder ${dir} resolves to ${realDir}, outside the root ${realRoot}`);
    this.jobDir = realDir;
    try {
      const old = (await readdir(realDir)).filter((n) => isOwnFileName(n, prefix));
      old.sort((a, b) => Number(b === 'progress.json') - Number(a === 'progress.json'));
      for (const name of old) await rm(join(realDir, name), { force: true });
    } catch (e) {
      fail('IO', `cannot clear the earlier run in ${realDir}`, e);
    }
  }

  async write(artifact: Artifact): Promise<void> {
    const dir = this.jobDir;
    if (!dir) fail('BAD_OPTION', 'FileSink.write before open');
    const name = checkName('file name', artifact.name);
    const target = join(dir, name);
    if (!inside(dir, target) || target.slice(dir.length + 1).includes(sep)) fail('UNSAFE_PATH', `${name} escapes ${dir}`);
    const temp = join(dir, `.taesd-${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temp, artifact.bytes, { flag: 'wx' });
      await renameWithRetry(temp, target);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      fail('IO', `cannot write ${target}`, e);
    }
  }
}

async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await rename(from, to);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (i >= RENAME_RETRIES || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw e;
      await new Promise((r) => setTimeout(r, 10 * 2 ** i));
    }
  }
}
