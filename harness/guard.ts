// What keeps runs from hurting each other on one machine: a lock (two runs at once would halve each
// other's numbers without a word) and a record of every process group a harness starts, so the next
// run can end what a harness killed with SIGKILL left behind. Both live in one folder per user.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupMembers } from './sampler.js';

export const STATE_DIR = join(tmpdir(), `concurrency-bench-${process.getuid?.() ?? 'user'}`);
const LOCK = join(STATE_DIR, 'run.lock');
/** Set for the runs a locked run starts itself (bench:ci's alternating runs): they share its lock. */
export const LOCK_ENV = 'CB_RUN_LOCK_HOLDER';

export class LockError extends Error {
  readonly code = 'ELOCKED';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function cmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null;
  }
}

/**
 * Takes the machine's run lock for this process, or throws LockError naming the run that holds
 * it. A lock whose holder is dead is taken over. Released when this process exits.
 */
export function acquireRunLock(what: string): { setRunDir(dir: string): void } {
  const holder = Number(process.env[LOCK_ENV]);
  if (holder > 0 && readLock()?.pid === holder) return { setRunDir: () => {} };
  mkdirSync(STATE_DIR, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, what, runDir: null, startedAt: new Date().toISOString() }));
      closeSync(fd);
      process.on('exit', releaseRunLock);
      process.env[LOCK_ENV] = String(process.pid);
      return {
        setRunDir: (dir) => {
          const tmp = `${LOCK}.${process.pid}.tmp`;
          writeFileSync(tmp, JSON.stringify({ pid: process.pid, what, runDir: dir, startedAt: new Date().toISOString() }));
          renameSync(tmp, LOCK);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = readLock();
      if (held && held.pid !== process.pid && alive(held.pid)) {
        const where = held.runDir ? `, writing ${held.runDir}` : '';
        throw new LockError(`another run is going on this machine: ${held.what} (pid ${held.pid})${where}; two runs at once would measure each other. Wait for it, or end it with kill ${held.pid}`);
      }
      rmSync(LOCK, { force: true }); // its holder is gone
    }
  }
  throw new LockError(`could not take the run lock ${LOCK}`);
}

function readLock(): { pid: number; what: string; runDir: string | null } | null {
  try {
    return JSON.parse(readFileSync(LOCK, 'utf8')) as { pid: number; what: string; runDir: string | null };
  } catch {
    return null;
  }
}

function releaseRunLock(): void {
  if (readLock()?.pid === process.pid) rmSync(LOCK, { force: true });
}

interface GroupRecord {
  pgid: number;
  /** The command line the group's leader was started with, to recognise it (pids are reused). */
  command: string;
}

const groupsFile = (pid: number): string => join(STATE_DIR, `groups-${pid}.json`);
const mine = new Map<number, GroupRecord>();

/** Notes a process group this process started; rewritten atomically on every change. */
export function recordGroup(pgid: number, command: string[]): void {
  mine.set(pgid, { pgid, command: command.join(' ') });
  saveGroups();
}

export function forgetGroup(pgid: number): void {
  if (mine.delete(pgid)) saveGroups();
}

function saveGroups(): void {
  try {
    mkdirSync(STATE_DIR, { recursive: true });
    if (mine.size === 0) {
      rmSync(groupsFile(process.pid), { force: true });
      return;
    }
    const tmp = `${groupsFile(process.pid)}.tmp`;
    writeFileSync(tmp, JSON.stringify([...mine.values()]));
    renameSync(tmp, groupsFile(process.pid));
  } catch {
    // A read-only temp folder loses only the clean-up after a crash, never a run.
  }
}

/**
 * Ends the process groups that harnesses no longer alive left running (a SIGKILLed run's server
 * and client), where the group's leader still runs the command recorded for it. Returns what it
 * ended, for the log.
 */
export function endOrphans(): { pid: number; groups: number }[] {
  const ended: { pid: number; groups: number }[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(STATE_DIR);
  } catch {
    return ended;
  }
  for (const name of names) {
    const m = /^groups-(\d+)\.json$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    let records: GroupRecord[] = [];
    try {
      records = JSON.parse(readFileSync(join(STATE_DIR, name), 'utf8')) as GroupRecord[];
    } catch {
      // half-written by a dying process: nothing to trust in it
    }
    let groups = 0;
    for (const r of records) {
      if (cmdline(r.pgid) !== r.command || groupMembers(r.pgid).length === 0) continue;
      try {
        process.kill(-r.pgid, 'SIGKILL');
        groups++;
      } catch {
        // already gone
      }
    }
    rmSync(join(STATE_DIR, name), { force: true });
    if (groups > 0) ended.push({ pid: Number(m[1]), groups });
  }
  // Scratch folders of dead harnesses (a database's data folder), once their processes are gone.
  for (const name of names) {
    const m = /^scratch-(\d+)$/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(STATE_DIR, name), { recursive: true, force: true });
  }
  return ended;
}

/**
 * A folder of this process's own for files that must not outlive it (a database cluster, its
 * password file): removed by the caller when done, and by the next run's endOrphans after a crash.
 */
export function scratchDir(): string {
  const dir = join(STATE_DIR, `scratch-${process.pid}`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (!scratchHooked) {
    scratchHooked = true;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}
let scratchHooked = false;
