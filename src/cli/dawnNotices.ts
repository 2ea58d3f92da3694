// Dawn (the `webgpu` package) writes two notices to stderr when it first enumerates adapters:
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
// (and the same for storage buffers). It clamps limits taesd-web never uses, unconditionally, in
// dawn/native/Limits.cpp, with dawn::WarningLog(): fprintf(stderr) from native code, with no
// toggle, instance option or log level to turn it off. Nothing in-process can intercept a native
// write to fd 2, so the CLI runs in a child process whose stderr passes through noticeFilter():
// those two exact lines are dropped, every other byte is passed on.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const NOTICE = /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;
const PREFIX = 'Warning: maxDynamic';
/** Set in the child's environment: it runs the CLI itself. */
const CHILD_ENV = 'TAESD_WEB_FILTERED';
/** The parent's terminal width, for the child's progress bar (its own stderr is a pipe). */
const COLUMNS_ENV = 'TAESD_WEB_STDERR_COLUMNS';

/** Drops Dawn's notice lines from stderr text as it comes; holds back only a partial line that may become one. */
export function noticeFilter(): { push(text: string): string; end(): string } {
  let pending = '';
  // Part of the current line was already passed on, so the line is not a notice.
  let midLine = false;
  return {
    push(text) {
      let out = '';
      const lines = (pending + text).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (midLine || !NOTICE.test(line)) out += `${line}\n`;
        midLine = false;
      }
      if (midLine || (!PREFIX.startsWith(pending) && !pending.startsWith(PREFIX))) {
        out += pending;
        midLine ||= pending !== '';
        pending = '';
      }
      return out;
    },
    end() {
      const rest = NOTICE.test(pending) ? '' : pending;
      pending = '';
      return rest;
    },
  };
}

export function isFilteredChild(): boolean {
  return process.env[CHILD_ENV] === '1';
}

/** stderr's terminal width, or the parent's when this is the filtered child; null when not a terminal. */
export function stderrColumns(): number | null {
  if (process.stderr.isTTY) return process.stderr.columns;
  const parent = Number(process.env[COLUMNS_ENV]);
  return parent > 0 ? parent : null;
}

/** Runs `node <script> <args>` as the filtered child; resolves to its exit code (128 + n after signal n). */
export function runFiltered(script: string, args: readonly string[]): Promise<number> {
  const env = { ...process.env, [CHILD_ENV]: '1', ...(process.stderr.isTTY && { [COLUMNS_ENV]: String(process.stderr.columns) }) };
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['inherit', 'inherit', 'pipe'], env });
  const filter = noticeFilter();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => process.stderr.write(filter.push(text)));
  // Ctrl-C reaches both processes; a kill aimed at this one alone is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`taesd-web: cannot start ${process.execPath}: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      process.stderr.write(filter.end());
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
