import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompareError, cellVerdict, compareResults, metricVerdict } from '../../report/compare.js';
import { comparisonHtml, comparisonMarkdown } from '../../report/compare-report.js';
import type { Comparison, ComparisonRow } from '../../report/compare.js';
import { SCHEMA_VERSION, type Results } from '../../schema/results.js';
import { around, buildResults } from '../helpers/results-builder.js';
import type { CellSpec } from '../helpers/results-builder.js';

const OPTIONS = { threshold: 0.1, strict: false };

/** Three models, 6 repetitions each, ±2% spread, the same p99 everywhere unless told. */
function run(overrides: Partial<Record<string, Partial<CellSpec>>> = {}, reps = 6): CellSpec[] {
  const base: CellSpec[] = [
    { model: 'epoll', opsPerSec: around(50_000, reps), p99: around(800, reps) },
    { model: 'thread-pool', opsPerSec: around(30_000, reps), p99: around(1500, reps) },
    { model: 'async', opsPerSec: around(40_000, reps), p99: around(1000, reps) },
  ];
  return base.map((s) => ({ ...s, ...overrides[s.model] }));
}

function row(c: Comparison, model: string): ComparisonRow {
  const r = c.rows.find((x) => x.key.model === model);
  if (!r) throw new Error(`no row for ${model}`);
  return r;
}

