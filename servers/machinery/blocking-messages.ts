// What the blocking models' main threads, threads and child processes tell each other, declared
// once: worker data, task shapes, the messages a child or thread posts to its parent, and the one
// argument a child entry takes.
import { PROTOCOLS, type Protocol } from '../../schema/catalog.js';
import type { LimitMessage } from '../../schema/messages.js';
import { parseWork, type Work } from '../../schema/work.js';

/** workerData of the acceptor thread (acceptor-thread.ts). */
export interface AcceptorData {
  /** The blocking listening socket; descriptors are process-wide, so the number is enough. */
  listenFd: number;
  /** A StopFlag's buffer: set it and the thread returns from its accept loop within IO_TIMEOUT_MS. */
  stop: SharedArrayBuffer;
}

/** Posted by the acceptor thread: `ready` once it blocks in accept(), then one `connection` per client. */
export type AcceptorMessage = { event: 'ready' } | { event: 'connection'; fd: number } | LimitMessage;

/** Printed as JSON lines on a prefork child's stdout (a pipe its parent reads). */
export type PreforkChildMessage = { event: 'ready'; pid: number } | LimitMessage | { event: 'fault'; reason: string };

/** workerData of a thread-per-connection thread (connection-thread.ts). */
export interface ConnectionThreadData {
  /** The accepted connection; the thread closes it. */
  fd: number;
  protocol: Protocol;
  stop: SharedArrayBuffer;
  work: Work;
}

/**
 * A thread-pool task (pool-task.ts). `warm` holds its thread at a barrier until `threads` warm tasks
 * run at once, which proves every pool thread is up; `request` runs one request's work (the query
 * it blocks in, the CPU it burns, or nothing) while the main thread holds its reply.
 */
export type PoolTask =
  | { kind: 'warm'; barrier: SharedArrayBuffer; threads: number }
  | { kind: 'request'; work: Work; stop: SharedArrayBuffer };

/** What each request does besides the protocol: a child entry's second argument (argv[3], JSON). */
export function workArgOf(argv: readonly string[] = process.argv): Work {
  return parseWork(argv[3]);
}

/** The protocol a child entry was started for: its first argument (argv[2]). */
export function protocolArg(argv: readonly string[] = process.argv): Protocol {
  const p = argv[2] as Protocol;
  if (!PROTOCOLS.includes(p)) throw new Error(`child: protocol argument must be one of ${PROTOCOLS.join(', ')}, got ${String(argv[2])}`);
  return p;
}
