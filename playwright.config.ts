// Browser tests: Chromium (Debian's /usr/bin/chromium; nothing is downloaded) against the Vite
// dev server (vite.config.ts). In this headless Chromium WebGPU runs on SwiftShader (a CPU
// emulation, no shader-f16), so timeouts are generous and one worker runs the suite.
//
// Flags: '--enable-unsafe-webgpu' alone gives WebGPU compute, but the first getCurrentTexture()
// of any WebGPU canvas (<canvas> or OffscreenCanvas) destroys the device ("Device was
// destroyed"; popErrorScope rejects "Instance dropped"). Running Dawn and ANGLE both on
// SwiftShader's Vulkan fixes that; without a display, a <canvas> frame still reads back blank
// once presented (test/browser/canvas.spec.ts reads it in the submitting task).
import { join } from 'node:path';
import { defineConfig, devices } from '@playwright/test';

const PORT = Number(process.env.TAESD_TEST_PORT ?? 5199);
// The job folders the dev server serves at /jobs/ (demo-poll.spec.ts writes there); the specs read it too.
process.env.TAESD_JOBS ??= join(import.meta.dirname, 'test-results/jobs');
const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results/playwright',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  // The JSON report feeds scripts/test-summary.mjs (the closing 'N passed, N failed' line);
  // skipReasons.ts prints why each skipped test was skipped.
  reporter: [['list'], ['./test/browser/skipReasons.ts'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    ...devices['Desktop Chrome'],
    baseURL: BASE_URL,
    viewport: { width: 1100, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--use-vulkan=swiftshader',
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
      ],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `npx vite --config vite.config.ts --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `${BASE_URL}/test.html`,
    reuseExistingServer: !process.env.CI,
    env: { TAESD_VITE_STATIC: '1', TAESD_JOBS: process.env.TAESD_JOBS },
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
