// SIGINT/SIGTERM/SIGHUP as the cancellation of a CLI job (progress, image or video).
import { constants } from 'node:os';

/** Turns SIGINT/SIGTERM (and SIGHUP: the terminal closed) into an abort of `controller`, with the exit code 128 + the signal's number; returns the remover. */
export function cancelOnSignals(controller: AbortController): { exitCode: () => number; remove: () => void } {
  let code = 0;
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => {
    const handler = () => {
      if (controller.signal.aborted) return; // Ctrl-C reaches this process twice: from the terminal and from bin's parent
      code = 128 + constants.signals[signal];
      process.stderr.write(`\ntaesd-web: ${signal}: cancelling the job (the step in flight finishes first)\n`);
      controller.abort(new Error(`cancelled by ${signal}`));
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return { exitCode: () => code, remove: () => handlers.forEach(([signal, h]) => process.off(signal, h)) };
}
