import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../schema/results.js';
import { readResults } from '../../schema/read-results.js';

const FIXTURE = new URL('../fixtures/results-small.json', import.meta.url).pathname;

describe('readResults', () => {
  it('upgrades a version 1 file: closed loop, autocannon for HTTP, client cost derived from its CPU', () => {
    const r = readResults(FIXTURE);
    expect(r.schemaVersion).toBe(SCHEMA_VERSION);
    expect(r.settings.rates).toBeNull();
    expect(r.settings.httpClient).toBe('autocannon');
    const http = r.cells.find((c) => c.protocol === 'http' && c.status === 'ok')!;
    const echo = r.cells.find((c) => c.protocol === 'echo' && c.status === 'ok')!;
    expect(http.client.tool).toBe('autocannon');
    expect(echo.client.tool).toBe('native');
    expect(echo.rate).toBeNull();
    expect(echo.latencyUncorrectedUs).toEqual(echo.latencyUs);
    // cpuPercent of one core over durationS, spread over the ops: µs per op.
    expect(echo.client.cpuUsPerOp).toBeCloseTo(((echo.client.cpuPercent / 100) * echo.durationS * 1e6) / echo.ops, 6);
  });
});
