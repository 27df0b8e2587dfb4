import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Cell } from '../../schema/results.js';
import { parseBytes, parsePlan, QUICK, type Plan } from '../../harness/plan.js';
import { checkPorts } from '../../harness/preflight.js';
import { parseSeconds, PlanError } from '../../schema/flags.js';
import { estimatePlanS, planCells, resolveSweep } from '../../harness/run.js';
import { clientArgs, emptyCell, errorReason, IDLE_PROBE_S, idealFor, withCpuBound, type CellSpec } from '../../harness/cell.js';

const out = mkdtempSync(join(tmpdir(), 'plan-test-'));
const parse = (...args: string[]) => parsePlan([...args, '--out', out]);
const message = (...args: string[]): string => {
  try {
    parse(...args);
  } catch (e) {
    expect(e).toBeInstanceOf(PlanError);
    return (e as Error).message;
  }
  throw new Error('expected a PlanError');
};

describe('parsePlan: load generator flags', () => {
  it('defaults to the native client, closed loop, one request in flight', () => {
    const p = parse()!;
    expect(p.httpClient).toBe('native');
    expect(p.rates).toBeNull();
    expect(p.pipeline).toBe(1);
    expect(p.clientThreads).toBeNull();
    expect(p.serverCpus).toBeNull();
    expect(p.sendBatchUs).toBeNull(); // auto
  });

  it('parses --rate lists and sweep, --pipeline, --client-threads', () => {
    expect(parse('--rate', '5000,1000,5000')!.rates).toEqual([1000, 5000]);
    expect(parse('--rate', 'sweep')!.rates).toBe('sweep');
    expect(parse('--pipeline', '16', '--scenarios', 'steady,idle,payload')!.pipeline).toBe(16);
    expect(parse('--client-threads', '3')!.clientThreads).toBe(3);
    expect(parse('--http-client', 'autocannon')!.httpClient).toBe('autocannon');
  });

  it('refuses what cannot work, naming the flag', () => {
    expect(message('--rate', 'fast')).toBe('--rate: expected operations per second (a positive number), a list of them, or "sweep", got "fast"');
    expect(message('--rate', '0')).toMatch(/^--rate: expected operations per second/);
    expect(message('--http-client', 'ab')).toBe('--http-client: unknown value "ab"; known: native, autocannon, wrk');
    expect(message('--http-client', 'autocannon', '--rate', '100')).toBe('--rate: open loop needs --http-client native (autocannon keeps no corrected schedule)');
    expect(message('--server-cpus', '64')).toMatch(/^--server-cpus: at most \d+ on this machine \(\d+ CPUs; the client needs at least one\), got 64$/);
    expect(message('--pipeline', '0')).toBe('--pipeline: must be a positive integer, got "0"');
    expect(message('--client-threads', 'x')).toBe('--client-threads: must be a positive integer, got "x"');
    expect(message('--send-batch', '-5')).toBe('--send-batch: must be auto or a gap in µs from 0 to 1000, got "-5"');
    expect(message('--send-batch', '1001')).toBe('--send-batch: must be auto or a gap in µs from 0 to 1000, got "1001"');
  });

  it("passes --send-batch to open-loop clients, and 0 to equal-rate cells unless the plan fixes one", () => {
    const key = { model: 'epoll', protocol: 'http', scenario: 'steady', concurrency: 64, variant: '', repetition: 1 } as const;
    const batchOf = (plan: Plan, spec: object): string | null => {
      const args = clientArgs({ ...key, family: 'event-loop', rate: null, ...spec } as unknown as CellSpec, plan, 'stdin', 64, 1);
      const i = args.indexOf('--send-batch');
      return i < 0 ? null : args[i + 1]!;
    };
    const auto = parse('--rate', 'sweep')!;
    expect(batchOf(auto, { rate: 1000 })).toBeNull(); // the client chooses
    expect(batchOf(auto, { rate: 1000, sweepFraction: 0.5 })).toBeNull(); // a sweep point is one model's own curve
    expect(batchOf(auto, { rate: 1000, sweepFraction: 0.5, sweepOf: 'epoll' })).toBe('0'); // models compared at one load
    expect(batchOf(auto, {})).toBeNull(); // closed loop
    const fixed = parse('--rate', 'sweep', '--send-batch', '25')!;
    expect(fixed.sendBatchUs).toBe(25);
    expect(batchOf(fixed, { rate: 1000 })).toBe('25');
    expect(batchOf(fixed, { rate: 1000, sweepFraction: 0.5, sweepOf: 'epoll' })).toBe('25');
  });

  it('puts each sweep cell right after the closed-loop cell it takes its rate from', () => {
    const cells = planCells(parse('--models', 'epoll', '--scenarios', 'steady', '--protocols', 'echo', '--concurrency', '1,16', '--rate', 'sweep')!);
    expect(cells.map((c) => [c.concurrency, c.sweepFraction ?? 'closed'])).toEqual([
      [1, 'closed'], [1, 0.25], [1, 0.5], [1, 0.75], [1, 0.9], [1, 1],
      [16, 'closed'], [16, 0.25], [16, 0.5], [16, 0.75], [16, 0.9], [16, 1],
    ]);
    const fixed = planCells(parse('--models', 'epoll', '--scenarios', 'steady', '--protocols', 'echo', '--concurrency', '1', '--rate', '100,200')!);
    expect(fixed.map((c) => c.rate)).toEqual([100, 200]);
  });
});

