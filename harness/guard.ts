// What keeps runs from hurting each other on one machine: a lock (two runs at once would halve each
// other's numbers without a word) and a record of every process group a harness starts, so the next
// run can end what a harness killed with SIGKILL left behind. Both live in one folder per user.
//
// The lock is flock(2) on one file, held through an open descriptor: the kernel releases it when its
// holder dies, however it dies, so a stale lock can never be taken for a live run. Who holds it is
// written into the file as a pid and that process's start time: a pid alone may have been reused.
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EAGAIN, EINTR, errnoName } from '../sys/errno.js';
import { c, errno, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from '../sys/libc.js';
import { tempFileWriter } from '../schema/atomic-write.js';
import { groupMembers, processStartMs, readStat, type ProcStat } from './sampler.js';

export const STATE_DIR = join(tmpdir(), `concurrency-bench-${process.getuid?.() ?? 'user'}`);
const LOCK = join(STATE_DIR, 'run.lock');
/** Set for the runs a locked run starts itself (bench:ci's alternating runs, a test's bench): they share its lock. */
export const LOCK_ENV = 'CB_RUN_LOCK_HOLDER';

export class LockError extends Error {
  readonly code = 'ELOCKED';
}

/** What the lock file says about its holder, written by the holder once it has the lock. */
interface LockRecord {
  pid: number;
  /** The holder's start time, clock ticks after boot (/proc/<pid>/stat field 22). */
  startTicks: number;
  /** What it is, for the message: `npm run bench`, `npm test: test/integration/x.test.ts`. */
  what: string;
  runDir: string | null;
  startedAt: string;
}

/** The process that holds the run lock now. */
export interface LockHolder extends LockRecord {
  /** Its command line, read from /proc now. */
  commandLine: string;
}

export interface RunLock {
  /** Names the run folder in the lock file, for the message another run gets. */
  setRunDir(dir: string): void;
  /** True when this process runs under a lock its ancestor holds (LOCK_ENV). */
  shared: boolean;
}

/** A process, by pid and start time, that is still running (not ended, not a zombie). */
function processAlive(pid: number, startTicks: number): boolean {
  const s = readStat(pid);
  return s !== null && s.startTicks === startTicks && s.state !== 'Z' && s.state !== 'X';
}

function cmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** flock without blocking: true when taken, false when another open file holds a conflicting lock. */
function tryFlock(fd: number, op: number): boolean {
  for (;;) {
    if (c.flock(fd, op | LOCK_NB) === 0) return true;
    const e = errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) return false; // EWOULDBLOCK
    throw new Error(`flock ${LOCK}: ${errnoName(e)}`);
  }
}

let mine: { fd: number; record: LockRecord } | null = null;

/**
 * Takes the machine's run lock for this process, or throws LockError naming the run that holds it
 * (its pid, what it is, its command line, its run folder). Held until this process ends or calls
 * releaseRunLock. A process started by the holder with LOCK_ENV naming it shares the lock.
 */
export function acquireRunLock(what: string): RunLock {
  if (mine) return handle(false);
  if (sharedHolder()) return handle(true);
  mkdirSync(STATE_DIR, { recursive: true });
  const fd = openSync(LOCK, constants.O_RDWR | constants.O_CREAT, 0o644);
  // A holder writes its record just after it takes the lock, and lockHolder() probes it for a
  // moment: a lock held by no one we can name is asked again for about a second.
  for (let tries = 0; ; tries++) {
    if (tryFlock(fd, LOCK_EX)) {
      const startTicks = readStat(process.pid)?.startTicks ?? 0;
      mine = { fd, record: { pid: process.pid, startTicks, what, runDir: null, startedAt: new Date().toISOString() } };
      writeRecord();
      process.env[LOCK_ENV] = String(process.pid);
      return handle(false);
    }
    const holder = lockHolder();
    if (holder !== null || tries >= 40) {
      closeSync(fd);
      throw new LockError(busyMessage(holder));
    }
    sleepMs(25);
  }
}

function handle(shared: boolean): RunLock {
  return {
    shared,
    setRunDir: (dir) => {
      if (shared || !mine) return;
      mine.record.runDir = dir;
      writeRecord();
    },
  };
}

function writeRecord(): void {
  if (!mine) return;
  const text = JSON.stringify(mine.record);
  // Written over the old record, then cut to length: a reader never sees an empty file mid-way.
  writeSync(mine.fd, text, 0);
  ftruncateSync(mine.fd, Buffer.byteLength(text));
}

