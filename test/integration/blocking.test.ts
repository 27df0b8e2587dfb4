// The blocking models on processes and threads: their pools queue, their children and threads are
// really started per connection and really ended by close(), and a failed start is reported as data.
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { describeNeeds } from '../helpers/tools.js';
import { describe, expect, it } from 'vitest';
import { dist } from '../../harness/paths.js';
import { startGroup, stopGroup, waitForMessage } from '../../harness/processes.js';
import { groupMembers } from '../../harness/sampler.js';
import { ChildSet } from '../../servers/machinery/child-set.js';
import { NO_WORK } from '../../schema/work.js';
import { createLimitReporter, limitReason } from '../../servers/machinery/limit-report.js';
import { spawnForConnection } from '../../servers/models/process-per-connection.js';
import type { LimitMessage } from '../../schema/messages.js';
import { connect, readUntil, startServer, type TestServer } from '../helpers/server.js';

const sleep = (ms: number): Promise<'waiting'> => new Promise((r) => setTimeout(() => r('waiting'), ms));

/** main.ts forces an exit after 5 s; leaving well before that means close() itself finished. */
const CLOSE_WITHIN_MS = 4500;

function threadsOf(pid: number): number {
  const m = /^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no Threads: line for ${pid}`);
  return Number(m[1]);
}

/** Polls `read` until `ok` holds or `ms` pass; returns the last value read. */
async function eventually<T>(read: () => T, ok: (v: T) => boolean, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  let v = read();
  while (!ok(v) && Date.now() < until) {
    await sleep(50);
    v = read();
  }
  return v;
}

/** One echo round trip on `s`, which proves a child or thread is serving it. */
async function echoOnce(s: net.Socket, text: string): Promise<void> {
  const reply = readUntil(s, (got) => got.length >= text.length);
  s.write(text);
  expect((await reply).toString()).toBe(text);
}

/** `n` connections opened one after another (so they are accepted in this order), each echoing once. */
async function openServed(port: number, n: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    sockets.push(await connect(port));
    await echoOnce(sockets[i]!, `hello ${i}\n`);
  }
  return sockets;
}

/**
 * SIGTERM to the server process alone, not its group: only its own close() can end its children.
 * Call it after the server's main thread has handled something: main.ts installs its SIGTERM handler
 * only after printing the listening line, so a signal sent at once may meet the default action.
 */
async function terminateLeader(server: TestServer): Promise<{ code: number | string; ms: number }> {
  const t0 = Date.now();
  process.kill(server.child.pid, 'SIGTERM');
  const code = await server.child.exited;
  return { code, ms: Date.now() - t0 };
}

/**
 * A pool of `size` serves `size` connections; `extra` more wait in the accept backlog and get their
 * echo only after as many of the first ones close.
 */
async function expectQueuedBeyond(port: number, size: number, extra: number): Promise<void> {
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < size + extra; i++) sockets.push(await connect(port));
    const payloads = sockets.map((_, i) => Buffer.from(`connection ${i}\n`));
    const replies = sockets.map((s, i) => readUntil(s, (got) => got.length >= payloads[i]!.length));
    sockets.forEach((s, i) => s.write(payloads[i]!));
    const served = await Promise.all(replies.slice(0, size));
    served.forEach((got, i) => expect(got.equals(payloads[i]!)).toBe(true));
    const queued = replies.slice(size);
    const early = await Promise.race([Promise.any(queued).then(() => 'answered'), sleep(500)]);
    expect(early).toBe('waiting');
    for (const s of sockets.slice(0, extra)) s.destroy();
    const late = await Promise.all(queued);
    late.forEach((got, i) => expect(got.equals(payloads[size + i]!)).toBe(true));
  } finally {
    for (const s of sockets) s.destroy();
  }
}

describe('thread-pool', () => {
  it('with --workers 2 answers 8 connections at once: the queue holds requests, and a connection holds no thread', async () => {
    const server = await startServer('thread-pool', 'echo', ['--workers', '2']);
    const sockets: net.Socket[] = [];
    try {
      const threads = threadsOf(server.child.pid);
      for (let i = 0; i < 8; i++) sockets.push(await connect(server.port));
      await Promise.all(sockets.map((s, i) => echoOnce(s, `connection ${i}\n`)));
      await Promise.all(sockets.map((s, i) => echoOnce(s, `again ${i}\n`)));
      expect(threadsOf(server.child.pid)).toBe(threads);
      expect(server.limits).toEqual([]);
      const { code, ms } = await terminateLeader(server);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(CLOSE_WITHIN_MS);
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  });
});

describe('prefork', () => {
  it('with --workers 3 runs 4 processes, queues a fourth connection, and close() ends every child', async () => {
    const server = await startServer('prefork', 'echo', ['--workers', '3']);
    try {
      expect(groupMembers(server.child.pid)).toHaveLength(4);
      await expectQueuedBeyond(server.port, 3, 1);
      const { code, ms } = await terminateLeader(server);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(CLOSE_WITHIN_MS);
      expect(groupMembers(server.child.pid)).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('process-per-connection', () => {
  it('starts a process per connection, ends each with its connection, and close() ends the rest', async () => {
    const server = await startServer('process-per-connection', 'echo');
    const sockets: net.Socket[] = [];
    try {
      sockets.push(...(await openServed(server.port, 5)));
      const before = groupMembers(server.child.pid).length;
      expect(before).toBeGreaterThanOrEqual(6);
      sockets[0]!.destroy();
      sockets[1]!.destroy();
      const after = await eventually(() => groupMembers(server.child.pid).length, (n) => n <= before - 2);
      expect(after).toBeLessThanOrEqual(before - 2);
      const { code, ms } = await terminateLeader(server);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(CLOSE_WITHIN_MS);
      expect(groupMembers(server.child.pid)).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  });

  it('turns a child that cannot be started into a limit and closes that connection', () => {
    const sent: LimitMessage[] = [];
    const children = new ChildSet();
    // A descriptor that is not open: libuv cannot give it to the child, and spawn() throws EBADF,
    // the same path as ENOMEM. (EAGAIN from RLIMIT_NPROC cannot be provoked here: root ignores it.)
    const child = spawnForConnection(19_999, 'echo', NO_WORK, children, createLimitReporter((m) => sent.push(m)));
    expect(child).toBeNull();
    expect(children.size).toBe(0);
    expect(sent).toEqual([{ event: 'limit', reason: 'cannot start a child process (EBADF)' }]);
  });

  it('turns a spawn error event (EAGAIN, EMFILE) into a limit and forgets that child', async () => {
    const reasons: string[] = [];
    const children = new ChildSet();
    const child = Object.assign(new EventEmitter(), { pid: undefined }) as unknown as ChildProcess;
    children.add(child, (e) => reasons.push(limitReason('cannot start a child process', e)));
    expect(children.size).toBe(1);
    child.emit('error', Object.assign(new Error('spawn /usr/bin/node EAGAIN'), { code: 'EAGAIN' }));
    await sleep(0);
    expect(reasons).toEqual(['cannot start a child process (EAGAIN)']);
    expect(children.size).toBe(0);
  });
});

describe('thread-per-connection', () => {
  it('starts a thread per connection, ends each with its connection, and the process is gone after SIGTERM', async () => {
    const server = await startServer('thread-per-connection', 'echo');
    const sockets: net.Socket[] = [];
    try {
      const base = threadsOf(server.child.pid);
      sockets.push(...(await openServed(server.port, 5)));
      const peak = threadsOf(server.child.pid);
      expect(peak).toBeGreaterThanOrEqual(base + 5);
      sockets[0]!.destroy();
      sockets[1]!.destroy();
      const after = await eventually(() => threadsOf(server.child.pid), (n) => n <= peak - 2);
      expect(after).toBeLessThanOrEqual(peak - 2);
      const { code, ms } = await terminateLeader(server);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(CLOSE_WITHIN_MS);
      expect(groupMembers(server.child.pid)).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  });
});

describe('cluster', () => {
  it('with --workers 2 runs 3 processes and close() ends both workers', async () => {
    const server = await startServer('cluster', 'echo', ['--workers', '2']);
    try {
      expect(groupMembers(server.child.pid)).toHaveLength(3);
      // The primary's event loop hands this connection to a worker, so it has also passed the point
      // where main.ts installs its SIGTERM handler (it prints the listening line just before that).
      const [socket] = await openServed(server.port, 1);
      socket!.destroy();
      const { code, ms } = await terminateLeader(server);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(CLOSE_WITHIN_MS);
      expect(groupMembers(server.child.pid)).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

/**
 * `model` as user nobody, with RLIMIT_NPROC (which counts threads) at `nproc` when given. Resolves
 * with the server's thread count once it listens, the limit lines it printed and a way to end it.
 */
async function startAsNobody(model: string, nproc: number | null) {
  const server = [process.execPath, dist('servers/main.js'), '--model', model, '--protocol', 'echo', '--port', '0'];
  const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...server];
  const argv = nproc === null ? asNobody : ['prlimit', `--nproc=${nproc}:${nproc}`, ...asNobody];
  const child = startGroup(argv[0]!, argv.slice(1), { cpus: null });
  const limits: string[] = [];
  child.onLine((m) => void (m?.event === 'limit' && limits.push(String(m.reason))));
  try {
    const port = await waitForMessage(child, (m) => (m.event === 'listening' ? Number(m.port) : undefined), 15_000, `${model} as nobody`);
    return { child, port, limits, threads: threadsOf(child.pid), stop: () => stopGroup(child) };
  } catch (e) {
    await stopGroup(child);
    throw e;
  }
}

/** Resolves 'closed' when the server closes the connection without a byte, 'answered' otherwise. */
async function sendAndWatch(port: number): Promise<'closed' | 'answered'> {
  const s = await connect(port);
  const got = new Promise<'closed' | 'answered'>((resolve) => {
    s.once('data', () => resolve('answered'));
    s.once('close', () => resolve('closed'));
  });
  s.on('error', () => {});
  s.write('anyone there?\n');
  const how = await got;
  s.destroy();
  return how;
}

// Root with setpriv and prlimit can run a server as nobody under RLIMIT_NPROC (root ignores that limit).
describeNeeds(['root'])('out of processes (RLIMIT_NPROC as nobody; needs root, setpriv, prlimit)', () => {
  for (const [model, reason] of [
    // Out of processes, fork() itself fails: a child that started and died is another failure (its
    // own threads, the OOM killer), and taking it here would pass a model that never saw the EAGAIN.
    ['process-per-connection', /^cannot start a child process \(EAGAIN\)$/],
    ['thread-per-connection', /^cannot start a worker thread \(ERR_WORKER_INIT_FAILED\)$/],
  ] as const) {
    it(`${model} closes the connection it cannot serve and prints a limit line`, async () => {
      // The limit is the server's own thread count when idle, so it runs, but cannot start one more.
      const probe = await startAsNobody(model, null);
      await probe.stop();
      const server = await startAsNobody(model, probe.threads);
      try {
        expect(await sendAndWatch(server.port)).toBe('closed');
        expect(await sendAndWatch(server.port)).toBe('closed'); // still up: failing is data
        expect(server.limits).toHaveLength(1); // once per reason
        expect(server.limits[0]).toMatch(reason);
      } finally {
        await server.stop();
      }
    });
  }
});

describe('limit reporting', () => {
  it('sends one limit message per reason, however often the reason recurs', () => {
    const sent: LimitMessage[] = [];
    const report = createLimitReporter((m) => sent.push(m));
    expect([report('accept: EMFILE'), report('accept: EMFILE'), report('cannot start a worker thread (ERR_WORKER_INIT_FAILED)')]).toEqual([
      true,
      false,
      true,
    ]);
    expect(sent).toEqual([
      { event: 'limit', reason: 'accept: EMFILE' },
      { event: 'limit', reason: 'cannot start a worker thread (ERR_WORKER_INIT_FAILED)' },
    ]);
  });

  it('names a failure by its code, or by its message when it has none', () => {
    expect(limitReason('cannot start a child process', Object.assign(new Error('spawn ENOMEM'), { code: 'ENOMEM' }))).toBe(
      'cannot start a child process (ENOMEM)',
    );
    expect(limitReason('a pool thread failed', new Error('worker exited with code: 1'))).toBe('a pool thread failed (worker exited with code: 1)');
  });
});
