// Starting and ending child processes. Each child leads its own process group, so ending the
// group ends everything it started; every live group is ended again on exit and on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseEvent, type EventMessage } from '../schema/messages.js';
import { forgetGroup, noteGroupMembers, recordGroup } from './guard.js';
import { groupMembers, observeSamples } from './sampler.js';

const live = new Set<number>();

/** Ends every process group still running; safe to call more than once and from a signal handler. */
export function killAllGroups(): void {
  for (const pgid of live) {
    signalGroup(pgid, 'SIGKILL');
    forgetGroup(pgid);
  }
  live.clear();
}
process.on('exit', killAllGroups);
// Who is in each group, as the sampler sees it during a cell, goes into the record too: after a
// crash the next run recognises a group by its members even when its leader has died.
observeSamples(noteGroupMembers);

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** The last lines of stderr, for error messages. */
  stderrTail(): string;
  /** Resolves with the exit code (or signal name) when the leader exits. */
  exited: Promise<number | string>;
  /** Each stdout line, parsed when it is JSON. */
  onLine(cb: (msg: EventMessage | null, line: string) => void): void;
}

export interface StartOptions {
  /** CPUs to pin the child to with taskset, or null. */
  cpus: number[] | null;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Pass stderr through to ours (progress of a nested run) instead of keeping its tail. */
  inheritStderr?: boolean;
  /** A pipe to the child's stdin (child.proc.stdin): an ssh session to a host, whose end ends the remote group. */
  stdin?: boolean;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
}

export function startGroup(command: string, args: string[], o: StartOptions): Child {
  const [file, argv] = o.cpus ? ['taskset', ['-c', o.cpus.join(','), command, ...args]] : [command, args];
  // detached: setsid() in the child, so it leads a new process group that we can end as a whole.
  const proc = spawn(file, argv, {
    detached: true,
    stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', o.inheritStderr ? 'inherit' : 'pipe'],
    env: o.env ?? process.env,
    cwd: o.cwd,
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}),
  });
  if (proc.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = proc.pid;
  proc.stdin?.on('error', () => {}); // EPIPE once the child is gone: its exit says what happened
  live.add(pid);
  // On disk too: if this process is SIGKILLed, the next run ends the group (guard.endOrphans).
  recordGroup(pid, [command, ...args]);
  const tail: string[] = [];
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    tail.push(d);
    while (tail.length > 20) tail.shift();
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    proc.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'spawn error'));
  });
  const lines = createInterface({ input: proc.stdout! });
  const listeners: ((msg: EventMessage | null, line: string) => void)[] = [];
  lines.on('line', (line) => {
    const msg = parseEvent(line);
    for (const l of listeners) l(msg, line);
  });
  return {
    proc,
    pid,
    exited,
    stderrTail: () => tail.join('').trim().split('\n').slice(-5).join(' | '),
    onLine: (cb) => listeners.push(cb),
  };
}

/** How long stopGroup gives a group to end by itself after SIGTERM before it SIGKILLs it, ms. */
export const STOP_GRACE_MS = 5000;

/**
 * `signal` (SIGTERM) to the group, SIGKILL after `graceMs` if the leader has not exited, then SIGKILL
 * to any straggler. PostgreSQL's postmaster wants SIGINT: its fast shutdown ends the backends,
 * which have left its group, where SIGTERM would wait for their clients.
 */
export async function stopGroup(child: Child, graceMs = STOP_GRACE_MS, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | string; killed: boolean }> {
  signalGroup(child.pid, signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
  const first = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  const killed = first === 'timeout';
  // Children of the server (workers, forked processes) may outlive it; none must survive the cell.
  signalGroup(child.pid, 'SIGKILL');
  const code = killed ? await child.exited : first;
  // SIGKILL is delivered at once but a process takes a moment to end: wait until none of the group runs.
  for (let waited = 0; waited < 2000 && groupMembers(child.pid).length > 0; waited += 10) await new Promise((r) => setTimeout(r, 10));
  live.delete(child.pid);
  forgetGroup(child.pid);
  return { code, killed };
}

/** Resolves with the first stdout event for which `pick` returns a value; rejects when `pick` throws, on exit or on timeout. */
export function waitForMessage<T>(child: Child, pick: (msg: EventMessage) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return waitForLine(child, (msg) => (msg ? pick(msg) : undefined), timeoutMs, what);
}

/** The same for any stdout line, an event or not (a program of ours that prints plain JSON). */
export function waitForLine<T>(
  child: Child,
  pick: (msg: EventMessage | null, line: string) => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms; stderr: ${child.stderrTail() || '(empty)'}`)), timeoutMs);
    child.onLine((msg, line) => {
      let v: T | undefined;
      try {
        v = pick(msg, line);
      } catch (e) {
        // A pick that rejects the message (a server's `error` line) rejects the wait; thrown from
        // the line handler it would be an uncaught exception that ends the harness.
        clearTimeout(timer);
        return reject(e);
      }
      if (v !== undefined) {
        clearTimeout(timer);
        resolve(v);
      }
    });
    void child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: process exited (${code}) first; stderr: ${child.stderrTail() || '(empty)'}`));
    });
  });
}