describe('parsePlan', () => {
  it('has sane defaults: the default suite, every scenario', () => {
    const p = parse()!;
    expect(p.suite).toBe('default');
    expect(p.protocols).toEqual(['echo', 'http']);
    expect(p.concurrency).toEqual([1, 4, 16, 64, 256, 1000]);
    expect(p.durationS).toBe(1);
    expect(p.warmupS).toBe(0.3);
    expect(p.repetitions).toBe(1);
    expect(p.payloadBytes).toBe(64);
    expect(p.scenarios).toEqual(['steady', 'idle', 'io-wait', 'cpu', 'churn', 'payload']);
    expect(p.backendDelayMs).toBe(10);
    expect(p.workUs).toBe(200);
    expect(p.models).toContain('async');
    expect(p.models).toContain('thread-offload');
  });

  it('--quick shortens the plan but explicit flags still win', () => {
    const q = parse('--quick')!;
    expect(q.concurrency).toEqual([1, 16]);
    expect(q.durationS).toBe(Number.parseFloat(QUICK.duration));
    expect(parse('--quick', '--concurrency', '8')!.concurrency).toEqual([8]);
  });

  it('parses lists, durations and sizes', () => {
    const p = parse('--models', 'async,node-http', '--concurrency', '64,1,64', '--duration', '500ms', '--warmup', '0', '--memory-budget', '2GiB')!;
    expect(p.models).toEqual(['async', 'node-http']);
    expect(p.concurrency).toEqual([1, 64]);
    expect(p.durationS).toBe(0.5);
    expect(p.warmupS).toBe(0);
    expect(p.memoryBudgetBytes).toBe(2 * 2 ** 30);
  });

  it('returns null for --help', () => {
    expect(parsePlan(['--help'])).toBeNull();
  });

  it.each([
    [['--models', 'nope'], /^--models: unknown model "nope"; known: async, node-http, .*, all$/],
    [['--protocols', 'ftp'], /^--protocols: unknown protocol "ftp"; known: echo, http$/],
    [['--scenarios', 'storm'], /^--scenarios: unknown scenario "storm"; known: steady, idle, io-wait, cpu, churn, payload$/],
    [['--concurrency', '0'], /^--concurrency: must be a positive integer, got "0"$/],
    [['--concurrency', '1,,2'], /^--concurrency: expected a comma-separated list/],
    [['--concurrency', '-4'], /^--concurrency: must be a positive integer/],
    [['--duration', '0'], /^--duration: must be a positive duration like 3s, 500ms or 1.5, got "0"$/],
    [['--duration', 'soon'], /^--duration: must be a positive duration/],
    [['--warmup', '-1s'], /^--warmup: must be zero or more/],
    [['--repetitions', '1.5'], /^--repetitions: must be a positive integer/],
    [['--payload', '0'], /^--payload: must be a positive integer/],
    [['--payload', '999999999'], /^--payload: at most 67108864 bytes/],
    [['--pin', 'maybe'], /^--pin: unknown value "maybe"; known: auto, off$/],
    [['--memory-budget', 'lots'], /^--memory-budget: must be a size like 512MiB/],
    [['--models', 'node-http', '--protocols', 'echo'], /^--models\/--protocols: no model in node-http serves echo$/],
    [['--bogus'], /^--bogus: unknown flag; allowed: --models, --protocols/],
    [['stray'], /^unexpected argument "stray"/],
    [['--models'], /^--models: needs a value \(see --help\)$/],
  ])('rejects %j with a one-line message naming the flag', (args, expected) => {
    const m = message(...args);
    expect(m).toMatch(expected);
    expect(m).not.toContain('\n');
  });

  it('rejects an --out that cannot be written', () => {
    const file = join(out, 'a-file');
    writeFileSync(file, 'x');
    expect(() => parsePlan(['--out', join(file, 'below')])).toThrow(/^--out: cannot write to ".*": ENOTDIR$/);
    // Under /proc a recursive mkdir never returns and root passes access(): only a real write tells.
    expect(() => parsePlan(['--out', '/proc/nope'])).toThrow('--out: cannot write to "/proc/nope": ENOENT');
  });

  it('parseSeconds and parseBytes accept their documented forms', () => {
    expect(parseSeconds('--x', '1.5', false)).toBe(1.5);
    expect(parseSeconds('--x', '250ms', false)).toBe(0.25);
    expect(parseBytes('--x', '512MiB')).toBe(512 * 2 ** 20);
    expect(parseBytes('--x', '1024')).toBe(1024);
  });
});

