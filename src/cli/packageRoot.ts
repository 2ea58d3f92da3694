import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (dist/src/cli -> ../../..; src/cli under vitest -> ../..). */
const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_ROOT = existsSync(join(here, '../../package.json')) ? resolve(here, '../..') : resolve(here, '../../..');