/** The message a run that finds the lock taken gets. */
function busyMessage(h: LockHolder | null): string {
  if (h === null || h.pid === 0) return `another run is going on this machine: it holds ${LOCK} but has not written who it is yet; try again in a moment`;
  const where = h.runDir ? `, writing ${h.runDir}` : '';
  return `another run is going on this machine: ${h.what} (pid ${h.pid}: ${h.commandLine})${where}; two runs at once would measure each other. Wait for it, or end it with kill ${h.pid}`;
}

/** Lets go of the lock this process holds (tests hand it to a run they start); a no-op otherwise. */
export function releaseRunLock(): void {
  if (!mine) return;
  const { fd } = mine;
  mine = null;
  try {
    ftruncateSync(fd, 0);
  } catch {
    // the record is only for messages
  }
  c.flock(fd, LOCK_UN);
  closeSync(fd);
  if (process.env[LOCK_ENV] === String(process.pid)) delete process.env[LOCK_ENV];
}

function readRecord(): LockRecord | null {
  try {
    const r = JSON.parse(readFileSync(LOCK, 'utf8')) as Partial<LockRecord>;
    return typeof r.pid === 'number' && typeof r.startTicks === 'number'
      ? { pid: r.pid, startTicks: r.startTicks, what: String(r.what ?? 'a run'), runDir: r.runDir ?? null, startedAt: String(r.startedAt ?? '') }
      : null;
  } catch {
    return null;
  }
}

/**
 * Who holds the run lock, or null when nobody does. The kernel answers whether it is held (a
 * shared flock that fails); the record, checked against the process's start time, says by whom.
 * This process, when it holds the lock, is its own holder.
 */
export function lockHolder(): LockHolder | null {
  let fd: number;
  try {
    fd = openSync(LOCK, constants.O_RDONLY);
  } catch {
    return null;
  }
  try {
    for (let tries = 0; tries < 40; tries++) {
      if (tryFlock(fd, LOCK_SH)) {
        c.flock(fd, LOCK_UN);
        return null;
      }
      const r = readRecord();
      if (r && processAlive(r.pid, r.startTicks)) return { ...r, commandLine: cmdline(r.pid) ?? '?' };
      sleepMs(25); // taken a moment ago, its record not yet written
    }
    return { pid: 0, startTicks: 0, what: 'unknown', runDir: null, startedAt: '', commandLine: '?' };
  } finally {
    closeSync(fd);
  }
}

/** The holder this process shares the lock with: LOCK_ENV names it, it holds the lock, and it is an ancestor. */
function sharedHolder(): LockHolder | null {
  const pid = Number(process.env[LOCK_ENV]);
  if (!(pid > 0) || pid === process.pid) return null;
  const h = lockHolder();
  return h !== null && h.pid === pid && isAncestor(pid) ? h : null;
}

function isAncestor(pid: number): boolean {
  for (let p = process.ppid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === pid) return true;
    p = readStat(p)?.ppid ?? 0;
  }
  return false;
}

/** A process, by pid and start time. */
interface ProcessId {
  pid: number;
  startTicks: number;
}

interface GroupRecord {
  pgid: number;
  /** The command line the group's leader was started with, for the log. */
  command: string;
  /**
   * Processes seen in the group (the leader from its start, the rest as the sampler sees them), by
   * pid and start time. The group is still ours while one of them is alive and still in it: a
   * process group's id is not reused while any process is in the group.
   */
  members: ProcessId[];
}

interface GroupsFile {
  /** The harness that started the groups. */
  owner: ProcessId;
  groups: GroupRecord[];
}

const groupsFile = (pid: number): string => join(STATE_DIR, `groups-${pid}.json`);
const recorded = new Map<number, GroupRecord>();
let self: ProcessId | null = null;

/** Notes a process group this process started; rewritten atomically on every change. */
export function recordGroup(pgid: number, command: string[]): void {
  const leader = readStat(pgid);
  recorded.set(pgid, { pgid, command: command.join(' '), members: leader ? [{ pid: pgid, startTicks: leader.startTicks }] : [] });
  saveGroups();
}

/**
 * Notes who is in a recorded group now (`procs`: what the sampler read, its members those whose
 * process group is `pgid`), so that the group is recognised after a crash even when its leader has
 * died: a process-per-connection server's children outlive an acceptor killed first.
 */
export function noteGroupMembers(pgid: number, procs: readonly ProcStat[]): void {
  const r = recorded.get(pgid);
  if (!r) return;
  const now = procs.filter((p) => p.pgrp === pgid && p.state !== 'Z' && p.state !== 'X').map((p) => ({ pid: p.pid, startTicks: p.startTicks }));
  if (now.length === 0) return;
  const key = (m: ProcessId): string => `${m.pid}:${m.startTicks}`;
  const before = new Set(r.members.map(key));
  if (now.length === before.size && now.every((m) => before.has(key(m)))) return;
  r.members = now;
  saveGroups();
}