describe('suites and scenarios', () => {
  const scenariosOf = (cells: ReturnType<typeof planCells>): string[] => [...new Set(cells.map((c) => c.scenario))];

  it('--quick is the quick suite: steady only, short windows', () => {
    const q = parse('--quick')!;
    expect(q.suite).toBe('quick');
    expect(q.scenarios).toEqual(['steady']);
    expect(message('--quick', '--suite', 'full')).toBe('--quick: is --suite quick; it cannot go with --suite full');
    expect(message('--suite', 'huge')).toBe('--suite: unknown value "huge"; known: quick, default, full, python, soak, ci');
  });

  it('--suite soak is one long cell of epoll, or of the models --models names, at the window --duration gives', () => {
    const p = parse('--suite', 'soak')!;
    expect(p.durationS).toBe(600);
    expect(planCells(p).map((c) => `${c.model}/${c.protocol}/${c.scenario}/${c.concurrency}`)).toEqual(['epoll/http/steady/64']);
    const mine = parse('--suite', 'soak', '--models', 'async', '--duration', '30s')!;
    expect(mine.durationS).toBe(30);
    expect(planCells(mine).map((c) => `${c.model}/${c.concurrency}`)).toEqual(['async/64']);
  });

  it('the default suite gives each scenario its own slice', () => {
    const cells = planCells(parse('--models', 'epoll,thread-pool,poll')!);
    expect(scenariosOf(cells)).toEqual(['steady', 'idle', 'io-wait', 'cpu', 'churn', 'payload']);
    const io = cells.filter((c) => c.scenario === 'io-wait');
    // --models given: every slice runs the plan's models; on PostgreSQL pooled at 4 and 64 (a pool
    // as large as the connections), per-request at 64, smaller pools at 64; on the service 1,000 waits at once.
    expect(io.filter((c) => c.model === 'epoll').map((c) => `${c.backend} ${c.backendConnections}@${c.concurrency}${c.dbPool ? ` pool ${c.dbPool}` : ''}`))
      .toEqual(['postgres pooled@4 pool 4', 'postgres pooled@64 pool 64', 'postgres per-request@64', 'postgres pooled@64 pool 4', 'postgres pooled@64 pool 16', 'service pooled@1000 pool 1000']);
    // Without --models the pool sizes run for epoll and async only.
    const all = planCells(parse()!).filter((c) => c.scenario === 'io-wait' && c.dbPool !== undefined && c.dbPool < c.concurrency);
    expect([...new Set(all.map((c) => c.model))].sort()).toEqual(['async', 'epoll']);
    expect(io.every((c) => c.protocol === 'http')).toBe(true);
    const payload = cells.filter((c) => c.scenario === 'payload' && c.model === 'epoll');
    expect(payload.map((c) => `${c.protocol}:${c.payloadBytes}`)).toEqual(['echo:64', 'echo:65536', 'http:64', 'http:65536']);
    expect(cells.filter((c) => c.scenario === 'cpu').map((c) => c.concurrency)).toEqual([4, 4, 4]);
  });

  it('without --models, a slice that names its models runs only those', () => {
    const cells = planCells(parse()!);
    expect([...new Set(cells.filter((c) => c.scenario === 'idle').map((c) => c.model))].sort()).toEqual(['async', 'epoll', 'poll', 'select']);
    expect(new Set(cells.filter((c) => c.scenario === 'steady').map((c) => c.model)).size).toBeGreaterThan(10);
  });

  it('explicit flags replace the suite\'s choices, and two slices naming one cell run it once', () => {
    const p = parse('--models', 'epoll', '--scenarios', 'io-wait', '--concurrency', '64', '--backend-connections', 'per-request')!;
    const cells = planCells(p);
    // The default suite's io-wait slices wait on PostgreSQL and (at 1,000) on the service: both stay.
    expect(cells.map((c) => `${c.protocol}/${c.backend}/${c.backendConnections}@${c.concurrency}`)).toEqual(['http/postgres/per-request@64', 'http/service/per-request@64']);
    const one = planCells(parse('--models', 'epoll', '--scenarios', 'io-wait', '--concurrency', '64', '--backend', 'service', '--backend-connections', 'per-request')!);
    expect(one.map((c) => `${c.backend}/${c.backendConnections}@${c.concurrency}`)).toEqual(['service/per-request@64']);
    const pools = planCells(parse('--models', 'epoll', '--scenarios', 'io-wait', '--concurrency', '64', '--backend', 'postgres', '--db-pool', '4,16', '--backend-connections', 'pooled,per-request')!);
    // A pool size is a cell of its own when pooled; per request has no pool.
    expect(pools.map((c) => `${c.backendConnections}${c.dbPool ? `/${c.dbPool}` : ''}`)).toEqual(['pooled/4', 'pooled/16', 'per-request']);
    // A pool larger than the connections is the connections: at 8, pools of 4 and 16 run as 4 and 8.
    const small = planCells(parse('--models', 'epoll', '--scenarios', 'io-wait', '--concurrency', '8', '--backend', 'postgres', '--db-pool', '4,16,64', '--backend-connections', 'pooled')!);
    expect(small.map((c) => c.dbPool)).toEqual([4, 8]);
    const sizes = planCells(parse('--models', 'epoll', '--scenarios', 'payload', '--protocols', 'echo', '--payload-sizes', '100,1000')!);
    expect(sizes.map((c) => c.payloadBytes)).toEqual([100, 1000]);
  });

  it('refuses what the scenarios cannot do, naming the flag', () => {
    expect(message('--scenarios', 'steady,io-wait', '--pipeline', '4')).toMatch(/^--pipeline: io-wait sends one request at a time per connection/);
    expect(message('--backend-connections', 'shared')).toBe('--backend-connections: unknown value "shared"; known: pooled, per-request');
    expect(message('--backend', 'nope')).toBe('--backend: unknown value "nope"; known: postgres, service');
    expect(message('--db-pool', '0')).toBe('--db-pool: must be a positive integer, got "0"');
    expect(message('--postgres-auth', 'md5')).toBe('--postgres-auth: unknown value "md5"; known: scram, trust');
    expect(message('--postgres-url', 'postgres://u:secret@10.0.0.5/db')).toBe('--postgres-url: the database must be on this machine (127.x.x.x, localhost or ::1), got 10.0.0.5: load goes to loopback only');
    expect(message('--postgres-url', 'mysql://u@127.0.0.1/db')).toBe('--postgres-url: must start with postgres:// or postgresql://, got mysql://');
    expect(message('--postgres-url', 'postgres://127.0.0.1')).toMatch(/^--postgres-url: needs a user and a database/);
    expect(message('--postgres-url', 'not a url')).toMatch(/^--postgres-url: not a URL/);
    expect(message('--work-us', '0')).toBe('--work-us: must be a positive integer, got "0"');
    expect(message('--backend-delay', 'soon')).toMatch(/^--backend-delay: must be zero or more like 3s/);
    expect(message('--scenarios', 'payload', '--payload-sizes', '2000000')).toBe('--payload-sizes: at most 1048576 bytes (1 MiB), got 2000000');
  });

  it('estimates a plan from its windows, and counts nothing for cells known to be limits', () => {
    const one = parse('--models', 'epoll', '--scenarios', 'steady', '--protocols', 'echo', '--concurrency', '1', '--duration', '2s', '--warmup', '1s')!;
    const cell = 3 + 0.26 + 0.5; // windows, the settling warm-up on average, start and stop
    // --concurrency replaces the default suite's choice of connections, and its equal-rate cells go with it.
    expect(estimatePlanS(one)).toBeCloseTo(cell, 5);
    // Without it, the equal-rate cells (10% and 50% of epoll's rate at one connection) also watch the idle server for IDLE_PROBE_S.
    const equal = planCells(parse('--models', 'epoll', '--scenarios', 'steady', '--protocols', 'echo')!).filter((c) => c.sweepOf !== undefined);
    expect(equal).toHaveLength(2);
    // Pools asked for more connections than workers are run: thread-pool queues their requests;
    // prefork's client also waits 3 s for the connections left in the backlog before its window.
    const pool = (model: string) => parse('--models', model, '--scenarios', 'steady', '--protocols', 'echo', '--concurrency', '4,64', '--workers', '4', '--duration', '2s', '--warmup', '1s', '--suite', 'full')!;
    expect(estimatePlanS(pool('thread-pool'))).toBeCloseTo(2 * cell, 5);
    expect(estimatePlanS(pool('prefork'))).toBeCloseTo(2 * cell + 3, 5);
    const c = parse('--models', 'native-epoll', '--scenarios', 'cpu', '--concurrency', '4')!;
    expect(estimatePlanS(c)).toBe(0);
  });

  it('refuses more connections at once than there are local ports', () => {
    expect(() => checkPorts(5000, '--concurrency', { first: 60000, last: 60999 })).toThrow(
      '--concurrency: 5000 connections at once need as many local ports, but ip_local_port_range (60000-60999) has 1000; widen it (sysctl net.ipv4.ip_local_port_range) or lower --concurrency',
    );
    expect(() => checkPorts(1000, '--concurrency', { first: 60000, last: 60999 })).not.toThrow();
  });
});

