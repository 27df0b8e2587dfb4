// Small multiples drawn: each panel is its own Chart.js chart on its own canvas, copied into a grid
// under the chart's title and notes. Every panel is drawn twice: once to learn the tallest legend,
// then with every legend that tall, so the plots of a row stand level.
import { createCanvas } from '@napi-rs/canvas';
import { Chart, type ChartConfiguration } from 'chart.js';
import { FONT } from './chart-style.js';

/** A line chart with one panel keeps the bar charts' width. */
const SINGLE_WIDTH = 1200;
const GRID_WIDTH = 1500;

/** Where each panel goes: up to 3 a row, 2 when there are 4 or fewer, one alone at full width. */
export function panelGrid(n: number): { cols: number; rows: number; width: number; panelWidth: number; panelHeight: number } {
  const cols = n <= 1 ? 1 : n <= 4 ? 2 : 3;
  const width = cols === 1 ? SINGLE_WIDTH : GRID_WIDTH;
  return { cols, rows: Math.max(1, Math.ceil(n / cols)), width, panelWidth: Math.floor(width / cols), panelHeight: cols === 1 ? 520 : 430 };
}

/** One config per panel, given the legend height it must take (none on the measuring pass). */
export type PanelConfig = (legendHeight?: number) => ChartConfiguration;

export function composePanels(title: string, subtitle: readonly string[], panels: readonly PanelConfig[]): Buffer {
  const grid = panelGrid(panels.length);
  const titleFont = `bold 22px ${FONT}`;
  const titleLines = wrap(title, titleFont, grid.width - 40);
  const top = 14 + 30 * titleLines.length;
  const header = top + 20 * subtitle.length + 18;
  const canvas = createCanvas(grid.width, header + grid.rows * grid.panelHeight);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillStyle = '#111';
  ctx.font = titleFont;
  titleLines.forEach((line, i) => ctx.fillText(line, grid.width / 2, 14 + 30 * i));
  ctx.font = `14px ${FONT}`;
  ctx.fillStyle = '#333';
  subtitle.forEach((line, i) => ctx.fillText(line, grid.width / 2, top + 4 + 20 * i));
  const draw = (config: PanelConfig, legendHeight?: number) => {
    const sub = createCanvas(grid.panelWidth, grid.panelHeight);
    // Chart.js takes a DOM canvas context; @napi-rs/canvas implements the same drawing API.
    return { chart: new Chart(sub.getContext('2d') as any, config(legendHeight)), sub };
  };
  const legendHeight = Math.max(0, ...panels.map((config) => {
    const { chart } = draw(config);
    try { return chart.legend?.height ?? 0; } finally { chart.destroy(); }
  }));
  panels.forEach((config, i) => {
    const [x, y] = [(i % grid.cols) * grid.panelWidth, header + Math.floor(i / grid.cols) * grid.panelHeight];
    const { chart, sub } = draw(config, legendHeight);
    try {
      ctx.drawImage(sub, x, y);
    } finally {
      chart.destroy();
    }
    ctx.strokeStyle = '#dddddd';
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 0.5, y + 0.5, grid.panelWidth - 1, grid.panelHeight - 1);
  });
  return canvas.toBuffer('image/png');
}

/** A title in as many lines as it needs at this width, broken between words. */
function wrap(text: string, font: string, width: number): string[] {
  const ctx = createCanvas(1, 1).getContext('2d');
  ctx.font = font;
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && ctx.measureText(`${last} ${word}`).width <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}
