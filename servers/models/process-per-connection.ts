// One new child process per connection: the acceptor thread hands each accepted descriptor to the
// main thread, which spawns a Node child with it as fd 3 and closes its own copy; the child serves
// the connection with blocking recv/send (connection-child.ts) and exits when it closes. The price
// is a whole process (tens of MiB, tens of ms to start) per client, paid in connect-to-first-byte.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Protocol } from '../../schema/catalog.js';
import { workArg, type Work } from '../../schema/work.js';
import { close } from '../../sys/socket.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { acceptAndHandOff } from '../machinery/acceptor.js';
import { ChildSet, howExited } from '../machinery/child-set.js';
import { createLimitReporter, limitReason, type LimitReporter } from '../machinery/limit-report.js';

const CONNECTION_CHILD = fileURLToPath(new URL('../machinery/connection-child.js', import.meta.url));

export function start(o: ModelOptions): Promise<RunningServer> {
  const children = new ChildSet();
  const say = createLimitReporter();
  let stopping = false;
  // Children that close() itself kills (SIGKILL after the grace period) are no limit.
  const reportLimit: LimitReporter = (reason) => !stopping && say(reason);
  return acceptAndHandOff(o, {
    connection: (fd) => (stopping ? close(fd) : void spawnForConnection(fd, o.protocol, o.work, children, reportLimit)),
    limit: reportLimit,
    stop: () => void (stopping = true),
    drain: () => children.endAll(),
  });
}

/**
 * Starts a child serving `fd` and closes the parent's copy. A child that cannot be started (EAGAIN
 * from too many processes, ENOMEM, EMFILE) is a limit of the model: the connection is closed (the
 * client sees it end) and the reason is reported once. Node reports EAGAIN/EMFILE/ENFILE as an
 * 'error' event and other spawn failures (ENOMEM) by throwing; both end up in `reportLimit`. So does
 * a child that starts but then dies: see onChildExit.
 */
export function spawnForConnection(fd: number, protocol: Protocol, work: Work, children: ChildSet, reportLimit: LimitReporter): ChildProcess | null {
  const failed = (e: unknown): void => void reportLimit(limitReason('cannot start a child process', e));
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [CONNECTION_CHILD, protocol, workArg(work)], { stdio: ['ignore', 'inherit', 'inherit', fd] });
  } catch (e) {
    failed(e);
    return null;
  } finally {
    close(fd); // spawn() returns after fork+exec: the child holds its own copy now, or never will
  }
  children.add(child, failed);
  child.once('exit', (code, signal) => onChildExit(code, signal, reportLimit));
  return child;
}

/**
 * A child ends by finishing its connection (exit code 0) or by SIGTERM (a stop). Any other end means
 * it ran out of something, and its connection was cut: Node aborts when it cannot create its own
 * threads (RLIMIT_NPROC counts threads), the kernel's OOM killer sends SIGKILL.
 */
function onChildExit(code: number | null, signal: string | null, reportLimit: LimitReporter): void {
  if (code !== 0 && signal !== 'SIGTERM') reportLimit(`a connection child died (${howExited(code, signal)})`);
}