describe('idealFor', () => {
  const plan = { workers: 4, backendDelayMs: 10, workUs: 200, external: [] };
  it('io-wait: a pool holds at most its workers\' waits, a loop every connection\'s', () => {
    expect(idealFor({ scenario: 'io-wait', concurrency: 64, model: 'async' }, plan, 'one', 1)).toEqual({ opsPerSec: 6400, basis: 'min(64 connections, no cap) / 10 ms', bounds: { waits: 6400, cpu: null } });
    // A slice's own delay is the cell's: 1,000 waits of 100 ms.
    expect(idealFor({ scenario: 'io-wait', concurrency: 1000, model: 'epoll', backendDelayMs: 100 }, plan, 'one', 1)!.opsPerSec).toBe(10_000);
    expect(idealFor({ scenario: 'io-wait', concurrency: 64, model: 'thread-pool' }, plan, 'workers', 1)!.opsPerSec).toBe(400);
    // A pool smaller than the connections caps a loop's waits, not a blocking model's (one connection per thread).
    expect(idealFor({ scenario: 'io-wait', concurrency: 64, model: 'epoll', dbPool: 8, backendConnections: 'pooled' }, plan, 'one', 1)).toMatchObject({ opsPerSec: 800, basis: 'min(64 connections, a pool of 8) / 10 ms' });
    expect(idealFor({ scenario: 'io-wait', concurrency: 64, model: 'epoll', dbPool: 8, backendConnections: 'per-request' }, plan, 'one', 1)!.opsPerSec).toBe(6400);
    expect(idealFor({ scenario: 'io-wait', concurrency: 16, model: 'thread-per-connection', dbPool: 8, backendConnections: 'pooled' }, plan, 'connections', 1)!.opsPerSec).toBe(1600);
  });
  it('cpu: one thread burns one request at a time; pools and workers per connection as many as there are CPUs', () => {
    expect(idealFor({ scenario: 'cpu', concurrency: 4, model: 'async' }, plan, 'one', 2)!.opsPerSec).toBe(5000);
    expect(idealFor({ scenario: 'cpu', concurrency: 4, model: 'thread-pool' }, plan, 'workers', 2)!.opsPerSec).toBe(10000);
    expect(idealFor({ scenario: 'cpu', concurrency: 1, model: 'cluster' }, plan, 'workers', 8)!.opsPerSec).toBe(5000);
    expect(idealFor({ scenario: 'steady', concurrency: 4, model: 'async' }, plan, 'one', 2)).toBeNull();
  });
});

