// A progress.json's `video` field as a reader may trust it: every number checked against the
// others, so a client can cut a sheet into frames without reading outside it.
import type { PreviewMadeWith, VideoLayout } from './record.js';

const count = (v: unknown, min = 1, max = 1 << 24): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 1e6;

function madeWith(v: unknown): PreviewMadeWith | null {
  if (typeof v !== 'object' || v === null) return null;
  const m = v as Record<string, unknown>;
  if (typeof m.decoder !== 'string' || m.decoder.length > 64 || !positive(m.scale) || !positive(m.time_scale) || !(typeof m.decode_ms === 'number' && m.decode_ms >= 0 && Number.isFinite(m.decode_ms))) return null;
  return { decoder: m.decoder, scale: m.scale, time_scale: m.time_scale, decode_ms: m.decode_ms };
}

/** `v` as a VideoLayout when it is one (a grid that holds frame_count frames, sides 1..16384), else null. */
export function videoLayout(v: unknown): VideoLayout | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  if (r.layout !== 'animation' && r.layout !== 'sheet') return null;
  if (!count(r.frame_count, 1, 1 << 16) || !positive(r.fps) || !count(r.frame_width, 1, 16384) || !count(r.frame_height, 1, 16384)) return null;
  if (!count(r.columns, 1, 1 << 16) || !count(r.rows, 1, 1 << 16) || !count(r.frame_stride) || !count(r.source_frames)) return null;
  const cells = r.columns * r.rows;
  if (r.layout === 'animation' ? cells !== 1 : cells < r.frame_count || cells - r.columns >= r.frame_count) return null;
  if (r.layout === 'sheet' && (r.columns * r.frame_width > 16384 || r.rows * r.frame_height > 16384)) return null;
  return {
    layout: r.layout, frame_count: r.frame_count, fps: r.fps, frame_width: r.frame_width, frame_height: r.frame_height,
    columns: r.columns, rows: r.rows, frame_stride: r.frame_stride, source_frames: r.source_frames,
    made_with: r.made_with === null || r.made_with === undefined ? null : madeWith(r.made_with),
  };
}
