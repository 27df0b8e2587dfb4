// npm run load against real servers: open-loop correction, rate accuracy, thread merging, error
// accounting, the wrk path and bad input. Short runs on loopback; no figure is asserted as fast.
import { spawnSync, spawn } from 'node:child_process';
import net from 'node:net';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dist } from '../../harness/paths.js';
import type { ClientResult } from '../../schema/messages.js';
import { decodeHistogram } from '../../clients/latency.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { itNeeds } from '../helpers/tools.js';

/** Runs the load CLI to completion without blocking this process (the servers below live in it). */
function load(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [dist('clients/main.js'), ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

async function loadJson(args: string[]): Promise<ClientResult> {
  const out = await load([...args, '--json']);
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return JSON.parse(out.stdout) as ClientResult;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('npm run load, open loop', () => {
  it('counts a 1 s stall in every request that was due during it (corrected), not only in those waiting', async () => {
    // An echo server that stops reading every connection for 1 s, 2 s after the first byte arrives.
    const sockets = new Set<net.Socket>();
    let stallArmed = false;
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      s.on('data', (d) => {
        s.write(d);
        if (stallArmed) return;
        stallArmed = true;
        setTimeout(() => {
          for (const x of sockets) x.pause();
          setTimeout(() => sockets.forEach((x) => x.resume()), 1000);
        }, 2000);
      });
    });
    const port = await listen(server);
    try {
      const r = await loadJson(['--target', `127.0.0.1:${port}`, '--protocol', 'echo', '--connections', '4', '--threads', '1',
        '--rate', '300', '--warmup', '0.5s', '--duration', '5s', '--timeout', '4s']);
      expect(r.errors.total).toBe(0);
      expect(r.latencyUs.p99).toBeGreaterThanOrEqual(500_000);
      // Only the four requests in flight when the stall began waited after being sent.
      expect(r.latencyUncorrectedUs!.p99).toBeLessThan(100_000);
      expect(r.latencyUs.max).toBeGreaterThanOrEqual(900_000);
      // The requests due during the stall left late (their connections were waiting): the client's
      // send lag shows it, and the rest left on time.
      const lag = r.client.sendLagUs!;
      expect(lag.p99).toBeGreaterThanOrEqual(400_000);
      expect(lag.p50).toBeLessThan(100_000);
      expect(lag.max).toBeGreaterThanOrEqual(lag.p99);
      expect(decodeHistogram(r.histograms!.sendLag!).totalCount).toBeGreaterThanOrEqual(r.ops - 8);
    } finally {
      server.close();
      sockets.forEach((s) => s.destroy());
    }
  });

  describe('against the epoll model', () => {
    let echo: TestServer;
    let httpServer: TestServer;
    beforeAll(async () => {
      echo = await startServer('epoll', 'echo');
      httpServer = await startServer('epoll', 'http');
    });
    afterAll(async () => {
      await echo?.stop();
      await httpServer?.stop();
    });

    it('keeps a rate far below capacity within 5% and says no shortfall', async () => {
      const r = await loadJson(['--target', `127.0.0.1:${echo.port}`, '--protocol', 'echo', '--connections', '16', '--threads', '2', '--rate', '2000', '--warmup', '0.3s', '--duration', '2s']);
      expect(Math.abs(r.opsPerSec - 2000) / 2000).toBeLessThan(0.05);
      expect(r.rateShortfall).toBeNull();
      expect(r.rate).toBe(2000);
      // Both threads' send lags are merged: one value per request sent in the window (about the ops).
      const lag = decodeHistogram(r.histograms!.sendLag!);
      expect(Math.abs(lag.totalCount - r.ops)).toBeLessThanOrEqual(32);
      expect(r.client.sendLagUs!.max).toBeGreaterThanOrEqual(r.client.sendLagUs!.p99);
      expect(r.client.sendBatchUs).toBe(0); // a thread this idle sends each request as it comes due
    });

    it('widens the gap between batches in warm-up when the thread is busy', async () => {
      // Far more than 16 connections can be answered: the thread never idles, so warm-up steps up.
      const r = await loadJson(['--target', `127.0.0.1:${echo.port}`, '--protocol', 'echo', '--connections', '16', '--threads', '1', '--rate', '10000000', '--warmup', '0.5s', '--duration', '0.5s']);
      expect(r.client.sendBatchUs).toBeGreaterThan(0);
    });

    it('holds each batch of sends --send-batch µs after the last, and says so', async () => {
      // 40,000/s: one due every 25 µs, so a 200 µs gap holds about eight, the oldest 200 µs late.
      const r = await loadJson(['--target', `127.0.0.1:${echo.port}`, '--protocol', 'echo', '--connections', '16', '--threads', '1', '--rate', '40000', '--send-batch', '200', '--warmup', '0.3s', '--duration', '1s']);
      expect(r.client.sendBatchUs).toBe(200);
      expect(r.client.sendLagUs!.p50).toBeGreaterThanOrEqual(60);
      expect(r.client.sendLagUs!.max).toBeGreaterThanOrEqual(190);
    });

    it('reports a shortfall when the rate is beyond what one connection at a time can reach', async () => {
      // One connection, one request in flight, answered in tens of µs: 10 million a second cannot be reached.
      const r = await loadJson(['--target', `127.0.0.1:${echo.port}`, '--protocol', 'echo', '--connections', '1', '--rate', '10000000', '--warmup', '0s', '--duration', '0.5s']);
      expect(r.rateShortfall).not.toBeNull();
      expect(r.rateShortfall!.targetOpsPerSec).toBe(10_000_000);
      expect(r.rateShortfall!.achievedOpsPerSec).toBeCloseTo(r.opsPerSec, 6);
      expect(r.outstanding).toBeGreaterThan(0);
    });

    it('merges two load threads exactly: operations, errors and histogram counts of the parts', async () => {
      for (const [server, protocol] of [[echo, 'echo'], [httpServer, 'http']] as const) {
        const r = await loadJson(['--target', `127.0.0.1:${server.port}`, '--protocol', protocol, '--connections', '9', '--threads', '2', '--warmup', '0.2s', '--duration', '1s']);
        expect(r.client.threads).toBe(2);
        expect(r.client.sendLagUs).toBeNull(); // closed loop keeps no schedule to be late against
        expect(r.histograms!.sendLag).toBeUndefined();
        expect(r.perThread).toHaveLength(2);
        expect(r.perThread.every((t) => t.ops > 0)).toBe(true);
        expect(r.perThread.reduce((a, t) => a + t.ops, 0)).toBe(r.ops);
        expect(r.perThread.reduce((a, t) => a + t.errors, 0)).toBe(r.errors.total);
        const merged = decodeHistogram(r.histograms!.latency);
        expect(merged.totalCount).toBe(r.perThread.reduce((a, t) => a + t.latencyCount, 0));
        // Every correct operation is in the histogram, plus the requests still in flight at the close.
        expect(merged.totalCount).toBe(r.ops + r.outstanding);
        expect(r.connections).toBe(9);
        // The timeline splits the same operations over tenths of the 1 s window.
        expect(r.timeline!.intervalS).toBeCloseTo(0.1, 9);
        expect(r.timeline!.ops).toHaveLength(10);
        expect(r.timeline!.ops.reduce((a, b) => a + b, 0)).toBe(r.ops);
        expect(Math.max(...r.timeline!.p99Us)).toBeLessThanOrEqual(r.latencyUs.max);
      }
    });

    it('pipelines HTTP requests and answers every one correctly', async () => {
      const r = await loadJson(['--target', `127.0.0.1:${httpServer.port}`, '--connections', '4', '--pipeline', '8', '--threads', '1', '--warmup', '0.2s', '--duration', '0.5s']);
      expect(r.errors.total).toBe(0);
      expect(r.ops).toBeGreaterThan(0);
      expect(r.bytesPerSec).toBeGreaterThan(r.opsPerSec * 13);
    });

    it('drives HTTP with autocannon, recording the tool', async () => {
      const a = await loadJson(['--target', `127.0.0.1:${httpServer.port}`, '--http-client', 'autocannon', '--connections', '4', '--warmup', '0.2s', '--duration', '0.5s']);
      expect(a.tool).toBe('autocannon');
      expect(a.client.tool).toBe('autocannon');
      expect(a.ops).toBeGreaterThan(0);
    });

    itNeeds(['wrk'])('drives HTTP with wrk, recording the tool', async () => {
      const w = await loadJson(['--target', `127.0.0.1:${httpServer.port}`, '--http-client', 'wrk', '--connections', '4', '--warmup', '0s', '--duration', '1s']);
      expect(w.tool).toBe('wrk');
      expect(w.ops).toBeGreaterThan(0);
      expect(w.durationS).toBeGreaterThan(0.9);
      expect(w.client.cpuUsPerOp).toBeGreaterThan(0);
    });
  });
});

describe('npm run load, wrong answers', () => {
  let server: http.Server;
  let port: number;
  let n = 0;
  beforeAll(async () => {
    // Every third answer is a 500, every fifth a 200 with another body: neither is throughput.
    server = http.createServer((_req, res) => {
      n++;
      if (n > 1 && n % 3 === 0) res.writeHead(500).end('oops');
      else if (n > 1 && n % 5 === 0) res.writeHead(200).end('Hello, Wörld!');
      else res.writeHead(200).end('Hello, World!');
    });
    port = await listen(server);
  });
  afterAll(() => void server.close());

  it('counts only correct responses as operations and the rest as errors by kind', async () => {
    for (const client of ['native', 'autocannon']) {
      n = 0; // the probe's answer is the good one
      const r = await loadJson(['--target', `127.0.0.1:${port}`, '--http-client', client, '--connections', '4', '--threads', '1', '--warmup', '0.2s', '--duration', '0.8s']);
      const attempts = r.ops + r.errors.total;
      expect(r.errors.byCode.HTTP_500! / attempts, client).toBeGreaterThan(0.3);
      expect(r.errors.byCode.mismatch! / attempts, client).toBeGreaterThan(0.1);
      expect(r.ops / attempts, client).toBeLessThan(0.6);
      expect(decodeHistogram(r.histograms!.latency).totalCount, client).toBeLessThanOrEqual(r.ops + r.outstanding);
    }
  });
});

describe('npm run load, a server that does not keep connections', () => {
  it('reconnects after every Connection: close answer, counts it, and counts the answers as correct', async () => {
    const server = http.createServer((_req, res) => {
      res.shouldKeepAlive = false;
      res.writeHead(200, { 'Content-Length': 13 }).end('Hello, World!');
    });
    const port = await listen(server);
    try {
      const r = await loadJson(['--target', `127.0.0.1:${port}`, '--connections', '4', '--threads', '1', '--warmup', '0.2s', '--duration', '0.5s']);
      expect(r.errors.total).toBe(0);
      expect(r.ops).toBeGreaterThan(0);
      // Every answer closed its connection: one reconnect per answer in the window, give or take the edges.
      expect(r.reconnects).toBeGreaterThanOrEqual(r.ops - 4);
      expect(r.reconnects).toBeLessThanOrEqual(r.ops + r.errors.total + 4);
    } finally {
      server.close();
    }
  });
});

describe('npm run load, bad input and unreachable targets', () => {
  const cases: [string[], RegExp][] = [
    [['--protocol', 'http'], /^load: --target: required/],
    [['--target', '10.0.0.1:80'], /^load: --target: load goes to loopback only/],
    [['--target', '127.0.0.1'], /^load: --target: expected HOST:PORT/],
    [['--target', '127.0.0.1:1', '--rate', 'abc'], /^load: --rate: must be a positive number/],
    [['--target', '127.0.0.1:1', '--connections', '0'], /^load: --connections: must be a positive integer/],
    [['--target', '127.0.0.1:1', '--rate', '100', '--send-batch', 'fast'], /^load: --send-batch: must be auto or a gap in µs from 0 to 1000, got "fast"\n/],
    [['--target', '127.0.0.1:1', '--rate', '100', '--send-batch', '5000'], /^load: --send-batch: must be auto or a gap in µs from 0 to 1000, got "5000"\n/],
    [['--target', '127.0.0.1:1', '--duration', '-1'], /^load: --duration: must be a positive duration/],
    [['--target', '127.0.0.1:1', '--http-client', 'curl'], /^load: --http-client: unknown value "curl"; allowed: native, autocannon, wrk/],
    [['--target', '127.0.0.1:1', '--http-client', 'autocannon', '--rate', '100'], /^load: --rate: open loop needs --http-client native/],
    [['--target', '127.0.0.1:1', '--bogus'], /^load: --bogus: unknown flag/],
    [['--target', '127.0.0.1:1', '--agent', '2/2'], /^load: --agent: expected I\/N with 0 <= I < N, such as 0\/2, got "2\/2"/],
    [['--target', '127.0.0.1:1', '--agent', '0/2', '--http-client', 'autocannon'], /^load: --agent: needs --http-client native/],
    [['--target', '0.0.0.0:80', '--agent', '0/2'], /^load: --target: load goes to loopback only \(127\.0\.0\.0\/8 or localhost\), or as an agent to an IPv4 address, got "0\.0\.0\.0"/],
    [['--target', '127.0.0.1:1', '--duration', '1s'], /^load: 127\.0\.0\.1:1: connection refused/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')}: one line, exit 2`, () => {
      const out = spawnSync(process.execPath, [dist('clients/main.js'), ...args], { encoding: 'utf8', timeout: 20_000 });
      expect(out.stderr).toMatch(message);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(out.status).toBe(2);
    });
  }

  // The harness's way in: the target as the first stdin line, checked as --target is.
  const viaStdin: [string, RegExp][] = [
    ['', /^load: --target stdin: stdin closed before a \{"target":"HOST:PORT"\} line$/],
    ['127.0.0.1:1\n', /^load: --target stdin: expected a first line \{"target":"HOST:PORT"\}, got 127\.0\.0\.1:1$/],
    ['{"target":"10.0.0.1:80"}\n', /^load: --target: load goes to loopback only/],
    ['{"target":"127.0.0.1:1"}\n', /^load: 127\.0\.0\.1:1: connection refused/],
  ];
  for (const [input, message] of viaStdin) {
    it(`--target stdin, given ${JSON.stringify(input)}: one line, exit 2`, () => {
      const out = spawnSync(process.execPath, [dist('clients/main.js'), '--target', 'stdin', '--duration', '1s'], { encoding: 'utf8', timeout: 20_000, input });
      expect(out.stderr.trim()).toMatch(message);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(out.status).toBe(2);
    });
  }

  it('refuses more connections than the descriptor limit allows, with the numbers', () => {
    const out = spawnSync('sh', ['-c', `ulimit -n 256 && exec "${process.execPath}" "${dist('clients/main.js')}" --target 127.0.0.1:1 --connections 1000`], { encoding: 'utf8' });
    expect(out.stderr).toMatch(/^load: --connections: 1000 connections need about 1064 descriptors but the limit is 256/);
    expect(out.status).toBe(2);
  });

  it('bench refuses a plan whose connections the descriptor limit cannot hold, before starting anything', () => {
    const out = spawnSync('sh', ['-c', `ulimit -n 256 && exec "${process.execPath}" "${dist('scripts/bench.js')}" --models epoll --scenarios steady --concurrency 1,1000 --out "${tmpdir()}"`], { encoding: 'utf8' });
    expect(out.stderr).toBe('bench: --concurrency: 1000 connections need about 1064 descriptors but the limit is 256 (raise it with ulimit -n 1064)\n');
    expect(out.status).toBe(2);
  });

  it('answers a server whose path is not 2xx with the status and the flag to change', async () => {
    const server = http.createServer((_q, res) => res.writeHead(404).end('no'));
    const port = await listen(server);
    try {
      const out = await load(['--target', `127.0.0.1:${port}`, '--path', '/missing']);
      expect(out.stderr).toBe(`load: 127.0.0.1:${port}: GET /missing answered 404; the load needs a path that answers 2xx (--path)\n`);
      expect(out.status).toBe(2);
    } finally {
      server.close();
    }
  });
});