describe('compareResults', () => {
  it('io-wait cells meet only with the same backend mode and delay; cpu cells with the same work', () => {
    const ioWait = (mode: 'pooled' | 'per-request', delay: number, workUs = 200): Results => {
      const r = buildResults(run());
      for (const c of r.cells) {
        c.scenario = c.model === 'epoll' ? 'io-wait' : 'cpu';
        if (c.scenario === 'io-wait') c.backendConnections = mode;
      }
      r.settings.backendDelayMs = delay;
      r.settings.work = { us: workUs, iterations: 1, nsPerIteration: 1 };
      return r;
    };
    const same = compareResults(ioWait('pooled', 10), ioWait('pooled', 10), OPTIONS);
    expect(same.rows.map((x) => x.label).sort()).toEqual(['async http cpu (200 µs of CPU) c=64', 'epoll echo io-wait (service pooled, 10 ms backend) c=64', 'thread-pool echo cpu (200 µs of CPU) c=64'].map((l) => l.replace('http', 'echo')).sort());
    const other = compareResults(ioWait('pooled', 10), ioWait('per-request', 20), OPTIONS);
    expect(other.rows.map((x) => x.key.model).sort()).toEqual(['async', 'thread-pool']);
    expect(other.onlyInBase).toEqual(['epoll echo io-wait (service pooled, 10 ms backend) c=64']);
    expect(other.onlyInCurrent).toEqual(["epoll echo io-wait (service per-request, 20 ms backend) c=64"]);
    expect(() => compareResults(ioWait('pooled', 10, 200), ioWait('per-request', 10, 100), OPTIONS)).toThrow(/no cell in common/);
  });

  it('identical inputs: every cell "no change", exit 0', () => {
    const r = buildResults(run());
    const c = compareResults(r, r, OPTIONS);
    expect(c.rows).toHaveLength(3);
    for (const x of c.rows) {
      expect(x.verdict).toBe('no change');
      expect(x.throughput.ratio).toBe(1);
      expect(x.throughput.p).toBe(1);
    }
    expect(c.counts['no change']).toBe(3);
    expect(c.exitCode).toBe(0);
    expect(c.warnings).toEqual([]);
  });

  it('a 30% throughput drop in one model: regression for that model only, exit 1', () => {
    const base = buildResults(run(), { runId: 'base' });
    const current = buildResults(run({ epoll: { opsPerSec: around(35_000, 6) } }), { runId: 'current' });
    const c = compareResults(base, current, OPTIONS);
    const epoll = row(c, 'epoll');
    expect(epoll.verdict).toBe('regression');
    expect(epoll.throughput.verdict).toBe('regression');
    expect(epoll.throughput.ratio).toBeCloseTo(0.7, 6);
    expect(epoll.throughput.p).toBeCloseTo(2 / 924, 10); // 6 vs 6 separated: 2 / C(12, 6)
    expect(epoll.throughput.ci!.hi).toBeLessThan(0.9);
    expect(epoll.p99.verdict).toBe('no change');
    expect(row(c, 'thread-pool').verdict).toBe('no change');
    expect(row(c, 'async').verdict).toBe('no change');
    expect(c.exitCode).toBe(1);
  });

  it('a cell that went from ok to failed is a regression, however fast its other repetitions were', () => {
    const base = buildResults(run(), { runId: 'base' });
    const current = buildResults(run({ epoll: { status: ['ok', 'ok', 'failed', 'ok', 'ok', 'ok'] } }), { runId: 'current' });
    const c = compareResults(base, current, OPTIONS);
    expect(row(c, 'epoll').verdict).toBe('regression');
    expect(row(c, 'epoll').problems[0]).toBe('ok in every base repetition, failed in 1 of 6 current ones (synthetic failure)');
    expect(c.exitCode).toBe(1);
  });

  it('an error rate that rose by more than 0.1% of attempts is a regression; one that did not is not', () => {
    const base = buildResults(run(), { runId: 'base' });
    const withErrors = (r: Results, model: string, perCell: number): Results => {
      for (const cell of r.cells) if (cell.model === model) cell.errors = { total: perCell, byCode: { HTTP_500: perCell } };
      return r;
    };
    // 50,000 ops/s for 5 s: 250,000 ops a cell; 1,000 errors is 0.4%, 100 is 0.04%.
    const worse = compareResults(base, withErrors(buildResults(run(), { runId: 'c1' }), 'epoll', 1000), OPTIONS);
    expect(row(worse, 'epoll').verdict).toBe('regression');
    expect(row(worse, 'epoll').problems[0]).toMatch(/^error rate rose from 0% to 0\.39\d*% of attempts$/);
    const slight = compareResults(base, withErrors(buildResults(run(), { runId: 'c2' }), 'epoll', 100), OPTIONS);
    expect(row(slight, 'epoll').verdict).toBe('no change');
  });

  it('a 30% p99 rise is a regression even when throughput holds', () => {
    const base = buildResults(run());
    const current = buildResults(run({ async: { p99: around(1300, 6) } }));
    const c = compareResults(base, current, OPTIONS);
    expect(row(c, 'async').p99.verdict).toBe('regression');
    expect(row(c, 'async').throughput.verdict).toBe('no change');
    expect(row(c, 'async').verdict).toBe('regression');
    expect(c.exitCode).toBe(1);
  });

  it('a 30% throughput rise and a 30% p99 fall are improvements, exit 0', () => {
    const base = buildResults(run());
    const current = buildResults(
      run({ epoll: { opsPerSec: around(65_000, 6) }, async: { p99: around(700, 6) } }),
    );
    const c = compareResults(base, current, OPTIONS);
    expect(row(c, 'epoll').throughput.verdict).toBe('improvement');
    expect(row(c, 'epoll').verdict).toBe('improvement');
    expect(row(c, 'async').p99.verdict).toBe('improvement');
    expect(row(c, 'async').verdict).toBe('improvement');
    expect(c.counts).toEqual({ regression: 0, improvement: 2, 'no change': 1, inconclusive: 0 });
    expect(c.exitCode).toBe(0);
  });

  it('3 repetitions a side: inconclusive even for a 30% drop (p cannot fall below 0.1)', () => {
    const base = buildResults(run({}, 3));
    const current = buildResults(run({ epoll: { opsPerSec: around(35_000, 3) } }, 3));
    const c = compareResults(base, current, OPTIONS);
    const epoll = row(c, 'epoll');
    expect(epoll.verdict).toBe('inconclusive');
    expect(epoll.throughput.p).toBeCloseTo(0.1, 10);
    expect(epoll.problems.join(' ')).toMatch(/3 ok repetitions in base \(need ≥ 5\)/);
    expect(c.rows.every((x) => x.verdict === 'inconclusive')).toBe(true);
    expect(c.exitCode).toBe(0);
  });

  it('a saturated client in current: a 30% drop is inconclusive (it may be the client)', () => {
    const base = buildResults(run());
    const current = buildResults(
      run({ epoll: { opsPerSec: around(35_000, 6), saturated: [false, true, false, false, false, false] } }),
    );
    const c = compareResults(base, current, OPTIONS);
    expect(row(c, 'epoll').verdict).toBe('inconclusive');
    expect(row(c, 'epoll').throughput.reason).toMatch(/^would be regression, but client saturated in 1 of 6 repetitions in current/);
    expect(row(c, 'epoll').problems).toEqual(['client saturated in 1 of 6 repetitions in current']);
    expect(c.exitCode).toBe(0);
  });

  it('a saturated client in base: a 30% drop in current is still a regression (base could only do more)', () => {
    const base = buildResults(run({ epoll: { saturated: [true, true, true, true, true, true] } }));
    const current = buildResults(run({ epoll: { opsPerSec: around(35_000, 6) } }));
    const c = compareResults(base, current, OPTIONS);
    expect(row(c, 'epoll').throughput.verdict).toBe('regression');
    expect(c.exitCode).toBe(1);
  });

  it('a saturated client in base: a 30% gain is inconclusive, and so is "no change"', () => {
    const base = buildResults(run({ epoll: { saturated: [true, true, true, true, true, true] } }));
    const gain = compareResults(base, buildResults(run({ epoll: { opsPerSec: around(65_000, 6) } })), OPTIONS);
    expect(row(gain, 'epoll').throughput.verdict).toBe('inconclusive');
    expect(row(gain, 'epoll').throughput.reason).toMatch(/^would be improvement, but client saturated in 6 of 6 repetitions in base/);
    const same = compareResults(base, buildResults(run()), OPTIONS);
    expect(row(same, 'epoll').throughput.verdict).toBe('inconclusive');
    expect(row(same, 'async').throughput.verdict).toBe('no change');
  });

  it('a failed repetition: inconclusive, and its values are left out of the medians', () => {
    const base = buildResults(run({ 'thread-pool': { status: ['ok', 'ok', 'failed', 'ok', 'ok', 'ok'] } }));
    const c = compareResults(base, buildResults(run()), OPTIONS);
    const tp = row(c, 'thread-pool');
    expect(tp.verdict).toBe('inconclusive');
    expect(tp.throughput.base).toMatchObject({ n: 5, repetitions: 6 });
    expect(tp.problems[0]).toMatch(/1 of 6 repetitions in base not ok \(failed: synthetic failure\)/);
    expect(row(c, 'epoll').verdict).toBe('no change');
  });

  it('a wide spread with a small shift: the CI crosses the band, inconclusive', () => {
    const base = buildResults(run({ epoll: { opsPerSec: around(50_000, 6, 0.3) } }));
    const current = buildResults(run({ epoll: { opsPerSec: around(47_000, 6, 0.3) } }));
    const epoll = row(compareResults(base, current, OPTIONS), 'epoll');
    expect(epoll.throughput.verdict).toBe('inconclusive');
    expect(epoll.throughput.reason).toMatch(/crosses the edge of the ±10% band/);
  });

  it('--strict: an inconclusive cell fails the comparison', () => {
    const base = buildResults(run({}, 3));
    expect(compareResults(base, base, OPTIONS).exitCode).toBe(0);
    expect(compareResults(base, base, { ...OPTIONS, strict: true }).exitCode).toBe(1);
    const six = buildResults(run());
    expect(compareResults(six, six, { ...OPTIONS, strict: true }).exitCode).toBe(0);
  });

  it('the band decides: a 30% drop is inconclusive at T = 30% and no change at T = 40%', () => {
    const base = buildResults(run());
    const current = buildResults(run({ epoll: { opsPerSec: around(35_000, 6) } }));
    const at = (threshold: number): ComparisonRow => row(compareResults(base, current, { threshold, strict: false }), 'epoll');
    // the CI (about 0.68 … 0.72) straddles 1 − 0.3, so p < 0.05 alone is not enough
    expect(at(0.3).throughput.verdict).toBe('inconclusive');
    expect(at(0.3).throughput.reason).toMatch(/crosses the edge of the ±30% band/);
    // the whole CI lies inside [0.6, 1.4]: within the noise band, whatever p says
    expect(at(0.4).throughput.verdict).toBe('no change');
  });

  it('matches cells by model, protocol and concurrency; lists the rest', () => {
    const base = buildResults([...run(), { model: 'epoll', concurrency: 256, opsPerSec: around(1, 6) }]);
    const current = buildResults([...run(), { model: 'select', opsPerSec: around(1, 6) }]);
    const c = compareResults(base, current, OPTIONS);
    expect(c.rows.map((r) => r.label)).toEqual([
      'async echo steady c=64',
      'epoll echo steady c=64',
      'thread-pool echo steady c=64',
    ]);
    expect(c.onlyInBase).toEqual(['epoll echo steady c=256']);
    expect(c.onlyInCurrent).toEqual(['select echo steady c=64']);
  });

  it('orders rows by model, protocol, scenario, then concurrency as a number', () => {
    const specs = [1024, 64, 256].map((concurrency) => ({ model: 'epoll', concurrency, opsPerSec: around(100, 6) }));
    const r = buildResults([...specs, { model: 'async', concurrency: 512, opsPerSec: around(100, 6) }]);
    expect(compareResults(r, r, OPTIONS).rows.map((x) => x.label)).toEqual([
      'async echo steady c=512',
      'epoll echo steady c=64',
      'epoll echo steady c=256',
      'epoll echo steady c=1024',
    ]);
  });

  it('different durations: compared anyway, with a warning', () => {
    const base = buildResults(run(), { settings: { durationS: 10 } });
    const c = compareResults(base, buildResults(run()), OPTIONS);
    expect(c.rows).toHaveLength(3);
    expect(c.warnings).toEqual(['measured window differs (base 10 s, current 5 s); compared anyway']);
  });

  it('different load generators: compared anyway, with a warning', () => {
    const c = compareResults(buildResults(run(), { settings: { httpClient: 'autocannon' } }), buildResults(run()), OPTIONS);
    expect(c.warnings).toEqual(['load generators differ (base HTTP client autocannon, 1 load thread(s), pipeline 1; current HTTP client native, 1 load thread(s), pipeline 1); compared anyway, but a difference may be the client\'s']);
  });

  it('no cell in common: ENOCOMMONCELLS naming what each side has', () => {
    const base = buildResults([{ model: 'epoll', opsPerSec: around(1, 6) }], { runId: 'a' });
    const current = buildResults([{ model: 'poll', opsPerSec: around(1, 6) }], { runId: 'b' });
    const err = catchError(() => compareResults(base, current, OPTIONS));
    expect(err).toBeInstanceOf(CompareError);
    expect(err).toMatchObject({ code: 'ENOCOMMONCELLS' });
    expect(err.message).toBe(
      'no cell in common between a and b: base has models epoll / protocols echo / concurrency 64, ' +
        'current has models poll / protocols echo / concurrency 64',
    );
  });

  it('different payloadBytes: the same cells do not match, and the error says why', () => {
    const base = buildResults(run());
    const current = buildResults(run(), { settings: { payloadBytes: 4096 } });
    const err = catchError(() => compareResults(base, current, OPTIONS));
    expect(err).toMatchObject({ code: 'ENOCOMMONCELLS' });
    expect(err.message).toMatch(/different workload settings \(payloadBytes 64 vs 4096\)/);
  });

  it('rejects a threshold outside [0, 1)', () => {
    const r = buildResults(run());
    expect(catchError(() => compareResults(r, r, { threshold: 10, strict: false }))).toMatchObject({
      code: 'EBADOPTION',
    });
  });

  it('is deterministic: identical inputs give an identical report', () => {
    const base = buildResults(run());
    const current = buildResults(run({ epoll: { opsPerSec: around(46_000, 6, 0.1) } }));
    expect(compareResults(base, current, OPTIONS)).toEqual(compareResults(base, current, OPTIONS));
  });
});

