// Browsers only (no Node import): a job folder in the Origin Private File System.
import { fail, isTaesdError } from '../errors.js';
import { checkName } from './names.js';
import type { Artifact, JobInfo, ProgressSink } from './sink.js';
import { isOwnFileName, parseStepFileName, type StepFile } from './stepFiles.js';

export interface OpfsSinkOptions {
  /** The folder job folders go under (default: the origin's OPFS root, `navigator.storage.getDirectory()`). */
  readonly root?: FileSystemDirectoryHandle;
}

/** lib.dom lists `keys()` only under DOM.AsyncIterable. */
interface IterableDirectory {
  keys(): AsyncIterableIterator<string>;
}

/**
 * Writes the job folder layout (`<outputFolder>/<jobId>/...`) into the Origin Private File
 * System, so previews survive a reload without a server. Each file is written through
 * `createWritable()`, which stages the bytes and swaps them in on `close()`: readers see the
 * old or the new file whole. Needs `FileSystemFileHandle.createWritable` (where it is missing,
 * writes throw IO). Fresh job: as FileSink, `open` removes only this library's names.
 */
export class OpfsSink implements ProgressSink {
  private dir: FileSystemDirectoryHandle | null = null;
  private prefix = 'step';

  constructor(private readonly options: OpfsSinkOptions = {}) {}

  /** The job folder's handle, once opened. */
  get directory(): FileSystemDirectoryHandle | null {
    return this.dir;
  }

  async open(job: JobInfo): Promise<void> {
    const folder = checkName('outputFolder', job.outputFolder);
    const id = checkName('jobId', job.jobId);
    this.prefix = checkName('filenamePrefix', job.filenamePrefix);
    try {
      const root = this.options.root ?? (await navigator.storage.getDirectory());
      const dir = await (await root.getDirectoryHandle(folder, { create: true })).getDirectoryHandle(id, { create: true });
      const old: string[] = [];
      for await (const name of (dir as unknown as IterableDirectory).keys()) if (isOwnFileName(name, this.prefix)) old.push(name);
      old.sort((a, b) => Number(b === 'progress.json') - Number(a === 'progress.json'));
      for (const name of old) await dir.removeEntry(name);
      this.dir = dir;
    } catch (e) {
      fail('IO', `OPFS: cannot open ${folder}/${id}`, { cause: e });
    }
  }

  async write(artifact: Artifact): Promise<void> {
    const dir = this.dir;
    if (!dir) fail('BAD_OPTION', 'OpfsSink.write before open');
    const name = checkName('file name', artifact.name);
    let stream: FileSystemWritableFileStream | undefined;
    try {
      const handle = await dir.getFileHandle(name, { create: true });
      if (typeof handle.createWritable !== 'function') fail('IO', 'OPFS: this browser has no createWritable() for atomic writes');
      stream = await handle.createWritable();
      await stream.write(artifact.bytes as Uint8Array<ArrayBuffer>);
      await stream.close();
    } catch (e) {
      if (isTaesdError(e)) throw e;
      await stream?.abort().catch(() => undefined);
      fail('IO', `OPFS: cannot write ${name}`, { cause: e });
    }
  }

  /** One file's bytes, or null if absent. */
  async read(name: string): Promise<Uint8Array | null> {
    const dir = this.dir;
    if (!dir) return null;
    try {
      const file = await (await dir.getFileHandle(checkName('file name', name))).getFile();
      return new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      if (e instanceof DOMException && e.name === 'NotFoundError') return null;
      throw e;
    }
  }

  /** The saved step files in step order (the input of `gather`). */
  async stepFiles(): Promise<StepFile[]> {
    const dir = this.dir;
    if (!dir) return [];
    const out: StepFile[] = [];
    for await (const name of (dir as unknown as IterableDirectory).keys()) {
      const step = parseStepFileName(name, this.prefix);
      const bytes = step === null ? null : await this.read(name);
      if (step !== null && bytes) out.push({ step, name, bytes });
    }
    return out.sort((a, b) => a.step - b.step);
  }
}
