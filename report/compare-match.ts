// Which cells of two runs are the same experiment: the key a cell is matched on (its repetition
// aside), the run settings that make two runs different experiments, and what to warn about when
// runs differ in ways that are compared anyway. The verdicts are compare.ts's.
import type { Cell, CellKey, Results } from '../schema/results.js';
import { cellKey, cellRate, variantOf } from './aggregate.js';

export type CompareErrorCode = 'ENOCOMMONCELLS' | 'EBADOPTION';

export class CompareError extends Error {
  constructor(
    readonly code: CompareErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A cell without its repetition: what two files are matched on. */
export type CompareKey = Pick<CellKey, 'model' | 'protocol' | 'scenario' | 'concurrency' | 'rate'> & {
  sweepFraction?: number;
  /** What else must be equal for two cells to be the same experiment: the backend mode and delay (io-wait), the work (cpu), the size (payload). */
  variant?: string;
};

export interface Group {
  key: CompareKey;
  label: string;
  cells: Cell[];
}

/** Cells grouped by CompareKey, in a stable order (model, protocol, scenario, then concurrency as a number). */
export function groupCells(r: Results): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const cell of r.cells) {
    const rate = cellRate(cell);
    const key: CompareKey = { model: cell.model, protocol: cell.protocol, scenario: cell.scenario, concurrency: cell.concurrency, rate };
    if (cell.sweepFraction !== undefined) key.sweepFraction = cell.sweepFraction;
    const variant = variantOf(cell, r.settings);
    if (variant) key.variant = variant;
    const id = cellKey(cell, variant);
    const load = cell.sweepFraction !== undefined ? ` at ${cell.sweepFraction * 100}% of closed loop` : rate !== null ? ` at ${rate}/s` : '';
    const label = `${key.model} ${key.protocol} ${key.scenario}${variant ? ` (${variant})` : ''} c=${key.concurrency}${load}`;
    const group = groups.get(id) ?? { key, label, cells: [] };
    group.cells.push(cell);
    groups.set(id, group);
  }
  return new Map([...groups].sort(([, x], [, y]) => compareKeys(x.key, y.key)));
}

function compareKeys(x: CompareKey, y: CompareKey): number {
  const text = (k: CompareKey): string => `${k.model}\u0000${k.protocol}\u0000${k.scenario}\u0000${k.variant ?? ''}`;
  const load = (k: CompareKey): number => k.sweepFraction ?? (k.rate === null ? -1 : k.rate);
  return text(x) < text(y) ? -1 : text(x) > text(y) ? 1 : x.concurrency - y.concurrency || load(x) - load(y);
}

/** Run-level settings that change the workload; cells of runs that differ here are different experiments. */
const WORKLOAD_SETTINGS = ['payloadBytes', 'workers'] as const;

export function settingsMismatch(base: Results, current: Results): string | null {
  const diffs = WORKLOAD_SETTINGS.filter((s) => base.settings?.[s] !== current.settings?.[s]).map(
    (s) => `${s} ${base.settings?.[s]} vs ${current.settings?.[s]}`,
  );
  return diffs.length > 0 ? diffs.join(', ') : null;
}

export function noCommonCells(base: Results, current: Results, mismatch: string | null): CompareError {
  const why = mismatch
    ? `the runs used different workload settings (${mismatch}); cells match only when ${WORKLOAD_SETTINGS.join(' and ')} are equal`
    : `base has ${describeCells(base)}, current has ${describeCells(current)}`;
  return new CompareError('ENOCOMMONCELLS', `no cell in common between ${base.runId} and ${current.runId}: ${why}`);
}

function describeCells(r: Results): string {
  if (r.cells.length === 0) return 'no cells';
  const models = [...new Set(r.cells.map((c) => c.model))].sort();
  const protocols = [...new Set(r.cells.map((c) => c.protocol))].sort();
  const concurrency = [...new Set(r.cells.map((c) => c.concurrency))].sort((x, y) => x - y);
  return `models ${models.join(',')} / protocols ${protocols.join(',')} / concurrency ${concurrency.join(',')}`;
}

export function settingsWarnings(base: Results, current: Results): string[] {
  const warnings: string[] = [];
  const bs = base.settings;
  const cs = current.settings;
  if (bs?.durationS !== cs?.durationS) {
    warnings.push(`measured window differs (base ${bs?.durationS} s, current ${cs?.durationS} s); compared anyway`);
  }
  if (bs?.warmupS !== cs?.warmupS) {
    warnings.push(`warm-up differs (base ${bs?.warmupS} s, current ${cs?.warmupS} s); compared anyway`);
  }
  // The load generator is part of the measurement: a change of tool, threads or pipelining can move
  // every figure without the server changing.
  const load = (r: Results): string => `HTTP client ${r.settings?.httpClient ?? 'autocannon'}, ${r.settings?.clientThreads ?? 1} load thread(s), pipeline ${r.settings?.pipeline ?? 1}`;
  if (load(base) !== load(current)) {
    warnings.push(`load generators differ (base ${load(base)}; current ${load(current)}); compared anyway, but a difference may be the client's`);
  }
  const machine = (r: Results): string => `${r.env?.cpuModel} × ${r.env?.cpus}`;
  if (machine(base) !== machine(current)) {
    warnings.push(`machines differ (base ${machine(base)}, current ${machine(current)}); compared anyway`);
  }
  return warnings;
}