describe('verdict rules', () => {
  const o = { threshold: 0.1, alpha: 0.05 };
  it('judges direction per metric and needs both p and the whole CI', () => {
    expect(metricVerdict('throughput', { lo: 0.6, hi: 0.8 }, 0.01, o).verdict).toBe('regression');
    expect(metricVerdict('p99', { lo: 0.6, hi: 0.8 }, 0.01, o).verdict).toBe('improvement');
    expect(metricVerdict('p99', { lo: 1.2, hi: 1.4 }, 0.01, o).verdict).toBe('regression');
    expect(metricVerdict('throughput', { lo: 0.6, hi: 0.8 }, 0.2, o).verdict).toBe('inconclusive');
    expect(metricVerdict('throughput', { lo: 0.85, hi: 0.95 }, 0.01, o).verdict).toBe('inconclusive');
    expect(metricVerdict('throughput', { lo: 0.95, hi: 1.05 }, 0.01, o).verdict).toBe('no change');
    expect(metricVerdict('throughput', { lo: 0.95, hi: 1.05 }, 1, o).verdict).toBe('no change');
  });

  it('combines the two metrics', () => {
    expect(cellVerdict('improvement', 'regression')).toBe('regression');
    expect(cellVerdict('improvement', 'inconclusive')).toBe('improvement');
    expect(cellVerdict('no change', 'improvement')).toBe('improvement');
    expect(cellVerdict('no change', 'no change')).toBe('no change');
    expect(cellVerdict('no change', 'inconclusive')).toBe('inconclusive');
  });
});

