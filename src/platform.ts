/**
 * Imports a Node-only module by a name bundlers do not see, so browser builds never try to
 * bundle `node:fs` or Dawn's native addon. Only call it where `isNode` is true.
 */
export function importNodeOnly<T>(name: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ name) as Promise<T>;
}

export const isNode: boolean =
  typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
