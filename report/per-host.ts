// Each host's part of a cell measured by several load agents (cells[].perHost): one small table per
// such cell, so a reader sees whether the agents shared the load evenly and whether one of them was
// slower, erred or saturated, beside the merged figures the main tables show. Pure.
import type { AgentFigures, Cell, Results } from '../schema/results.js';
import { formatNumber } from './format.js';

export const PER_HOST_NOTE = 'Cells measured by several load agents: each agent\'s own figures. Requests/s and errors add up to the cell\'s; the cell\'s p99 comes from the agents\' histograms added bucket by bucket, never from their p99s (which need not bracket it). Closed loop divides the connections among agents; open loop gives agent i of N operations kN+i of one schedule, so each holds 1/N of the rate. The clock offset is the agent\'s clock minus the harness\'s, ± half the least-delay round trip.';

export const PER_HOST_COLUMNS = ['host', 'agent', 'connections', 'share of the rate (ops/s)', 'requests/s', 'p99 (µs)', 'errors', 'clock offset (ms)', 'client'];

export interface PerHostTable {
  heading: string;
  columns: string[];
  rows: string[][];
}

function agentRow(a: AgentFigures): string[] {
  return [
    a.host, `${a.agent + 1} of ${a.agents}`, String(a.connections), a.rate === null ? 'n/a' : formatNumber(a.rate, 0),
    formatNumber(a.opsPerSec, 0), String(a.latencyUs.p99), String(a.errors.total),
    `${formatNumber(a.clockOffsetMs, 3)} ± ${formatNumber(a.clockUncertaintyMs, 3)}`, a.client.saturated ? 'SATURATED' : 'ok',
  ];
}

function cellRow(c: Cell, parts: readonly AgentFigures[]): string[] {
  return [
    'all (merged)', String(parts.length), String(parts.reduce((s, a) => s + a.connections, 0)), c.rate === null ? 'n/a' : formatNumber(c.rate, 0),
    formatNumber(c.opsPerSec, 0), String(c.latencyUs.p99), String(c.errors.total), '', c.status,
  ];
}

function heading(c: Cell): string {
  const rate = c.rate === null ? '' : `, ${formatNumber(c.rate, 0)} ops/s offered`;
  return `${c.model} ${c.protocol} ${c.scenario}, ${c.concurrency} connections${rate}, repetition ${c.repetition}`;
}

/** One table per cell that two or more agents measured (a single agent's figures are the cell's own). */
export function perHostTables(results: Results): PerHostTable[] {
  return results.cells
    .filter((c) => (c.perHost?.length ?? 0) >= 2)
    .map((c) => ({ heading: heading(c), columns: PER_HOST_COLUMNS, rows: [...c.perHost!.map(agentRow), cellRow(c, c.perHost!)] }));
}
