// The video rows' report: a Markdown table (per-frame time, frames per second, peak RSS, the
// preview settings beside the full ones) and an SVG chart of frames per second.
import type { Machine } from './machine.js';

export interface VideoRow {
  readonly config: string;
  readonly frames: number;
  readonly setting: 'full' | 'preview';
  /** `T x h x w` of the latent. */
  readonly latent: string;
  readonly ms?: number;
  readonly outFrames?: number;
  /** `W x H` of a frame. */
  readonly size?: string;
  readonly perFrameMs?: number;
  readonly fps?: number;
  readonly peakRssMiB?: number | null;
  readonly note?: string;
  /** Why there is no time: `skipped: ...` or the failure. */
  readonly error?: string;
}

export interface VideoResults {
  readonly machine: Machine;
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly runs: number;
  readonly weights: string | undefined;
  readonly rows: readonly VideoRow[];
}

const LABELS: Readonly<Record<string, string>> = {
  native: 'taesd-web native (onnxruntime-node)',
  wasm: 'taesd-web WASM (onnxruntime-web)',
  'ort-bare': 'bare onnxruntime-node session',
  'torch:cpu-fp32': "PyTorch CPU fp32 (upstream's taehv.py)",
  'torch:cuda-fp16': "PyTorch CUDA fp16 (upstream's taehv.py)",
};

const SETTING_TEXT = { full: 'full', preview: 'preview (timeScale 1/4, scale 1/2)' } as const;

export function videoMarkdown(r: VideoResults): string {
  const lines = [
    `# taesd-web video benchmark (TAEHV taew2_1): ${r.machine.slug}`,
    '',
    `${r.machine.cpu}, ${r.machine.cores} cores${r.machine.gpu ? `, ${r.machine.gpu}` : ''}; ${r.date.slice(0, 16).replace('T', ' ')} UTC; ${r.mode} run, median of ${r.runs} timed decode(s) after one untimed, each row in a process of its own; weights ${r.weights ?? '?'} (random weights cost what the real ones cost).`,
    'Per frame = decode time / output frames; fps = output frames per second of decode; peak RSS = the process\'s high-water mark (weights, runtime and frames included).',
    '',
    '| latent | setting | backend | frames out | time | per frame | fps | peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of r.rows) {
    const head = `| ${row.latent} | ${SETTING_TEXT[row.setting]} | ${LABELS[row.config] ?? row.config}`;
    lines.push(row.error !== undefined
      ? `${head} | - | ${row.error.replace(/\|/g, '/')} | - | - | - |`
      : `${head} | ${row.outFrames} x ${row.size} | ${(row.ms! / 1000).toFixed(2)} s | ${row.perFrameMs!.toFixed(1)} ms | ${row.fps!.toFixed(1)} | ${row.peakRssMiB != null ? `${row.peakRssMiB.toFixed(0)} MiB` : '-'} |`);
  }
  const notes = [...new Set(r.rows.flatMap((x) => (x.note ? [`${LABELS[x.config] ?? x.config}: ${x.note}`] : [])))];
  if (notes.length) lines.push('', ...notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** Horizontal bars of frames per second, one group per latent and setting (linear scale). */
export function videoSvg(r: VideoResults): string {
  const ok = r.rows.filter((x) => x.fps !== undefined);
  const max = Math.max(1e-9, ...ok.map((x) => x.fps!));
  const left = 330, plotW = 420, bar = 16;
  const out: string[] = [];
  let y = 30;
  const groups = [...new Set(r.rows.map((x) => `${x.latent}|${x.setting}`))];
  for (const g of groups) {
    const [latent, setting] = g.split('|') as [string, 'full' | 'preview'];
    out.push(`<text x="4" y="${y + 12}" font-weight="600">${latent} latent, ${SETTING_TEXT[setting]}</text>`);
    y += 18;
    for (const row of r.rows.filter((x) => `${x.latent}|${x.setting}` === g)) {
      out.push(`<text x="12" y="${y + 12}">${LABELS[row.config] ?? row.config}</text>`);
      if (row.fps !== undefined) {
        const wBar = Math.max(1, (row.fps / max) * plotW);
        out.push(`<rect x="${left}" y="${y}" width="${wBar.toFixed(1)}" height="${bar - 3}" fill="#2f6fdf"/>`, `<text x="${left + wBar + 4}" y="${y + 12}">${row.fps.toFixed(1)} fps</text>`);
      } else {
        out.push(`<text x="${left}" y="${y + 12}" fill="#888">${row.error?.startsWith('skipped') ? 'skipped' : 'failed'}</text>`);
      }
      y += bar;
    }
    y += 8;
  }
  const width = left + plotW + 90;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="system-ui, sans-serif" font-size="12">`,
    `<text x="4" y="14" font-weight="700">TAEHV taew2_1 decode, frames per second (${r.machine.slug}, ${r.mode})</text>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
