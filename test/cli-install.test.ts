// The README's first line on a machine without apt or root (issue #18 item 1): .ci/install-system
// and the decode run with a PATH whose apt-get, dpkg, dpkg-query and sudo are stubs in a temp
// folder (failing, or logging what they were asked), written by this test.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../src/image/pngDecode.js';
import { ROOT } from './support/shared.js';

/** A folder of shell scripts named as commands, to put first on PATH; `log` collects what the logging ones were asked. */
function stubs(scripts: Record<string, string>): { path: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'taesd-stubs-'));
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body.replaceAll('$LOG', log)}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { path: `${dir}${delimiter}${process.env.PATH}`, log };
}

const missing = (name: string) => `echo "${name}: command not found" >&2; exit 127`;
const NO_APT = { 'apt-get': missing('apt-get'), dpkg: missing('dpkg'), 'dpkg-query': missing('dpkg-query'), sudo: missing('sudo') };
/** apt-get and tee log their arguments; dpkg-query says nothing is installed; sudo runs its command. */
const LOGGING_APT = {
  'apt-get': 'echo "apt-get $*" >> $LOG',
  'dpkg-query': '[ "$1" = --version ] && exit 0; exit 1',
  tee: 'echo "tee $*" >> $LOG; cat > /dev/null',
  sudo: '[ "$1" = -n ] && shift; [ "$1" = -v ] && exit 0; exec "$@"',
};

const installSystem = (path: string, env: Record<string, string> = {}) =>
  spawnSync('bash', [join(ROOT, '.ci/install-system')], { encoding: 'utf8', env: { ...process.env, PATH: path, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

/** What install-system must say when it cannot install: what, and why. */
function expectExplained(stderr: string): void {
  expect(stderr).toMatch(/mesa-vulkan-drivers \(Mesa >= 25, lavapipe\)[^]*?WebGPU\s+in Node/);
  expect(stderr).toMatch(/chromium and fonts-dejavu-core: the browser the Playwright tests/);
  expect(stderr).toMatch(/None of it is needed to decode/);
}

describe('.ci/install-system where it cannot install', () => {
  it('says what it would install and why, and exits 1, when apt-get, dpkg and sudo fail', () => {
    const r = installSystem(stubs(NO_APT).path);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^install-system: cannot install system packages: apt-get does not run here/);
    expectExplained(r.stderr);
    expect(r.stderr).not.toMatch(/command not found/);
  });

  it('says so when it is not root and sudo fails', () => {
    const r = installSystem(stubs({ ...LOGGING_APT, id: 'echo 1000', sudo: 'exit 1' }).path);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^install-system: cannot install system packages: not root, and sudo does not run here/);
    expectExplained(r.stderr);
    expect(r.stderr).toMatch(/Missing here: chromium libvulkan1 fonts-dejavu-core python3-torch python3-numpy python3-aiohttp mesa-vulkan-drivers\.\n$/);
  });
});

describe('.ci/install-system on other systems (apt-get logged, not run)', () => {
  const osRelease = (id: string, codename: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'taesd-os-')), 'os-release');
    writeFileSync(file, `ID=${id}\nVERSION_CODENAME=${codename}\n`);
    return file;
  };

  it("adds no Debian bookworm-backports source on Ubuntu: Mesa from the distribution's own repositories", () => {
    const s = stubs(LOGGING_APT);
    const r = installSystem(s.path, { TAESD_OS_RELEASE: osRelease('ubuntu', 'noble') });
    const calls = readFileSync(s.log, 'utf8');
    expect(r.status, r.stderr).toBe(0);
    expect(calls).not.toMatch(/bookworm|tee/);
    expect(calls).toMatch(/^apt-get install -y -qq mesa-vulkan-drivers$/m);
    expect(calls).toMatch(/^apt-get install -y -qq libvulkan1 chromium fonts-dejavu-core python3-torch python3-numpy python3-aiohttp$/m);
    // The stubbed dpkg-query still reports no Mesa: the script says what that means.
    expect(r.stderr).toMatch(/warning: this system's Mesa is missing; Dawn may find no WebGPU adapter below Mesa 25/);
  });

  it('takes Mesa from bookworm-backports on Debian bookworm', () => {
    const s = stubs(LOGGING_APT);
    const r = installSystem(s.path, { TAESD_OS_RELEASE: osRelease('debian', 'bookworm') });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(s.log, 'utf8')).toMatch(/^apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers$/m);
  });
});

describe("the README's first line", () => {
  const lines = /```bash\n(.*)\n(.*)\n```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))!;
  const [first, second] = [lines[1]!, lines[2]!];

  it('installs nothing from the system (the test line does)', () => {
    expect(first).not.toContain('install-system');
    expect(first).toMatch(/^(ONNXRUNTIME_NODE_INSTALL=skip )?npm ci && npx taesd-web decode /);
    expect(second).toContain('bash .ci/install-system');
  });

  it('decodes to a 512x512 PNG with apt-get, dpkg and sudo failing on PATH', () => {
    const args = first.slice(first.indexOf('npx taesd-web ') + 'npx taesd-web '.length).split(' ');
    const cwd = mkdtempSync(join(tmpdir(), 'taesd-first-'));
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/taesd-web.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, PATH: stubs(NO_APT).path } });
    expect(r.status, r.stderr).toBe(0);
    const out = args[args.indexOf('--out') + 1]!;
    const png = decodePng(readFileSync(join(cwd, out)));
    expect([png.width, png.height]).toEqual([512, 512]);
  });
});
