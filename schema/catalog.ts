// The list of models: plain data, so the harness can validate a plan without loading any model.
export type Protocol = 'echo' | 'http';
export const PROTOCOLS: readonly Protocol[] = ['echo', 'http'];

/**
 * `steady`: every connection keeps one request in flight. `idle`: the same beside a crowd of silent
 * connections (C10K). `io-wait`: each request waits on a backend query. `cpu`: each request burns a
 * fixed amount of CPU. `churn`: a new connection per request. `payload`: steady at several sizes.
 */
export type Scenario = 'steady' | 'idle' | 'io-wait' | 'cpu' | 'churn' | 'payload';
export const SCENARIOS: readonly Scenario[] = ['steady', 'idle', 'io-wait', 'cpu', 'churn', 'payload'];

/** `external`: a program measured from outside (harness/external.ts), not built from servers/. */
export type Family = 'per-process' | 'worker-thread' | 'nonblocking-poll' | 'selector' | 'completion' | 'async' | 'native' | 'external';

export interface ModelInfo {
  /** The name used in flags, results and charts; also the file servers/models/<name>.ts. */
  name: string;
  family: Family;
  /** One line: what the model is and what it demonstrates. */
  description: string;
  protocols: readonly Protocol[];
  /** Limits that are part of the model's nature, shown in the README and --help. */
  limits?: string;
  /**
   * Highest concurrency the model can serve by design, if any; the harness records a cell above it
   * as `limit` with `limits` as the reason instead of running it.
   */
  maxConcurrency?: number;
  /**
   * A fixed pool of --workers threads or processes, so at most --workers requests are in their
   * work (a backend wait, the CPU) at once: io-wait's ideal is workers / delay above that. A cell
   * with more connections than workers is run and measured like any other.
   */
  poolLimited?: boolean;
  /**
   * With poolLimited: each worker holds its connection until the client closes it, so connections
   * beyond --workers wait in the accept backlog, unanswered. Such a cell is measured, and recorded
   * as `limit` with how many connections were not answered when the window opened.
   */
  holdsConnections?: boolean;
  /**
   * Starts a process or thread for each new connection, so how many connections it can take on in
   * a bounded time is part of its nature: a cell whose connections were not all answered within
   * the client's connect cap is recorded as `limit`.
   */
  workerPerConnection?: boolean;
  /** A tool the model needs at bench time; without it the model is left out of the plan with a note. */
  requires?: 'cc';
  /**
   * The scenarios the model serves, when not all: a cell of another scenario is recorded as `limit`
   * with `scenarioLimit` as the reason.
   */
  scenarios?: readonly Scenario[];
  scenarioLimit?: string;
  /**
   * How many requests can burn CPU at the same moment, which sets the cpu scenario's ideal: `one`
   * (a single thread does everything), `workers` (a pool of --workers threads or processes),
   * `connections` (a thread or process per connection). The server's CPUs cap all three.
   */
  cpuLanes?: 'one' | 'workers' | 'connections';
}

const C_SCENARIOS: readonly Scenario[] = ['steady', 'idle', 'churn', 'payload'];
const C_SCENARIO_LIMIT = 'the C ceilings serve steady, idle, churn and payload only: they exist to show what the bytes cost below Node, and carry no backend client or CPU work';

