import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSummary } from '../../report/format.js';
import { renderHtml, renderMarkdown, writeReport } from '../../report/report.js';
import { SCHEMA_VERSION, type Results } from '../../schema/results.js';
import { readResults, ResultsError } from '../../schema/read-results.js';
import { main, UsageError } from '../../scripts/report.js';

const FIXTURE = new URL('../fixtures/results-small.json', import.meta.url).pathname;
const load = (): Results => readResults(FIXTURE);
const CHARTS = ['/somewhere/run/charts/echo-throughput.png', '/somewhere/run/charts/http-latency-p99.png'];
// The 8-byte PNG signature is enough to stand in for a chart in a pure rendering test.
const FAKE_PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const tmp: string[] = [];
function runDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-test-'));
  tmp.push(dir);
  cpSync(FIXTURE, join(dir, 'results.json'));
  return dir;
}
afterAll(() => { for (const d of tmp) rmSync(d, { recursive: true, force: true }); });

describe('formatSummary', () => {
  it('states the coverage only when it is below 95%', () => {
    expect(formatSummary({ median: 10, ci: { lo: 8, hi: 12, level: 0.97 }, n: 9 }, 0)).toBe('10 [8–12]');
    expect(formatSummary({ median: 1234.5, ci: { lo: 1000, hi: 1500, level: 0.9375 }, n: 5 }, 1)).toBe('1,234.5 [1,000.0–1,500.0, 93.7% CI]');
    expect(formatSummary({ median: 7, ci: null, n: 1 }, 0)).toBe('7');
    expect(formatSummary(null, 0)).toBe('–');
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(load(), CHARTS);

  it('has the title, machine and settings', () => {
    expect(md).toMatch(/^# concurrency-bench run 2025-01-02T03-04-05Z-fixture\n/);
    expect(md).toContain('- **CPU**: Test CPU @ 2.00GHz × 2');
    expect(md).toContain('- **Memory**: 4.0 GiB');
    expect(md).toContain('- **Kernel**: linux 6.8.0-test');
    expect(md).toContain('- **Git commit**: abc1234');
    expect(md).toContain('server CPUs 0, client CPUs 1 (method: taskset)');
    expect(md).toContain('- **Warm-up**: 1 s per cell');
    expect(md).toContain('- **Repetitions**: 2');
    expect(md).toContain('node dist/scripts/bench.js --models async,select');
  });

  it('has a table per protocol with medians, intervals and statuses from the fixture', () => {
    // A version 1 file: echo by the native client, HTTP by autocannon, one thread each.
    expect(md).toContain('### echo (closed loop; measured by native client, 1 thread)\n');
    expect(md).toContain('### http (closed loop; measured by autocannon client, 1 thread)\n');
    expect(md).toContain('| model | concurrency | ops/s | p50 (µs) | p90 (µs) | p99 (µs) | p99.9 (µs) | server CPU (%) | peak RSS (MiB) | client µs/op | status |');
    // p90 of repetitions 140 and 125 is 132.5 (shown 133); p99.9 of 400 and 360 is 380
    expect(md).toContain('| async | 1 | 11,000 [10,000–12,000, 50% CI] | 75 [70–80, 50% CI] | 133 [125–140, 50% CI] | 190 [180–200, 50% CI] | 380 [360–400, 50% CI] |');
    expect(md).toContain('| async | 2000 | 42,000 [40,000–44,000, 50% CI] |');
    expect(md).toContain("| ok, client saturated: the client's limit, not the server's |");
    expect(md).toMatch(/\| select \| 1 \| 9,000 \| 90 \| 170 \| 250 \| 500 \| 74\.0 \| 45\.0 \| [\d.]+ \| ok \|/);
    expect(md).toContain('| select | 2000 | – | – | – | – | – | – | – | – | limit (see Notes) |');
    expect(md).toContain('| select | 2000 | – | – | – | – | – | – | – | – | failed (see Notes) |');
  });

  it('says n/a for a model with no cells for a protocol', () => {
    const r = load();
    r.cells = r.cells.filter((c) => !(c.model === 'select' && c.protocol === 'http'));
    const text = renderMarkdown(r, []);
    expect(text).toContain('| select | all | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a: not run for http |');
    expect(text).not.toContain('## Charts');
  });

  it('embeds the charts by relative path', () => {
    expect(md).toContain('![echo: throughput vs concurrency](charts/echo-throughput.png)');
    expect(md).toContain('![http: p99 latency vs concurrency](charts/http-latency-p99.png)');
    expect(md).not.toContain('/somewhere');
  });

  it('lists failed and limit reasons, errors and saturated clients in the notes', () => {
    const notes = md.slice(md.indexOf('## Notes'));
    expect(notes).toContain('select http at concurrency 2000, repetition 1: failed: server exited with code 1: "accept: EMFILE", too many open files');
    expect(notes).toContain('select echo at concurrency 2000, repetition 1: limit: concurrency 2000 exceeds FD\\_SETSIZE (1024)');
    expect(notes).toContain("async echo at concurrency 2000, repetition 2: the load generator (native) was saturated (busiest thread 97% of a core): this figure is the load side's limit, not the server's");
    expect(notes).toContain('async http at concurrency 2000, repetition 1: 3 errors during the cell (ECONNRESET 2, ETIMEDOUT 1)');
    expect(notes.match(/^- /gm)).toHaveLength(4);
  });

  it('keeps a reason from breaking the table or injecting HTML', () => {
    const r = load();
    r.cells.find((c) => c.status === 'failed')!.reason = 'bad | pipe <script>x</script>';
    const text = renderMarkdown(r, []);
    expect(text).toContain('bad \\| pipe &lt;script&gt;x&lt;/script&gt;');
    expect(text).not.toContain('<script>');
  });

  it('includes a comparison verbatim when given one', () => {
    const text = renderMarkdown(load(), [], { comparisonMarkdown: '| model | change |\n|---|---|\n| async | +3% |' });
    expect(text).toContain('## Comparison with baseline\n\n| model | change |\n|---|---|\n| async | +3% |');
    expect(md).not.toContain('Comparison with baseline');
  });
});

describe('renderHtml', () => {
  const r = load();
  r.cells.find((c) => c.status === 'failed')!.reason = '<script>alert("x")</script>, & more';
  const html = renderHtml(r, { comparisonHtml: '<table><tr><td>cmp</td></tr></table>' });

  it('is self-contained: Chart.js and the data inline, nothing fetched, no pictures', () => {
    expect(html).not.toMatch(/src="http/);
    expect(html).not.toMatch(/href="http/);
    expect(html).not.toMatch(/<img/);
    expect(html).toContain('<style>');
    const json = /<script type="application\/json" id="bench-data">(.*?)<\/script>/s.exec(html)![1]!;
    const data = JSON.parse(json) as { charts: { id: string; series: unknown[]; panels?: { id: string }[] }[] };
    expect(data.charts).toHaveLength(12);
    // A line chart is a figure of panels, a canvas each; the others one canvas.
    for (const c of data.charts) for (const id of c.panels?.map((p) => p.id) ?? [c.id]) expect(html).toContain(`<canvas id="${id}"`);
    expect(html.length).toBeLessThan(1.5 * 2 ** 20);
  });

  it('keeps a reason with a </script> in it from closing the data', () => {
    const json = /<script type="application\/json" id="bench-data">(.*?)<\/script>/s.exec(renderHtml(r))![1]!;
    expect(json).not.toContain('</script');
  });

  it('escapes strings from the results file', () => {
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;, &#38; more');
  });

  it('has the machine, the tables, a detail row for every repetition, and the comparison', () => {
    expect(html).toContain('Test CPU @ 2.00GHz × 2');
    expect(html).toContain('<td>11,000 [10,000–12,000, 50% CI]</td>');
    expect(html.indexOf('<h2>Findings</h2>')).toBeLessThan(html.indexOf('<h2>Machine</h2>'));
    expect(html.match(/<td>async<\/td><td>2000<\/td><td>[12]<\/td>/g)).toHaveLength(4); // echo + http, two repetitions each
    expect(html).toContain('ECONNRESET: 2, ETIMEDOUT: 1');
    expect(html).toContain('120 / 900 / 4,000'); // connectUs
    expect(html).toContain('<h2>Comparison with baseline</h2>\n<table><tr><td>cmp</td></tr></table>');
  });
});

describe('writeReport', () => {
  it('writes charts, report.md and report.html into the run folder', async () => {
    const dir = runDir();
    const files = await writeReport(dir, { comparisonMarkdown: 'COMPARE-MD' });
    expect(files.markdown).toBe(join(dir, 'report.md'));
    expect(files.charts).toHaveLength(12);
    for (const f of [files.markdown, files.html, ...files.charts]) expect(existsSync(f)).toBe(true);
    const md = readFileSync(files.markdown, 'utf8');
    expect(md).toContain('](charts/echo-threads-processes.png)');
    expect(md).toContain('COMPARE-MD');
    const html = readFileSync(files.html, 'utf8');
    expect(html.match(/<figure id="chart-\d+"/g)).toHaveLength(12);
    expect(html.match(/<canvas id="chart-\d+-p\d+"/g)!.length).toBeGreaterThanOrEqual(12);
  });
});

describe('report CLI', () => {
  it('rejects an unknown flag, a missing argument and a bad file with a one-line message', async () => {
    await expect(main(['--foo'])).rejects.toThrow(new UsageError('unknown flag --foo; allowed: --csv, --timeline, --help'));
    await expect(main([])).rejects.toThrow(/^missing argument/);
    await expect(main([FIXTURE, 'extra'])).rejects.toBeInstanceOf(UsageError);
    const dir = runDir();
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ schemaVersion: SCHEMA_VERSION + 1, cells: [] })); // a version this build cannot read
    await expect(main([dir])).rejects.toThrow(ResultsError);
    await expect(main([join(dir, 'missing.json')])).rejects.toThrow(/cannot read results file/);
  });

  it('writes cells.csv into the run folder with --csv', async () => {
    const dir = runDir();
    expect(await main([join(dir, 'results.json'), '--csv'])).toEqual([join(dir, 'cells.csv')]);
    expect(readFileSync(join(dir, 'cells.csv'), 'utf8')).toMatch(/^runId,model,family/);
    expect(existsSync(join(dir, 'report.md'))).toBe(false);
  });
});

describe('io-wait on PostgreSQL in the tables', () => {
  it('adds the database\'s CPU and its sessions per query (1 per request), and nothing elsewhere', async () => {
    const { buildResults } = await import('../helpers/results-builder.js');
    const { tableSections } = await import('../../report/report.js');
    const r = buildResults([{ model: 'epoll', protocol: 'http', concurrency: 16, opsPerSec: [200] }, { model: 'async', protocol: 'http', concurrency: 16, opsPerSec: [1400] }]);
    Object.assign(r.cells[0]!, { scenario: 'io-wait', backend: 'postgres', backendConnections: 'per-request', database: { cpuPercent: 96.7, sessionsOpened: 500, queries: 500, pssPeakBytes: null, processesPeak: 20 } });
    Object.assign(r.cells[1]!, { scenario: 'steady' });
    const [steady, io] = tableSections(r);
    expect(steady!.columns).not.toContain('database CPU (%)');
    expect(io!.heading).toMatch(/^http, io-wait, postgres per-request/);
    expect(io!.columns.slice(-3)).toEqual(['database CPU (%)', 'database sessions / query', 'status']);
    const row = io!.rows.find((x) => x[0] === 'epoll')!;
    expect(row.slice(-3)).toEqual(['96.7', '1.000', 'ok']);
    expect(io!.rows.find((x) => x[0] === 'async')!.length).toBe(io!.columns.length); // a model not run there still fills every column
  });
});
