// What every chart shares: one colour per model, the same in every chart of every run, and a white page.
import type { Chart } from 'chart.js';
import { REFERENCE_MODEL } from './aggregate.js';

// Each family has a colour family, and each model we know a fixed shade in it, so a model keeps
// its colour from chart to chart and run to run and related models look related: event loops blue,
// selectors green, busy-poll brown, io_uring magenta, processes purple, threads olive, C ceilings grey to black,
// external programs teal. None is red or orange, which mark failed and limit cells.
const KNOWN_COLORS: Record<string, string> = {
  async: '#1f5fa8', 'node-http': '#5b9bd5', 'thread-offload': '#0b2f5c', generators: '#3fa3c9',
  select: '#8cc97a', poll: '#4e9a3c', epoll: '#1e6b1e',
  'busy-poll': '#8c564b',
  'io-uring': '#b2227f', 'native-io-uring': '#5a5a5a',
  'process-per-connection': '#6a3d9a', prefork: '#9c6bc7', cluster: '#c9a3e6',
  'thread-per-connection': '#8c8c1a', 'thread-pool': '#c2b33d',
  [REFERENCE_MODEL]: '#111111',
};
/** Every chart's font: DejaVu is what Debian's canvas finds. */
export const FONT = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";
export const LIMIT_COLOR = '#ff7f0e';
export const FAILED_COLOR = '#d62728';

/** Hue ranges [from, to) by family, for models without a fixed colour. */
const FAMILY_HUES: Record<string, [number, number]> = {
  async: [200, 225], selector: [95, 135], 'nonblocking-poll': [20, 35], 'per-process': [265, 295],
  'worker-thread': [50, 65], native: [0, 0], external: [165, 190], completion: [310, 335],
};

/** A model's colour: fixed for the models we know, else a shade of its family's hue chosen by its name. */
export function modelColor(model: string, family?: string): string {
  const known = KNOWN_COLORS[model];
  if (known) return known;
  let h = 0;
  for (const ch of model) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  const range = family ? FAMILY_HUES[family] : undefined;
  if (family === 'native') return `hsl(0, 0%, ${20 + (h % 40)}%)`;
  if (range) return `hsl(${range[0] + (h % Math.max(1, range[1] - range[0]))}, ${55 + (h % 20)}%, ${30 + ((h >> 5) % 25)}%)`;
  return `hsl(${60 + (h % 280)}, 60%, 38%)`;
}

/** The k-th lighter shade of a colour (k = 0 is the colour itself): a second bar of the same model. */
export function shade(color: string, k: number): string {
  if (k === 0) return color;
  const alpha = Math.max(0.3, 1 - 0.3 * k);
  if (/^#[0-9a-f]{6}$/i.test(color)) return `${color}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
  const hsl = /^hsl\((.*)\)$/.exec(color);
  return hsl ? `hsla(${hsl[1]}, ${alpha})` : color;
}

/** PNGs are read on dark pages too: every chart gets a white background. */
export function paintWhite(chart: Chart): void {
  const { ctx, width, height } = chart;
  ctx.save();
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.restore();
}
