#!/usr/bin/env node
// The CLI runs in a child process whose stderr is rid of Dawn's two native limit notices
// (see src/cli/dawnNotices.ts); the child is this same script.
import { fileURLToPath } from 'node:url';
import { isFilteredChild, runFiltered } from '../dist/src/cli/dawnNotices.js';

const args = process.argv.slice(2);
if (isFilteredChild()) {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(args);
} else {
  process.exitCode = await runFiltered(fileURLToPath(import.meta.url), args);
}
