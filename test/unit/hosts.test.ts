// Plans across machines, the pure parts: host flags and their messages, ssh's words, the clock's
// least-delay rule, how connections are divided, the build fingerprint, and the exact merge of
// agents' results (counts added, histograms added bucket by bucket, each agent's figures kept).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFingerprint } from '../../harness/build-id.js';
import { split } from '../../harness/host-cell.js';
import { bestOffset, shellQuote, sshArgs } from '../../harness/hosts.js';
import { parseHost, parseHostsFlags } from '../../harness/host-flags.js';
import { mergeAgents, type AgentPart } from '../../harness/merge.js';
import { parsePlan } from '../../harness/plan.js';
import { PlanError } from '../../schema/flags.js';
import { decodeHistogram, encodeHistogram, latencyHistogram, recordUs, summarizeUs } from '../../schema/histogram.js';
import type { ClientResult } from '../../schema/messages.js';

const out = mkdtempSync(join(tmpdir(), 'hosts-unit-'));
const message = (...args: string[]): string => {
  try {
    parsePlan([...args, '--out', out]);
  } catch (e) {
    expect(e).toBeInstanceOf(PlanError);
    return (e as Error).message;
  }
  throw new Error('expected a PlanError');
};

describe('host flags', () => {
  it('reads [user@]host[:port]', () => {
    expect(parseHost('--server-host', 'bench@10.0.0.2:2222', 'server')).toEqual({ spec: 'bench@10.0.0.2:2222', user: 'bench', host: '10.0.0.2', port: 2222, role: 'server' });
    expect(parseHost('--load-hosts', 'lab-load1', 'load')).toEqual({ spec: 'lab-load1', user: null, host: 'lab-load1', port: null, role: 'load' });
  });

  it('refuses what is not a host, a load host named twice, and load hosts without a server host, one line each', () => {
    expect(message('--server-host', 'a b')).toBe('--server-host: expected [user@]host[:port] such as bench@10.0.0.2:22, got "a b"');
    expect(message('--server-host', 'h:99999')).toBe('--server-host: expected [user@]host[:port] such as bench@10.0.0.2:22, got "h:99999"');
    expect(message('--server-host', 's', '--load-hosts', 'a,,b')).toBe('--load-hosts: expected a comma-separated list of [user@]host[:port], got "a,,b"');
    expect(message('--server-host', 's', '--load-hosts', 'a,a')).toBe('--load-hosts: "a" is named twice; one agent runs per host');
    expect(message('--load-hosts', 'a')).toBe("--load-hosts: needs --server-host (agents load the server host, never this machine's loopback)");
    expect(message('--ssh-config', '/x')).toBe('--ssh-config: only with --server-host (and --load-hosts)');
    expect(message('--server-host', 's', '--remote-dir', 'rel')).toBe('--remote-dir: must be an absolute path, got "rel"');
  });

  it('refuses what a plan across hosts cannot run yet, naming it', () => {
    expect(message('--server-host', 's', '--scenarios', 'steady,io-wait')).toBe('--server-host: runs the scenarios steady, churn, payload across machines; leave out io-wait (--scenarios): its database and service stand-in need a host of their own: give --db-host');
    expect(message('--server-host', 's', '--db-host', 'd', '--scenarios', 'io-wait,idle')).toBe('--server-host: runs the scenarios steady, churn, payload, io-wait across machines; leave out idle (--scenarios): its crowd of idle connections is opened from this machine, not by the agents');
    expect(message('--server-host', 's', '--db-host', 'd', '--scenarios', 'steady')).toBe('--db-host: only io-wait queries a database; add io-wait to --scenarios or leave out --db-host');
    expect(message('--server-host', 's', '--db-host', 'd', '--scenarios', 'io-wait', '--postgres-url', 'postgres://u@127.0.0.1/db')).toBe('--db-host: runs the embedded PostgreSQL there; --postgres-url names a database on this machine, leave one of them out');
    expect(message('--db-host', 'd', '--scenarios', 'io-wait')).toBe('--db-host: needs --server-host (the servers that query it run there; a server on this machine queries a database on this machine)');
    expect(message('--server-host', 's', '--db-host', 'a b', '--scenarios', 'io-wait')).toBe('--db-host: expected [user@]host[:port] such as bench@10.0.0.2:22, got "a b"');
    expect(message('--server-host', 's', '--http-client', 'autocannon', '--scenarios', 'steady')).toBe('--server-host: agents share a schedule with --http-client native only, got autocannon');
    expect(message('--server-host', 's', '--scenarios', 'steady', '--server-cmd', 'mine=node x.js {port}')).toBe('--server-host: runs the built-in models only; leave out mine (--models)');
  });

  it('changes nothing for a plan that names no host', () => {
    expect(parsePlan(['--out', out])!.hosts).toBeNull();
    expect(parseHostsFlags({})).toBeNull();
    const p = parsePlan(['--server-host', 'root@10.0.0.1', '--load-hosts', 'a,b:23', '--scenarios', 'steady', '--out', out])!;
    expect(p.hosts!.load.map((h) => h.spec)).toEqual(['a', 'b:23']);
    expect(p.hosts!.db).toBeNull();
    const d = parsePlan(['--server-host', 's', '--db-host', 'bench@db:2222', '--scenarios', 'io-wait', '--out', out])!;
    expect(d.hosts!.db).toEqual({ spec: 'bench@db:2222', user: 'bench', host: 'db', port: 2222, role: 'db' });
  });

  it('runs ssh without prompts or a pty, noticing a dead link, with the user\'s config unless told', () => {
    const h = parseHost('--load-hosts', 'me@h:23', 'load');
    expect(sshArgs(h, { sshConfig: null })).toEqual(['-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'ServerAliveInterval=2', '-o', 'ServerAliveCountMax=3', '-p', '23', 'me@h']);
    expect(sshArgs(h, { sshConfig: '/c' }).slice(-5)).toEqual(['-F', '/c', '-p', '23', 'me@h']);
    expect(shellQuote('/a/b.js')).toBe('/a/b.js');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });
});

describe('clock offset', () => {
  it('takes the round trip with the least delay; its half is the uncertainty', () => {
    // The host's clock is 500 ms ahead. The first round trip is slow (20 ms) and its answer was read late.
    const r = bestOffset([
      { sentMs: 1000, receivedMs: 1020, remoteMs: 1518 },
      { sentMs: 1100, receivedMs: 1102, remoteMs: 1601 },
      { sentMs: 1200, receivedMs: 1206, remoteMs: 1703 },
    ]);
    expect(r).toEqual({ offsetMs: 500, uncertaintyMs: 1, rttMs: 2 });
  });
});

describe('dividing the connections', () => {
  it('gives the first agents one more, and never an agent none', () => {
    expect(split(10, 3)).toEqual([4, 3, 3]);
    expect(split(4, 2)).toEqual([2, 2]);
    expect(split(1, 2)).toEqual([1]);
  });
});

describe('build fingerprint', () => {
  it('changes with any compiled byte and ignores the tests', () => {
    const root = mkdtempSync(join(tmpdir(), 'fp-'));
    mkdirSync(join(root, 'dist', 'test'), { recursive: true });
    writeFileSync(join(root, 'dist', 'a.js'), 'one');
    const first = buildFingerprint(root);
    writeFileSync(join(root, 'dist', 'test', 'x.js'), 'tests');
    expect(buildFingerprint(root)).toBe(first);
    writeFileSync(join(root, 'dist', 'a.js'), 'two');
    expect(buildFingerprint(root)).not.toBe(first);
    expect(buildFingerprint(join(root, 'nothing'))).toBeNull();
  });
});

/** The intervals an agent streams: each one's ops and encoded histogram. */
function streamed(perInterval: number[][]): AgentPart['intervals'] {
  return perInterval.map((vs) => {
    const h = latencyHistogram();
    for (const v of vs) recordUs(h, v);
    return { ops: vs.length, latency: encodeHistogram(h) };
  });
}

/** An agent's result whose latencies are `values` µs (every one an op), as the native client prints it. */
function agentResult(values: number[], errors: Record<string, number>, perInterval: number[][]): ClientResult {
  const h = latencyHistogram();
  for (const v of values) recordUs(h, v);
  const intervals = perInterval.map((vs) => {
    const ih = latencyHistogram();
    for (const v of vs) recordUs(ih, v);
    return ih;
  });
  const lat = summarizeUs(h);
  return {
    event: 'result', tool: 'native', ops: values.length, durationS: 1, opsPerSec: values.length, bytesPerSec: 100 * values.length,
    errors: { total: Object.values(errors).reduce((a, b) => a + b, 0), byCode: errors }, latencyUs: lat, latencyUncorrectedUs: lat,
    connectUs: null, connections: 2, rate: 500, rateShortfall: null, reconnects: 0, outstanding: 0, window: { startMs: 0, endMs: 1000 }, warmup: { s: 0.3, settled: true },
    client: { tool: 'native', threads: 1, cpuPercent: 50, cpuUsPerOp: null, threadCpuPercentMax: 50, saturated: false },
    histograms: { latency: encodeHistogram(h), latencyUncorrected: encodeHistogram(h) }, perThread: [{ ops: values.length, errors: 0, latencyCount: values.length }],
    timeline: { intervalS: 0.5, ops: perInterval.map((v) => v.length), p99Us: intervals.map((ih) => summarizeUs(ih).p99) },
  };
}

describe('merging agents', () => {
  // Agent 0 is fast, agent 1 has the slow tail: averaging their p99s would say 5,000 µs; the
  // merged histogram's p99 is the 99th percentile of all 200 values.
  const fast = Array.from({ length: 100 }, (_, i) => 100 + i);
  const slow = [...Array.from({ length: 95 }, (_, i) => 200 + i), 9000, 9100, 9200, 9300, 9400];
  const parts: AgentPart[] = [
    { host: 'a', agent: 0, result: agentResult(fast, { timeout: 1 }, [fast.slice(0, 50), fast.slice(50)]), clock: { offsetMs: 0.01, uncertaintyMs: 0.1 }, intervals: streamed([fast.slice(0, 50), fast.slice(50)]) },
    { host: 'b', agent: 1, result: agentResult(slow, { timeout: 2, reset: 1 }, [slow.slice(0, 50), slow.slice(50)]), clock: { offsetMs: -3.2, uncertaintyMs: 0.2 }, intervals: streamed([slow.slice(0, 50), slow.slice(50)]) },
  ];
  const { result, perHost } = mergeAgents(parts, { startMs: 5000, endMs: 6000 }, 1000);

  it('adds counts and errors, and adds histograms bucket by bucket', () => {
    expect(result.ops).toBe(200);
    expect(result.errors).toEqual({ total: 4, byCode: { timeout: 3, reset: 1 } });
    expect(decodeHistogram(result.histograms!.latency).totalCount).toBe(200);
    const all = latencyHistogram();
    for (const v of [...fast, ...slow]) recordUs(all, v);
    expect(result.latencyUs).toEqual(summarizeUs(all));
    // The 99th percentile of the 200 values is the 198th, 9,200 µs, reported as the top of its
    // bucket (3 significant digits: 9,200-9,207); a mean of the two agents' p99s would be far off.
    expect(result.latencyUs.p99).toBe(9207);
    expect((parts[0]!.result.latencyUs.p99 + parts[1]!.result.latencyUs.p99) / 2).toBeGreaterThan(4000);
    expect(result.latencyUs.max).toBe(9400);
  });

  it('merges each interval exactly and keeps the target, the window and each agent\'s own figures', () => {
    expect(result.timeline!.ops).toEqual([100, 100]);
    const second = latencyHistogram();
    for (const v of [...fast.slice(50), ...slow.slice(50)]) recordUs(second, v);
    expect(result.timeline!.p99Us[1]).toBe(summarizeUs(second).p99);
    expect(result.opsPerSec).toBe(200);
    expect(result.rateShortfall).toEqual({ targetOpsPerSec: 1000, achievedOpsPerSec: 200 });
    expect(result.window).toEqual({ startMs: 5000, endMs: 6000 });
    expect(result.client.cpuPercent).toBe(100);
    expect(result.client.sendBatchUs).toBeUndefined(); // neither agent said (closed loop, or a file from before)
    const gaps = mergeAgents([{ ...parts[0]!, result: { ...parts[0]!.result, client: { ...parts[0]!.result.client, sendBatchUs: 0 } } },
      { ...parts[1]!, result: { ...parts[1]!.result, client: { ...parts[1]!.result.client, sendBatchUs: 25 } } }], { startMs: 5000, endMs: 6000 }, 1000);
    expect(gaps.result.client.sendBatchUs).toBe(25); // the longest any agent kept
    expect(perHost.map((p) => [p.host, p.agent, p.agents, p.ops, p.latencyCount, p.clockOffsetMs])).toEqual([['a', 0, 2, 100, 100, 0.01], ['b', 1, 2, 100, 100, -3.2]]);
    expect(perHost[1]!.histogram).toBe(parts[1]!.result.histograms!.latency);
  });

  it('refuses a stream that lost an interval or disagrees with its agent\'s result, naming the agent', () => {
    const lost = [parts[0]!, { ...parts[1]!, intervals: parts[1]!.intervals.slice(0, 1) }];
    expect(() => mergeAgents(lost, { startMs: 5000, endMs: 6000 }, 1000)).toThrow('merge: the intervals the agent on b streamed (50,- ops) are not its result\'s (50,50)');
  });
});
