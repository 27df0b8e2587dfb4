// How the report side writes numbers, in one place: tables, findings and comparisons use these.
import type { Summary } from './aggregate.js';

/** `digits` decimals, thousands separated by commas; `–` for a number that is not finite. */
export function formatNumber(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '–';
  const [int, frac] = x.toFixed(digits).split('.');
  return int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? `.${frac}` : '');
}

/** Three significant digits, whole numbers from 100 up (with commas): for margins and rates in sentences. */
export function formatSignificant(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return String(Number(x.toPrecision(3)));
}

/** A p-value as a reader wants it: two significant digits, or <0.001. */
export function formatP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toPrecision(2);
}

/** `median [lo–hi]`, with the coverage stated when it is below 95%; `–` when nothing was measured. */
export function formatSummary(s: Summary | null, digits: number): string {
  if (!s) return '–';
  const base = formatNumber(s.median, digits);
  if (!s.ci) return base;
  const level = s.ci.level < 0.95 ? `, ${Math.floor(s.ci.level * 1000) / 10}% CI` : '';
  return `${base} [${formatNumber(s.ci.lo, digits)}–${formatNumber(s.ci.hi, digits)}${level}]`;
}
