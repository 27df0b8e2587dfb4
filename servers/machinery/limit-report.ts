// Reaching a limit that is part of a model's nature (no process, thread or descriptor to be had) is
// data, not a crash: the connection is closed and one `limit` line per reason goes to stdout, which
// the harness turns into a cell with status `limit`. A fault (something outside the model went
// wrong) goes out the same way and fails the cell.
import { writeSync } from 'node:fs';
import type { FaultMessage, LimitMessage } from '../../schema/messages.js';

/** Reports `reason`; returns true when it printed a line, false when it had said so before. */
export type LimitReporter = (reason: string) => boolean;

/** The default `send`: one JSON line on fd 1, written synchronously so it is out even if a thread then blocks. */
export function printLimit(message: LimitMessage): void {
  writeSync(1, JSON.stringify(message) + '\n');
}

/** Sends each reason once (to stdout unless `send` says otherwise, e.g. to a parent thread). */
export function createLimitReporter(send: (message: LimitMessage) => void = printLimit): LimitReporter {
  const said = new Set<string>();
  return (reason) => {
    if (said.has(reason)) return false;
    said.add(reason);
    send({ event: 'limit', reason });
    return true;
  };
}

/**
 * `cannot start a child process (EAGAIN)`: what went wrong and the error's code (EAGAIN, ENOMEM,
 * EMFILE, ERR_WORKER_INIT_FAILED ...), so one cause is one reason however often it happens.
 */
export function limitReason(what: string, err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const why = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
  return `${what} (${why})`;
}

/**
 * Something went wrong outside the model (a wrong backend answer, a backend gone): one JSON line per
 * reason on fd 1, which the harness turns into a failed cell. Written synchronously (and from any
 * thread: fd 1 is the process's), so it is out before the connection is closed.
 */
const reported = new Set<string>();
export function reportFault(reason: string): void {
  if (reported.has(reason)) return;
  reported.add(reason);
  const line: FaultMessage = { event: 'fault', reason };
  writeSync(1, JSON.stringify(line) + '\n');
}
