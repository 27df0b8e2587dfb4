// What every chart shares: one colour per model, the same in every chart of every run, and a white page.
import type { Chart } from 'chart.js';
import { REFERENCE_MODEL } from './aggregate.js';

// Fixed colours for the models we know, so a model keeps its colour from run to run; none is red
// or orange, which mark failed and limit cells.
const KNOWN_COLORS: Record<string, string> = {
  async: '#1f77b4', 'node-http': '#17becf', 'busy-poll': '#8c564b', select: '#9467bd', poll: '#e377c2', epoll: '#2ca02c',
  'thread-per-connection': '#bcbd22', 'thread-pool': '#393b79', 'process-per-connection': '#7b4173', prefork: '#637939',
  cluster: '#7f7f7f', [REFERENCE_MODEL]: '#111111',
};
export const LIMIT_COLOR = '#ff7f0e';
export const FAILED_COLOR = '#d62728';

/** A model's line colour: fixed for known models, else a hue from its name away from red/orange. */
export function modelColor(model: string): string {
  const known = KNOWN_COLORS[model];
  if (known) return known;
  let h = 0;
  for (const ch of model) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return `hsl(${60 + (h % 280)}, 60%, 38%)`;
}

/** PNGs are read on dark pages too: every chart gets a white background. */
export function paintWhite(chart: Chart): void {
  const { ctx, width, height } = chart;
  ctx.save();
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.restore();
}