describe('planCells', () => {
  it('runs repetitions as the outer loop, so repetitions interleave across cells', () => {
    const p = parse('--models', 'async,node-http', '--scenarios', 'steady', '--concurrency', '1,4', '--repetitions', '2')!;
    const cells = planCells(p);
    // async: echo+http, node-http: http only -> 3 (model, protocol) pairs x 2 concurrencies x 2 repetitions
    expect(cells).toHaveLength(12);
    expect(cells.slice(0, 6).every((c) => c.repetition === 1)).toBe(true);
    expect(cells.slice(6).every((c) => c.repetition === 2)).toBe(true);
    expect(cells.some((c) => c.model === 'node-http' && c.protocol === 'echo')).toBe(false);
  });
});

describe('the default suite: equal rates, the noise probe, a slice\'s own delay', () => {
  const steadyAt1 = ['--scenarios', 'steady', '--protocols', 'echo'];
  it('puts every model\'s equal-rate cells after the closed-loop cell of the model they take their rate from', () => {
    const cells = planCells(parse('--models', 'busy-poll,epoll', ...steadyAt1)!);
    const epollClosed = cells.findIndex((c) => c.model === 'epoll' && c.concurrency === 1 && c.rate === null && c.sweepFraction === undefined);
    const equal = cells.filter((c) => c.sweepOf !== undefined);
    expect(equal.map((c) => `${c.model}@${c.sweepFraction}`)).toEqual(['busy-poll@0.1', 'busy-poll@0.5', 'epoll@0.1', 'epoll@0.5']);
    expect(equal.every((c) => c.sweepOf === 'epoll' && c.concurrency === 1)).toBe(true);
    expect(cells.indexOf(equal[0]!)).toBeGreaterThan(epollClosed);
    // --concurrency replaces the slice's connections, and the equal rates that go with them.
    expect(planCells(parse('--models', 'busy-poll,epoll', ...steadyAt1, '--concurrency', '1')!).some((c) => c.sweepOf !== undefined)).toBe(false);
    expect(parse('--models', 'epoll', '--concurrency', '64')!.noise).toBeNull();
    // Without the reference model there is no rate to meet: no equal-rate cells.
    expect(planCells(parse('--models', 'busy-poll', ...steadyAt1)!).some((c) => c.sweepOf !== undefined)).toBe(false);
  });

  it('takes an equal-rate cell\'s rate from the reference model\'s closed-loop cell, not its own', () => {
    const key = { family: 'selector' as const, protocol: 'echo' as const, scenario: 'steady' as const, concurrency: 1, repetition: 1, rate: null };
    const epoll = { ...emptyCell({ ...key, model: 'epoll' }, 'ok', ''), opsPerSec: 20_000 };
    const busy = { ...emptyCell({ ...key, model: 'busy-poll' }, 'ok', ''), opsPerSec: 50_000 };
    expect(resolveSweep({ ...key, model: 'busy-poll', sweepFraction: 0.1, sweepOf: 'epoll' }, [epoll, busy]).rate).toBe(2000);
    expect(resolveSweep({ ...key, model: 'busy-poll', sweepFraction: 0.1 }, [epoll, busy]).rate).toBe(5000);
  });

  it('adds the noise probe\'s missing readings, spread through the run, only when the plan runs its cell', () => {
    const p = parse('--models', 'epoll,async', '--scenarios', 'steady,churn')!;
    expect(p.noise).toEqual({ model: 'epoll', protocol: 'echo', scenario: 'steady', concurrency: 64, readings: 5 });
    const cells = planCells(p);
    const at = cells.flatMap((c, i) => (c.model === 'epoll' && c.protocol === 'echo' && c.scenario === 'steady' && c.concurrency === 64 && c.rate === null && c.sweepFraction === undefined ? [i] : []));
    expect(at.map((i) => cells[i]!.repetition)).toEqual([1, 2, 3, 4, 5]);
    // Spread: no two readings side by side, and the last one in the last stretch of the run.
    expect(at.slice(1).every((i, k) => i - at[k]! > 1)).toBe(true);
    expect(at.at(-1)!).toBeGreaterThan(cells.length * 0.6);
    // Never a cell the plan would not have had: without epoll echo at 64 there is no probe.
    expect(parse('--models', 'async')!.noise).toBeNull();
    expect(parse('--models', 'epoll', '--concurrency', '16')!.noise).toBeNull();
    expect(parse('--suite', 'full')!.noise).toBeNull();
    // With as many repetitions as readings, every cell is its own probe: nothing is added.
    const five = parse('--models', 'epoll', '--scenarios', 'steady', '--repetitions', '5')!;
    expect(planCells(five).filter((c) => c.concurrency === 64 && c.protocol === 'echo' && c.rate === null && c.sweepFraction === undefined)).toHaveLength(5);
  });

  it('runs the 1,000 waits at the slice\'s own 100 ms, unless --concurrency or --backend-delay replaces the slice\'s choice', () => {
    const io = planCells(parse('--models', 'epoll', '--scenarios', 'io-wait')!);
    expect(io.filter((c) => c.concurrency === 1000).map((c) => c.backendDelayMs)).toEqual([100]);
    expect(io.filter((c) => c.concurrency !== 1000).every((c) => c.backendDelayMs === undefined)).toBe(true);
    expect(planCells(parse('--models', 'epoll', '--scenarios', 'io-wait', '--backend-delay', '20ms')!).every((c) => c.backendDelayMs === undefined)).toBe(true);
    expect(planCells(parse('--models', 'epoll', '--scenarios', 'io-wait', '--concurrency', '64', '--backend', 'service')!).every((c) => c.backendDelayMs === undefined)).toBe(true);
  });

  it('leaves the models that start a thread or process per connection out of echo at 256, unless --models names them', () => {
    const steady = planCells(parse()!).filter((c) => c.scenario === 'steady' && c.concurrency === 256);
    expect(steady.some((c) => c.model === 'thread-per-connection' || c.model === 'process-per-connection')).toBe(false);
    expect(steady.some((c) => c.model === 'native-threads')).toBe(true);
    expect(planCells(parse('--models', 'thread-per-connection', '--scenarios', 'steady')!).some((c) => c.concurrency === 256)).toBe(true);
  });
});