describe('comparisonMarkdown', () => {
  it('draws one row per cell per metric with Δ%, CI, p, n and verdict', () => {
    const base = buildResults(run(), { runId: 'base-run', settings: { durationS: 10 } });
    const current = buildResults(run({ epoll: { opsPerSec: around(35_000, 6) } }), { runId: 'cur-run' });
    const md = comparisonMarkdown(compareResults(base, current, OPTIONS));
    expect(md).toContain('## Comparison: base-run (base) → cur-run (current)');
    expect(md).toContain('**FAIL: 1 regression, 0 improvement, 2 no change, 0 inconclusive**');
    expect(md).toContain('> warning: measured window differs (base 10 s, current 5 s); compared anyway');
    const epollRow = md.split('\n').find((l) => l.startsWith('| epoll echo steady c=64 |'));
    expect(epollRow).toMatch(/^\| epoll echo steady c=64 \| \*\*regression\*\* \| ops\/s \| 50,000 \| 35,000 \| -30\.0% \(-3\d\.\d% … -2\d\.\d%\) \| 0\.0022 \| 6\/6 \| \*\*regression\*\* \|$/);
    expect(md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| cell'))).toHaveLength(6);
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI, from compiled JS as `npm run compare` runs it.

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'scripts', 'compare.js');
let dir = '';

function writeResults(name: string, r: Results | string): string {
  const path = join(dir, name);
  writeFileSync(path, typeof r === 'string' ? r : JSON.stringify(r));
  return path;
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/compare (CLI)', () => {
  beforeAll(() => {
    // `npm run compare` builds first and stops when tsc fails, so a tree that does not type-check has
    // no working CLI for the user; tsc emits anyway, and testing that emit would pass where they fail.
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
    if (tsc.status !== 0) throw new Error(`npm run compare would stop here: tsc exited ${tsc.status ?? tsc.signal}:\n${tsc.stdout}${tsc.stderr}`);
    if (!existsSync(CLI)) throw new Error(`build did not produce ${CLI}`);
    dir = mkdtempSync(join(tmpdir(), 'compare-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('identical files: table on stdout, exit 0', () => {
    const r = writeResults('same.json', buildResults(run()));
    const out = cli(r, r);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('**PASS: 0 regression, 0 improvement, 3 no change, 0 inconclusive**');
  });

  it('a regression exits 1 and writes --json and --markdown', () => {
    const base = writeResults('base.json', buildResults(run()));
    mkdirSync(join(dir, 'run-2'));
    writeResults('run-2/results.json', buildResults(run({ epoll: { opsPerSec: around(35_000, 6) } })));
    const json = join(dir, 'out', 'cmp.json');
    const md = join(dir, 'out', 'cmp.md');
    const out = cli(base, join(dir, 'run-2'), '--json', json, `--markdown=${md}`);
    expect(out.status).toBe(1);
    expect(readFileSync(md, 'utf8')).toBe(out.stdout);
    const parsed = JSON.parse(readFileSync(json, 'utf8')) as Comparison;
    expect(parsed.exitCode).toBe(1);
    expect(parsed.rows.find((x) => x.key.model === 'epoll')?.verdict).toBe('regression');
  });

  it('--strict with an inconclusive cell exits non-zero', () => {
    const r = writeResults('three.json', buildResults(run({}, 3)));
    expect(cli(r, r).status).toBe(0);
    expect(cli(r, r, '--strict').status).toBe(1);
  });

  it('a file that is not JSON: exit 2, one line', () => {
    const bad = writeResults('bad.json', '{"schemaVersion": 1, "cells": [');
    const good = writeResults('good.json', buildResults(run()));
    const out = cli(good, bad);
    expect(out.status).toBe(2);
    expect(out.stderr).toBe(`compare: ${bad} is not JSON\n`);
    expect(out.stdout).toBe('');
  });

  it('a baseline that does not exist: exit 2, one line naming it', () => {
    const good = writeResults('good.json', buildResults(run()));
    const missing = join(tmpdir(), `no-such-baseline-${process.pid}.json`);
    const out = cli(missing, good);
    expect(out.status).toBe(2);
    expect(out.stderr).toBe(`compare: cannot read results file ${missing}: ENOENT\n`);
  });

  it('another major schemaVersion: exit 2', () => {
    const next = writeResults('next.json', buildResults(run(), { schemaVersion: SCHEMA_VERSION + 1 }));
    const good = writeResults('good.json', buildResults(run()));
    const out = cli(next, good);
    expect(out.status).toBe(2);
    expect(out.stderr).toBe(`compare: ${next} has schemaVersion ${SCHEMA_VERSION + 1}; this version reads 1 to ${SCHEMA_VERSION}\n`);
  });

  it('no cell in common: exit 2, never a silent pass', () => {
    const a = writeResults('a.json', buildResults(run(), { settings: { workers: 4 } }));
    const b = writeResults('b.json', buildResults(run()));
    const out = cli(a, b);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/^compare: no cell in common between test-run and test-run: .*workers 4 vs 2.*\n$/);
  });

  it('bad flags: exit 2 naming the flag and allowed values', () => {
    const r = writeResults('same.json', buildResults(run()));
    expect(cli(r, r, '--threshold', 'abc')).toMatchObject({
      status: 2,
      stderr: 'compare: --threshold must be a number between 0 and 100 (percent), got "abc"\n',
    });
    expect(cli(r, r, '--threshold=150').status).toBe(2);
    expect(cli(r, r, '--nope')).toMatchObject({
      status: 2,
      stderr: 'compare: unknown flag "--nope"; known: --threshold, --json, --markdown, --strict, --help\n',
    });
    expect(cli(r).stderr).toMatch(/expected two paths, BASE and CURRENT .* got 1/);
  });
});

function catchError(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('comparisonHtml', () => {
  it('renders the same verdicts as the Markdown, escaped, with a regression marked', () => {
    const base = buildResults(run(), { runId: 'base<1>' });
    const current = buildResults(run({ epoll: { opsPerSec: around(35_000, 6) } }), { runId: 'current' });
    const c = compareResults(base, current, OPTIONS);
    const html = comparisonHtml(c);
    expect(html).toContain('FAIL: 1 regression');
    expect(html).toContain('<td class="bad">regression</td>');
    expect(html).toContain('<td>epoll echo steady c=64</td>');
    expect(html).not.toContain('base<1>');
    expect((html.match(/<tr>/g) ?? []).length).toBe(1 + 2 * c.rows.length);
  });
});
