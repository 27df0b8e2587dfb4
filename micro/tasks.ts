// The primitives the models are built from, each as one tinybench task: what a step of async code,
// a thread, a process, a pool round trip, a syscall through koffi, a readiness call and a query to
// PostgreSQL (micro/postgres.ts) cost here.
// Each task has a set-up outside the timed function (beforeAll) and ends what it started (afterAll).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { HTTPParser } from 'http-parser-js';
import * as L from '../sys/libc.js';
import { Epoll, EPOLLIN, FdSet, PollSet, POLLIN, select } from '../sys/readiness.js';
import { close } from '../sys/socket.js';
import { HttpSession } from '../protocols/http.js';
import { embeddedPostgresInstalled, postgresTasks } from './postgres.js';

export interface MicroTask {
  name: string;
  /** One line: what one iteration does, and which model pays it. */
  what: string;
  fn: () => unknown;
  /** Said, not detected: tinybench would otherwise call fn once to find out, before beforeAll. */
  async: boolean;
  beforeAll?: () => void | Promise<void>;
  /** tinybench says which phase ended, so a set-up shared by several tasks can outlive the warm-up. */
  afterAll?: (mode?: 'warmup' | 'run') => void | Promise<void>;
}

/** Compiled files next to this one (tasks run from dist/). */
const here = (file: string): URL => new URL(file, import.meta.url);
const IDLE_DESCRIPTORS = 1000;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: concurrency-bench\r\nAccept: */*\r\n\r\n', 'latin1');

export function microTasks(): MicroTask[] {
  // Last, the postgres tasks, so the database they share is stopped once, after the last of them has run.
  return [...runtimeTasks(), ...selectorTasks(), ...parserTasks(), ...postgresOrNote()];
}

/** Node's own machinery: promises, the event loop, message ports, worker threads, processes. */
function runtimeTasks(): MicroTask[] {
  let pool: Piscina | null = null;
  let flag = new Int32Array(new SharedArrayBuffer(4));
  let partner: Worker | null = null;
  // Hooks run once per phase (warm-up, then the run): each phase gets its own channel, pool, threads.
  let channel = new MessageChannel();
  return [
    { name: 'await', async: true, what: 'await of a resolved promise: one step of async code (async, node-http)', fn: async () => { await Promise.resolve(); } },
    { name: 'queueMicrotask', async: true, what: 'a microtask queued and run', fn: () => new Promise<void>((r) => queueMicrotask(r)) },
    { name: 'setImmediate', async: true, what: 'one turn of the event loop (libuv check phase)', fn: () => new Promise<void>((r) => setImmediate(r)) },
    {
      name: 'MessagePort round trip',
      async: true,
      what: 'a message to a port and back, structured clone included (how worker threads talk)',
      fn: () => new Promise<void>((r) => {
        channel.port1.once('message', () => r());
        channel.port1.postMessage(1);
      }),
      beforeAll: () => {
        channel = new MessageChannel();
        channel.port2.on('message', (m) => channel.port2.postMessage(m));
      },
      afterAll: () => {
        channel.port1.close();
        channel.port2.close();
      },
    },
    {
      name: 'piscina round trip',
      async: true,
      what: 'a task to a piscina pool of 1 thread and its result back (thread-pool pays it per request, thread-offload per request with CPU work)',
      fn: () => pool!.run(1),
      beforeAll: () => { pool = new Piscina({ filename: here('piscina-task.js').href, minThreads: 1, maxThreads: 1 }); },
      afterAll: async () => { await pool?.destroy(); },
    },
    {
      name: 'thread switch (Atomics)',
      async: false,
      what: 'two threads ping-ponging through Atomics.wait/notify: one round trip is two context switches',
      fn: () => {
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
        Atomics.wait(flag, 0, 1);
        Atomics.store(flag, 0, 0);
        Atomics.notify(flag, 0);
      },
      beforeAll: () => {
        flag = new Int32Array(new SharedArrayBuffer(4));
        partner = new Worker(here('pingpong-worker.js'), { workerData: flag.buffer });
      },
      afterAll: async () => {
        Atomics.store(flag, 0, 3);
        Atomics.notify(flag, 0);
        await partner?.terminate();
      },
    },
    {
      name: 'worker thread start+exit',
      async: true,
      what: 'a worker thread (a V8 isolate) started and ended (thread-per-connection pays it per connection)',
      fn: async () => { await once(new Worker('', { eval: true }), 'exit'); },
    },
    {
      name: 'node process spawn+exit',
      async: true,
      what: 'a Node process started and ended (process-per-connection pays it per connection)',
      fn: async () => { await once(spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }), 'exit'); },
    },
    {
      name: 'process spawn+exit (/bin/true)',
      async: true,
      what: 'the operating system part of a process start: fork/exec of a program that does nothing',
      fn: async () => { await once(spawn('/bin/true', [], { stdio: 'ignore' }), 'exit'); },
    },
  ];
}

