import { describe, expect, it } from 'vitest';
import { perHostTables } from '../../report/per-host.js';
import { renderHtml, renderMarkdown } from '../../report/report.js';
import { readResults } from '../../schema/read-results.js';
import type { AgentFigures, Cell, Results } from '../../schema/results.js';

const FIXTURE = new URL('../fixtures/results-small.json', import.meta.url).pathname;

function agent(host: string, i: number, over: Partial<AgentFigures>): AgentFigures {
  return {
    host, agent: i, agents: 2, connections: 2, ops: 5000, opsPerSec: 1000, errors: { total: 0, byCode: {} },
    latencyUs: { p50: 300, p90: 500, p99: 900, p999: 1500, max: 2000, mean: 350 }, latencyCount: 5000, histogram: '',
    rate: 1000, client: { cpuPercent: 40, saturated: false } as AgentFigures['client'], clockOffsetMs: 0.0123, clockUncertaintyMs: 0.05, warmupSettled: true, ...over,
  };
}

/** The small fixture with its first cell split over two agents (open loop, 2000/s) and its second over one. */
function withAgents(): Results {
  const r = readResults(FIXTURE);
  const [first, second] = r.cells as [Cell, Cell];
  Object.assign(first, { rate: 2000, opsPerSec: 1990, concurrency: 4, latencyUs: { ...first.latencyUs, p99: 1100 }, errors: { total: 3, byCode: { ECONNRESET: 3 } } });
  first.perHost = [
    agent('root@10.0.0.2', 0, { opsPerSec: 1000, errors: { total: 1, byCode: { ECONNRESET: 1 } } }),
    agent('bench@10.0.0.3:2222', 1, { opsPerSec: 990, latencyUs: { p50: 310, p90: 520, p99: 1200, p999: 1600, max: 2100, mean: 360 }, errors: { total: 2, byCode: { ECONNRESET: 2 } }, clockOffsetMs: -3.2, client: { cpuPercent: 99, saturated: true } as AgentFigures['client'] }),
  ];
  second.perHost = [agent('root@10.0.0.2', 0, { agents: 1, rate: null })];
  return r;
}

describe('perHostTables', () => {
  it('gives each cell two or more agents measured a table: one row per agent, then the merged cell', () => {
    const r = withAgents();
    const tables = perHostTables(r);
    expect(tables).toHaveLength(1); // the single-agent cell's figures are the cell's own
    const c = r.cells[0]!;
    expect(tables[0]!.heading).toBe(`${c.model} ${c.protocol} ${c.scenario}, 4 connections, 2,000 ops/s offered, repetition ${c.repetition}`);
    expect(tables[0]!.rows).toEqual([
      ['root@10.0.0.2', '1 of 2', '2', '1,000', '1,000', '900', '1', '0.012 ± 0.050', 'ok'],
      ['bench@10.0.0.3:2222', '2 of 2', '2', '1,000', '990', '1200', '2', '-3.200 ± 0.050', 'SATURATED'],
      ['all (merged)', '2', '4', '2,000', '1,990', '1100', '3', '', c.status],
    ]);
  });

  it('has nothing for a loopback run', () => {
    expect(perHostTables(readResults(FIXTURE))).toEqual([]);
  });
});

describe('report.md and report.html with perHost', () => {
  it('show each host\'s part under its own heading, and nothing of it for a loopback run', () => {
    const r = withAgents();
    const md = renderMarkdown(r, []);
    expect(md).toContain('## Each host\'s part');
    expect(md).toContain('| host | agent | connections | share of the rate (ops/s) | requests/s | p99 (µs) | errors | clock offset (ms) | client |');
    expect(md).toContain('| bench@10.0.0.3:2222 | 2 of 2 | 2 | 1,000 | 990 | 1200 | 2 | -3.200 ± 0.050 | SATURATED |');
    expect(md.indexOf('## Each host\'s part')).toBeGreaterThan(md.indexOf('## Results'));
    expect(renderHtml(r)).toContain('<td>bench@10.0.0.3:2222</td>');
    const plain = readResults(FIXTURE);
    expect(renderMarkdown(plain, [])).not.toContain('Each host');
    expect(renderHtml(plain)).not.toContain('Each host');
  });
});