describe('withCpuBound', () => {
  it('adds what the server\'s CPUs serve at the CPU per request measured, and keeps the lower bound as the ideal', () => {
    const ideal = { opsPerSec: 10_000, basis: 'min(1000 connections, no cap) / 100 ms', bounds: { waits: 10_000, cpu: null } };
    const server = { cpuUserS: 0.8, cpuSysS: 0.2 } as Cell['server'];
    // 1 s of CPU for 4,000 requests: 250 µs each, so one CPU serves 4,000/s: the CPU is the bound.
    const cpuBound = withCpuBound(ideal, { scenario: 'io-wait', ops: 4000, server }, 1)!;
    expect(cpuBound.opsPerSec).toBe(4000);
    expect(cpuBound.bounds).toEqual({ waits: 10_000, cpu: 4000 });
    expect(cpuBound.basis).toBe('waits: min(1000 connections, no cap) / 100 ms; CPU: 1 CPU / 250 µs per request');
    // 25 µs each: 40,000/s on one CPU, so the waits are the bound.
    expect(withCpuBound(ideal, { scenario: 'io-wait', ops: 40_000, server }, 1)!.opsPerSec).toBe(10_000);
    expect(withCpuBound(null, { scenario: 'io-wait', ops: 1, server }, 1)).toBeNull();
  });
});

