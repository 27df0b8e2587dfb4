// Small multiples: a line chart of thirty models is thirty lines in one box, most of them on top of
// each other. Each line chart is drawn instead as one panel per family, with the C reference dashed
// in every panel and the same axes in all, so a panel compares relatives and the reference line
// compares panels. Pure: the PNG (panel-render.ts) and the page (html-charts.ts) both split by this.
import type { Family, Results } from '../schema/results.js';
import { REFERENCE_MODEL } from './aggregate.js';
import type { ChartSpec, Series } from './charts.js';

/**
 * Lines one panel may draw, the reference included. ColorBrewer's qualitative schemes stop at
 * 8 (Dark2, Set2) because more hues stop being told apart, and ours are shades of one family's hue,
 * which is harder still; with eight, a panel's legend also fits in two rows. A family with more
 * lines is split into panels of at most this many.
 */
export const MAX_LINES_PER_PANEL = 8;

/** The panels in reading order, and the families each holds (nonblocking-poll beside the selectors it spins instead of). */
export const PANEL_FAMILIES: readonly { title: string; families: readonly Family[] }[] = [
  { title: 'event loops', families: ['async'] },
  { title: 'selectors', families: ['selector', 'nonblocking-poll'] },
  { title: 'threads', families: ['worker-thread'] },
  { title: 'processes', families: ['per-process'] },
  { title: 'completion', families: ['completion'] },
  { title: 'Python', families: [] },
  { title: 'external', families: ['external'] },
];
const PYTHON = 'Python';
/** The C ceilings other than the reference, each beside the design it is the ceiling of. */
const NATIVE_PANEL: Record<string, string> = { 'native-io-uring': 'completion', 'native-threads': 'threads', 'native-fork': 'processes' };
const OTHER_NATIVE = 'C ceilings';

/** Which panel a model's lines go in; null for the reference, which goes in every panel. */
export function panelOf(results: Results, model: string, family: Family | undefined): string | null {
  if (model === REFERENCE_MODEL) return null;
  const external = (results.settings.externalModels ?? []).find((m) => m.name === model);
  // The Python examples are external programs like nginx, but a family of their own to a reader.
  if (external && (model.startsWith('py-') || external.command.some((a) => /(^|\/)python[0-9.]*$|\.py$/.test(a)))) return PYTHON;
  if (family === 'native') return NATIVE_PANEL[model] ?? OTHER_NATIVE;
  return PANEL_FAMILIES.find((p) => family !== undefined && p.families.includes(family))?.title ?? 'external';
}

/** What a line needs to be put in a panel: its model, and the panel panelOf gave it. */
export interface PanelLine {
  model: string;
  /** null: the reference, drawn in every panel; undefined: no family known (one panel of "models"). */
  panel?: string | null;
}

export interface Panel<T extends PanelLine = Series> {
  /** `threads`, or `Python (2 of 2)` when a family had to be split. */
  title: string;
  /** This panel's lines, the reference's last. */
  series: T[];
}

const ORDER = [...PANEL_FAMILIES.map((p) => p.title), OTHER_NATIVE];

/**
 * The panels of a line chart: its series grouped by `panel` in the panels' order, each with the
 * reference's series appended, a family over the line budget split into consecutive panels (a
 * model's lines kept together). A chart whose only lines are the reference's gets one panel.
 */
export function panelsOf(spec: ChartSpec): Panel[] {
  return panelLines(spec.series);
}

export function panelLines<T extends PanelLine>(series: readonly T[]): Panel<T>[] {
  const reference = series.filter((s) => s.panel === null);
  const byPanel = new Map<string, T[][]>();
  for (const s of series) {
    if (s.panel === null) continue;
    const key = s.panel ?? 'models';
    const models = byPanel.get(key) ?? [];
    const last = models[models.length - 1];
    if (last && last[0]!.model === s.model) last.push(s);
    else models.push([s]);
    byPanel.set(key, models);
  }
  if (byPanel.size === 0) return reference.length > 0 ? [{ title: 'reference', series: reference }] : [];
  const budget = Math.max(1, MAX_LINES_PER_PANEL - reference.length);
  const rank = (t: string): number => (ORDER.includes(t) ? ORDER.indexOf(t) : ORDER.length);
  const panels: Panel<T>[] = [];
  for (const title of [...byPanel.keys()].sort((a, b) => rank(a) - rank(b))) {
    const chunks: T[][] = [];
    for (const model of byPanel.get(title)!) {
      const last = chunks[chunks.length - 1];
      if (last && last.length + model.length <= budget) last.push(...model);
      else chunks.push([...model]);
    }
    chunks.forEach((chunk, i) => panels.push({ title: chunks.length > 1 ? `${title} (${i + 1} of ${chunks.length})` : title, series: [...chunk, ...reference] }));
  }
  return panels;
}

/** The value range over every panel (values and CI bounds), so all panels share one y axis. */
export function sharedRange(spec: ChartSpec): { min: number; max: number } | null {
  const all = spec.series.flatMap((s) => [...s.values, ...s.ci.flatMap((c) => (c ? [c.lo, c.hi] : []))]).filter((v): v is number => v !== null && Number.isFinite(v));
  return all.length > 0 ? { min: Math.min(...all), max: Math.max(...all) } : null;
}

/** Longer y titles than this do not fit up a panel's side: the panel shows the short form, the chart's notes the whole. */
const PANEL_Y_TITLE_CHARS = 40;

/** A y title as a panel shows it, and the note that carries the rest when it had to be shortened. */
export function panelYTitle(yTitle: string): { title: string; note: string | null } {
  if (yTitle.length <= PANEL_Y_TITLE_CHARS) return { title: yTitle, note: null };
  const log = /, log scale$/.test(yTitle);
  return { title: `${yTitle.split(' (')[0]}${log ? ', log scale' : ''}`, note: `y axis: ${yTitle}` };
}

/** A panelled chart's title says how to read it. */
export const PANELS_TITLE = (title: string): string => `${title}, one panel per family (${REFERENCE_MODEL} dashed in each; shared axes)`;