export const MODELS: readonly ModelInfo[] = [
  {
    name: 'async',
    cpuLanes: 'one',
    family: 'async',
    description: "node:net on Node's own event loop (libuv, epoll underneath) with the shared protocol code",
    protocols: ['echo', 'http'],
  },
  {
    name: 'node-http',
    cpuLanes: 'one',
    family: 'async',
    description: 'node:http, the idiomatic Node HTTP server, as a reference row for the shared HTTP code',
    protocols: ['http'],
  },
  {
    name: 'thread-offload',
    cpuLanes: 'workers',
    family: 'async',
    description: "Node's event loop handing each request's CPU work to a piscina pool of N threads and awaiting it (the run_in_executor pattern); otherwise the async model",
    protocols: ['echo', 'http'],
    limits: 'a message to a pool thread and back per request; only the cpu scenario offloads anything',
  },
  {
    name: 'generators',
    cpuLanes: 'one',
    family: 'async',
    description: 'coroutines built by hand: a function* per connection yields readable(fd)/writable(fd)/sleep(ms) and a scheduler over epoll resumes it (how asyncio was built on selectors); no Promises, no async/await',
    protocols: ['echo', 'http'],
  },
  {
    name: 'busy-poll',
    cpuLanes: 'one',
    family: 'nonblocking-poll',
    description: 'one thread spinning over non-blocking sockets: accept, then recv on every connection, moving on at EAGAIN',
    protocols: ['echo', 'http'],
    limits: 'burns a full core even with no traffic; every connection is tried on every pass',
  },
  {
    name: 'select',
    cpuLanes: 'one',
    family: 'selector',
    description: 'one thread waiting in select(2) on fd_set bitmaps rebuilt every round, dispatching ready sockets',
    protocols: ['echo', 'http'],
    limits: 'cannot watch descriptors at or above FD_SETSIZE (1024): such connections are closed at once and the cell is recorded as limit',
  },
  {
    name: 'poll',
    cpuLanes: 'one',
    family: 'selector',
    description: 'one thread waiting in poll(2) on an array of every connection; the kernel scans the whole array on every call',
    protocols: ['echo', 'http'],
  },
  {
    name: 'epoll',
    cpuLanes: 'one',
    family: 'selector',
    description: 'one thread waiting in epoll_wait(2); the kernel keeps the interest list and returns only ready sockets',
    protocols: ['echo', 'http'],
  },
  {
    name: 'io-uring',
    cpuLanes: 'one',
    family: 'completion',
    description: 'one thread on an io_uring through raw syscalls from koffi: multishot accept, multishot recv into a provided-buffer ring, sends submitted and completed; the kernel does the copy and reports completion (the fifth I/O model)',
    protocols: ['echo', 'http'],
    limits: 'needs io_uring (Linux 5.19+ for multishot recv and buffer rings); refused (ENOSYS, EPERM, io_uring_disabled) it records limit; a shared pool of 1,024 × 16 KiB receive buffers (16 MiB)',
  },
  {
    name: 'native-epoll',
    scenarios: C_SCENARIOS,
    scenarioLimit: C_SCENARIO_LIMIT,
    family: 'native',
    description: 'the same single-threaded, level-triggered epoll loop in C (native/epoll-server.c, compiled with cc -O2 on first start), same bytes on the wire: the ceiling the TypeScript models are measured against',
    protocols: ['echo', 'http'],
    requires: 'cc',
    limits: 'needs a C compiler (cc); left out of the plan with a note when there is none',
  },
  {
    name: 'native-io-uring',
    scenarios: C_SCENARIOS,
    scenarioLimit: C_SCENARIO_LIMIT,
    family: 'native',
    description: 'the io-uring model in C (native/io-uring-server.c, raw syscalls, no liburing): multishot accept, multishot recv into a provided-buffer ring, the same bytes on the wire: the ceiling of io-uring',
    protocols: ['echo', 'http'],
    requires: 'cc',
    limits: 'needs cc and io_uring (Linux 5.19+); refused, it records limit',
  },
  {
    name: 'native-threads',
    scenarios: C_SCENARIOS,
    scenarioLimit: C_SCENARIO_LIMIT,
    family: 'native',
    description: 'a POSIX thread per connection in C (native/threads-server.c, default stack size), blocking recv/send: what a thread per connection costs the operating system, below Node',
    protocols: ['echo', 'http'],
    requires: 'cc',
    workerPerConnection: true,
    limits: 'needs cc; a thread per connection (its stack and a context switch per wake-up)',
  },
  {
    name: 'native-fork',
    scenarios: C_SCENARIOS,
    scenarioLimit: C_SCENARIO_LIMIT,
    family: 'native',
    description: 'fork() per connection in C (native/fork-server.c), the child serving it with blocking recv/send: what a process per connection costs the operating system, below Node',
    protocols: ['echo', 'http'],
    requires: 'cc',
    workerPerConnection: true,
    limits: 'needs cc; a process per connection (its page tables and a context switch per wake-up)',
  },
  {
    name: 'process-per-connection',
    cpuLanes: 'connections',
    family: 'per-process',
    description: 'an acceptor thread blocks in accept() and hands each connection to a new Node child process (as its fd 3) that serves it with blocking recv/send and exits when it closes',
    protocols: ['echo', 'http'],
    workerPerConnection: true,
    limits: 'a Node process per connection (about 40 MiB and 75 ms to start, paid in connect-to-first-byte); a child that cannot be started closes its connection and is reported as limit; cells stop at the memory budget',
  },
  {
    name: 'prefork',
    cpuLanes: 'workers',
    family: 'per-process',
    description: 'N processes started up front, each blocking in accept() on the shared listening socket, then serving that connection with blocking I/O',
    protocols: ['echo', 'http'],
    poolLimited: true,
    holdsConnections: true,
    limits: 'serves at most N (--workers) connections at once; the rest wait in the accept backlog, unanswered until a child is free (with persistent connections, never): such a cell is measured and recorded as limit, with the unanswered connections counted',
  },
  {
    name: 'cluster',
    cpuLanes: 'workers',
    family: 'per-process',
    description: 'node:cluster with N worker processes, each running the async model: the multi-process setup Node users deploy; the primary accepts and hands connections round-robin to the workers over IPC',
    protocols: ['echo', 'http'],
  },
  {
    name: 'thread-per-connection',
    cpuLanes: 'connections',
    family: 'worker-thread',
    description: 'an acceptor thread blocks in accept() and starts a new worker thread per connection, serving it with blocking recv/send, ending when it closes',
    protocols: ['echo', 'http'],
    workerPerConnection: true,
    limits: 'a worker thread per connection (about 8 MiB and 27 ms to start, paid in connect-to-first-byte); each idle thread wakes every 200 ms to look for shutdown; a thread that cannot be started closes its connection and is reported as limit',
  },
  {
    name: 'thread-pool',
    cpuLanes: 'workers',
    family: 'worker-thread',
    description: 'the main thread accepts and reads every connection on the event loop and queues each request to a piscina pool of N threads, each blocking in the request\'s work (the backend query, the CPU) while the main thread holds its reply: a ThreadPoolExecutor behind a listener',
    protocols: ['echo', 'http'],
    poolLimited: true,
    limits: 'at most N (--workers) requests in their work at once; the rest wait in the queue, and that wait counts as latency; every request pays a round trip to a pool thread, work or none',
  },
];

export function findModel(name: string): ModelInfo | undefined {
  return MODELS.find((m) => m.name === name);
}

export const MODEL_NAMES: readonly string[] = MODELS.map((m) => m.name);