export function forgetGroup(pgid: number): void {
  if (recorded.delete(pgid)) saveGroups();
}

function saveGroups(): void {
  try {
    mkdirSync(STATE_DIR, { recursive: true });
    if (recorded.size === 0) {
      rmSync(groupsFile(process.pid), { force: true });
      return;
    }
    self ??= { pid: process.pid, startTicks: readStat(process.pid)?.startTicks ?? 0 };
    const file: GroupsFile = { owner: self, groups: [...recorded.values()] };
    const tmp = `${groupsFile(process.pid)}.tmp`;
    writeFileSync(tmp, JSON.stringify(file));
    renameSync(tmp, groupsFile(process.pid));
  } catch {
    // A read-only temp folder loses only the clean-up after a crash, never a run.
  }
}

/** A groups file as written, or as the version before member records wrote it (an array, the owner known by pid only). */
function readGroups(path: string, pid: number): GroupsFile | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null; // half-written by a dying process: nothing to trust in it
  }
  if (Array.isArray(raw)) return { owner: { pid, startTicks: -1 }, groups: raw as GroupRecord[] };
  return raw as GroupsFile;
}

function ownerAlive(o: ProcessId): boolean {
  if (o.startTicks >= 0) return processAlive(o.pid, o.startTicks);
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a recorded group is still the one its harness started: one of its recorded members is alive and in it. */
function stillOurs(r: GroupRecord): boolean {
  if (!Array.isArray(r.members)) return cmdline(r.pgid) === r.command && groupMembers(r.pgid).length > 0; // an older record
  return r.members.some((m) => {
    const s = readStat(m.pid);
    return s !== null && s.startTicks === m.startTicks && s.pgrp === r.pgid && s.state !== 'Z' && s.state !== 'X';
  });
}

/**
 * Ends the process groups that harnesses no longer alive left running (a SIGKILLed run's server,
 * client and database), whatever became of each group's leader: a group is ended when a process
 * recorded in it is still alive and still in it. Removes their scratch folders and the temporary
 * files they left in this state folder. Returns what it ended, for the log.
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
    if (!m) continue;
    const file = readGroups(join(STATE_DIR, name), Number(m[1]));
    if (file && ownerAlive(file.owner)) continue;
    let groups = 0;
    for (const r of file?.groups ?? []) {
      if (!stillOurs(r)) continue;
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
  for (const name of names) {
    // Scratch folders of dead harnesses (a database's data folder), once their processes are gone.
    const m = /^scratch-(\d+)$/.exec(name);
    if (m && !scratchOwnerAlive(Number(m[1]))) rmSync(join(STATE_DIR, name), { recursive: true, force: true });
    // groups-<pid>.json.tmp of a harness killed while it rewrote its record.
    const t = /^groups-(\d+)\.json\.tmp$/.exec(name);
    if (t && !writerAlive(Number(t[1]), join(STATE_DIR, name))) rmSync(join(STATE_DIR, name), { force: true });
  }
  return ended;
}

/**
 * Whether the process that wrote `path` may still be running: a live process with its pid that
 * started before the file was last written (the boot time /proc gives is to the second, hence the
 * second of slack). A pid that started later is another process that was given the same number.
 */
function writerAlive(pid: number, path: string): boolean {
  const s = readStat(pid);
  if (s === null || s.state === 'Z' || s.state === 'X') return false;
  try {
    return processStartMs(s) <= statSync(path).mtimeMs + 1000;
  } catch {
    return false; // gone already
  }
}

const OWNER_FILE = '.owner.json';

function scratchOwnerAlive(pid: number): boolean {
  try {
    return ownerAlive(JSON.parse(readFileSync(join(STATE_DIR, `scratch-${pid}`, OWNER_FILE), 'utf8')) as ProcessId);
  } catch {
    return ownerAlive({ pid, startTicks: -1 }); // made before the owner file: by pid alone
  }
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
    writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid, startTicks: readStat(process.pid)?.startTicks ?? 0 }));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}
let scratchHooked = false;

/**
 * Removes, under `dir` (a results folder) and `depth` levels of folders below it, the temporary
 * files of writeJsonAtomic whose writer is gone: killed between writing and renaming. A file is its
 * writer's while a process with the pid in its name runs that started before the file was written.
 * Returns the paths removed.
 */
export function removeStaleTemps(dir: string, depth = 4): string[] {
  const removed: string[] = [];
  let entries: import('node:fs').Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth > 0) removed.push(...removeStaleTemps(path, depth - 1));
      continue;
    }
    const writer = e.isFile() ? tempFileWriter(e.name) : null;
    if (writer === null || writerAlive(writer, path)) continue;
    rmSync(path, { force: true });
    removed.push(path);
  }
  return removed;
}