/** One libc call, and waiting on {IDLE_DESCRIPTORS} idle descriptors with each selector. */
function selectorTasks(): MicroTask[] {
  let fds: number[] = [];
  let ep: Epoll | null = null;
  let pollSet: PollSet | null = null;
  const readSet = new FdSet();
  const allSet = new FdSet();
  let maxFd = 0;
  const openIdle = (): void => {
    fds = Array.from({ length: IDLE_DESCRIPTORS }, () => L.c.eventfd(0, L.EFD_NONBLOCK | L.EFD_CLOEXEC) as number);
    if (fds.some((fd) => fd < 0)) throw new Error(`eventfd failed: errno ${L.errno()} (ulimit -n too low for ${IDLE_DESCRIPTORS} descriptors?)`);
    maxFd = Math.max(...fds);
  };
  const closeIdle = (): void => {
    for (const fd of fds) close(fd);
    fds = [];
  };


  return [
    { name: 'koffi getpid', async: false, what: 'one libc call through koffi: the toll on every syscall of the selector models', fn: () => L.c.getpid() },
    {
      name: `epoll_wait, ${IDLE_DESCRIPTORS} idle`,
      async: false,
      what: `epoll_wait (timeout 0) over ${IDLE_DESCRIPTORS} registered descriptors, none ready: the kernel keeps the list`,
      fn: () => ep!.wait(0),
      beforeAll: () => {
        openIdle();
        ep = new Epoll(64);
        for (const fd of fds) ep.add(fd, EPOLLIN);
      },
      afterAll: () => {
        ep?.close();
        closeIdle();
      },
    },
    {
      name: `poll, ${IDLE_DESCRIPTORS} idle`,
      async: false,
      what: `poll (timeout 0) over ${IDLE_DESCRIPTORS} descriptors, none ready: the kernel scans them all`,
      fn: () => pollSet!.wait(0),
      beforeAll: () => {
        openIdle();
        pollSet = new PollSet();
        for (const fd of fds) pollSet.push(fd, POLLIN);
      },
      afterAll: closeIdle,
    },
    {
      name: `select, ${IDLE_DESCRIPTORS} idle`,
      async: false,
      what: `select (timeout 0) over ${IDLE_DESCRIPTORS} descriptors, none ready: the set rebuilt and scanned`,
      fn: () => {
        readSet.copyFrom(allSet);
        return select(maxFd + 1, readSet, null, 0);
      },
      beforeAll: () => {
        openIdle();
        allSet.zero();
        for (const fd of fds) allSet.set(fd);
      },
      afterAll: closeIdle,
    },
  ];
}

/** Our HTTP parser against http-parser-js on the same request. */
function parserTasks(): MicroTask[] {
  const session = new HttpSession(() => 0);
  const jsParser = new HTTPParser(HTTPParser.REQUEST);
  let parsed = 0;
  jsParser[HTTPParser.kOnHeadersComplete] = () => void parsed++;
  return [
    { name: 'our HTTP parser', async: false, what: 'HttpSession.feed on a typical 90-byte GET, reply included', fn: () => session.feed(REQUEST) },
    {
      name: 'http-parser-js',
      async: false,
      what: 'the same request through http-parser-js (headers only, no reply): the reference for ours',
      fn: () => {
        jsParser.execute(REQUEST);
      },
    },
  ];
}

function postgresOrNote(): MicroTask[] {
  if (embeddedPostgresInstalled()) return postgresTasks();
  process.stderr.write('micro: no embedded PostgreSQL (npm ci installs it): the postgres tasks are left out\n');
  return [];
}
