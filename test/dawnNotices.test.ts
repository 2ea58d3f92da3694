// The CLI's stderr filter: Dawn's two native limit notices go, every other byte stays, in order,
// however the pipe splits the text.
import { describe, expect, it } from 'vitest';
import { noticeFilter } from '../src/cli/dawnNotices.js';

const UNIFORM = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n';
const STORAGE = 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 500000 to 16 to fit dynamic offset allocation limit.\n';

/** Feeds `text` in pieces of `size` characters; returns what comes out. */
function filtered(text: string, size: number): string {
  const filter = noticeFilter();
  let out = '';
  for (let i = 0; i < text.length; i += size) out += filter.push(text.slice(i, i + size));
  return out + filter.end();
}

describe('noticeFilter', () => {
  it.each([
    ['the two notices', UNIFORM + STORAGE, ''],
    ['notices among other lines', `taesd-web: start\n${UNIFORM}${STORAGE}taesd-web: taef2 on webgpu\n`, 'taesd-web: start\ntaesd-web: taef2 on webgpu\n'],
    ['another Dawn warning', 'Warning: maxDynamicSomething else happened.\n', 'Warning: maxDynamicSomething else happened.\n'],
    ['a notice quoted inside a line', `error: ${UNIFORM}`, `error: ${UNIFORM}`],
    ['a last line without a newline', 'taesd-web: error [IO]: no', 'taesd-web: error [IO]: no'],
    ['progress bar redraws', '\r[#..] 1/3\r[##.] 2/3\r[###] 3/3\n', '\r[#..] 1/3\r[##.] 2/3\r[###] 3/3\n'],
  ])('%s', (_name, input, output) => {
    for (const size of [1, 7, 64, input.length]) expect(filtered(input, size)).toBe(output);
  });

  it('passes a partial line on at once unless it may be the start of a notice', () => {
    const filter = noticeFilter();
    expect(filter.push('\r[#..] 1/3')).toBe('\r[#..] 1/3');
    expect(filter.push('\nWarning: max')).toBe('\n');
    expect(filter.push('imum')).toBe('Warning: maximum');
  });
});
