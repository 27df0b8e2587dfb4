import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../schema/results.js';
import { readResults } from '../../schema/read-results.js';
import { buildResults } from '../helpers/results-builder.js';

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

  it('reads a version 5 file (before Redis) as the current version without Redis, and keeps a current file\'s Redis figures', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    const old = buildResults([{ model: 'epoll', opsPerSec: [1000] }], { schemaVersion: 5 });
    writeFileSync(join(dir, 'old.json'), JSON.stringify(old));
    const r = readResults(join(dir, 'old.json'));
    expect(SCHEMA_VERSION).toBe(9);
    expect(r.schemaVersion).toBe(SCHEMA_VERSION);
    expect(r.settings.redis).toBeUndefined();
    expect(r.cells[0]!.redis).toBeUndefined();
    const now = buildResults([{ model: 'py-rq', opsPerSec: [1000] }], { settings: { redis: { version: 'Redis 7.0.15', url: 'redis://127.0.0.1:6379', settings: { save: '' } } } });
    now.cells[0]!.redis = { cpuPercent: 31, pssPeakBytes: 8 << 20, threadsPeak: 5, commands: 12_000, connectionsOpened: 9 };
    writeFileSync(join(dir, 'now.json'), JSON.stringify(now));
    const back = readResults(join(dir, 'now.json'));
    expect(back.settings.redis!.version).toBe('Redis 7.0.15');
    expect(back.cells[0]!.redis).toEqual({ cpuPercent: 31, pssPeakBytes: 8 << 20, threadsPeak: 5, commands: 12_000, connectionsOpened: 9 });
  });

  it('reads a version 6 file (before cells had their own delay, equal-rate cells, the noise probe and hosts) as the current version without them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    const old = buildResults([{ model: 'epoll', opsPerSec: [1000, 1100] }], { schemaVersion: 6 });
    writeFileSync(join(dir, 'v6.json'), JSON.stringify(old));
    const r = readResults(join(dir, 'v6.json'));
    expect(r.schemaVersion).toBe(SCHEMA_VERSION);
    expect(r.settings.noise).toBeUndefined();
    expect(r.env.hosts).toBeUndefined();
    expect(r.cells[0]!.perHost).toBeUndefined();
    expect(r.cells.map((c) => c.opsPerSec)).toEqual([1000, 1100]);
    writeFileSync(join(dir, 'v10.json'), JSON.stringify({ ...old, schemaVersion: 10 }));
    expect(() => readResults(join(dir, 'v10.json'))).toThrow(/schemaVersion 10; this version reads 1 to 9/);
  });

  it('reads a version 7 file (drift judged by counting noise, no noisePercent) and keeps its drift as stored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    const old = buildResults([{ model: 'epoll', opsPerSec: [1000] }], { schemaVersion: 7 });
    old.cells[0]!.drift = { firstOpsPerSec: 900, lastOpsPerSec: 1000, ratio: 0.9, drifts: true };
    writeFileSync(join(dir, 'v7.json'), JSON.stringify(old));
    const r = readResults(join(dir, 'v7.json'));
    expect(r.schemaVersion).toBe(SCHEMA_VERSION);
    expect(r.cells[0]!.drift).toEqual({ firstOpsPerSec: 900, lastOpsPerSec: 1000, ratio: 0.9, drifts: true });
  });

  it('reads a version 8 file (before the open-loop send batch) as the current version without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    const old = buildResults([{ model: 'epoll', opsPerSec: [1000] }], { schemaVersion: 8 });
    old.cells[0]!.client.sendLagUs = { p50: 3, p99: 48, max: 90 };
    writeFileSync(join(dir, 'v8.json'), JSON.stringify(old));
    const r = readResults(join(dir, 'v8.json'));
    expect(r.schemaVersion).toBe(SCHEMA_VERSION);
    expect(r.cells[0]!.client.sendLagUs).toEqual({ p50: 3, p99: 48, max: 90 });
    expect(r.cells[0]!.client.sendBatchUs).toBeUndefined();
  });
});