describe('resolveSweep', () => {
  const key = { model: 'epoll', family: 'selector' as const, protocol: 'echo' as const, scenario: 'steady' as const, concurrency: 16, repetition: 2 };
  it('sets the rate to the fraction of the same repetition\'s closed-loop throughput', () => {
    const closed = { ...emptyCell({ ...key, rate: null }, 'ok', ''), opsPerSec: 40_000 };
    const other = { ...emptyCell({ ...key, rate: null, repetition: 1 }, 'ok', ''), opsPerSec: 90_000 };
    expect(resolveSweep({ ...key, rate: null, sweepFraction: 0.25 }, [other, closed]).rate).toBe(10_000);
  });
  it('leaves the rate null when the closed-loop cell was not ok', () => {
    const closed = emptyCell({ ...key, rate: null }, 'limit', 'pool');
    expect(resolveSweep({ ...key, rate: null, sweepFraction: 0.5 }, [closed]).rate).toBeNull();
  });
});

describe('errorReason', () => {
  it('fails a cell whose errors pass 1% of its attempts, naming the kinds', () => {
    expect(errorReason(990, { total: 10, byCode: { HTTP_500: 10 } })).toBeNull();
    expect(errorReason(989, { total: 11, byCode: { HTTP_500: 6, mismatch: 5 } })).toBe('11 errors in 1000 attempts (1.1%, over the 1% allowed): HTTP_500 6, mismatch 5');
    expect(errorReason(0, { total: 0, byCode: {} })).toBeNull();
  });
});
