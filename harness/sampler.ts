// Samples a process group (the server and every process it starts) from /proc: CPU, memory,
// threads, processes and context switches. The server never knows it is being measured.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerUsage } from '../schema/results.js';

const CLK_TCK = readConf('CLK_TCK', 100);
const PAGE_BYTES = readConf('PAGESIZE', 4096);

function readConf(name: string, fallback: number): number {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
  } catch {
    return fallback;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process or thread ended between listing and reading: normal
  }
}

export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, ... Z for a zombie (ended, not yet reaped: no longer a running process). */
  state: string;
  ppid: number;
  pgrp: number;
  /** utime + stime, clock ticks, over all the process's threads (living and ended). */
  cpuTicks: number;
  utimeTicks: number;
  stimeTicks: number;
  /** utime and stime of the children it has reaped (cutime, cstime): where an ended child's CPU goes. */
  reapedUtimeTicks: number;
  reapedStimeTicks: number;
  threads: number;
  rssBytes: number;
  /**
   * When the process started, clock ticks after boot (field 22). A pid names a process only with
   * it: pids are reused, a (pid, start) pair never is.
   */
  startTicks: number;
}

/** Parses /proc/PID/stat; the command name may contain spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const f = text.slice(close + 2).split(' '); // f[0] is field 3 (state)
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  return {
    pid,
    state: f[0] ?? '?',
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    utimeTicks: utime,
    stimeTicks: stime,
    cpuTicks: utime + stime,
    reapedUtimeTicks: Number(f[13]),
    reapedStimeTicks: Number(f[14]),
    threads: Number(f[17]),
    startTicks: Number(f[19]),
    rssBytes: Number(f[21]) * PAGE_BYTES,
  };
}

/** The machine's boot time, ms since the epoch (/proc/stat btime, to the second). */
const BOOT_MS = (() => {
  const m = /^btime (\d+)$/m.exec(readText('/proc/stat') ?? '');
  return m ? Number(m[1]) * 1000 : 0;
})();

/** When a process started, ms since the epoch (to the boot time's second). */
export function processStartMs(s: Pick<ProcStat, 'startTicks'>): number {
  return BOOT_MS + (s.startTicks / CLK_TCK) * 1000;
}

export function readStat(pid: number): ProcStat | null {
  const t = readText(`/proc/${pid}/stat`);
  return t === null ? null : parseStat(t);
}

/**
 * Every process whose process group is `pgrp`, zombies left out: a child that has ended but whose
 * parent (killed with it) has not reaped it yet holds no memory and runs nothing.
 */
export function groupMembers(pgrp: number, withZombies = false): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const s = readStat(Number(name));
    if (s !== null && s.pgrp === pgrp && (withZombies || (s.state !== 'Z' && s.state !== 'X'))) out.push(s);
  }
  return out;
}

/**
 * `root` and every process below it by parent links, zombies included: for a tree whose children
 * leave its process group (PostgreSQL's backends each call setsid()).
 */
export function descendants(root: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const s = readStat(Number(name));
    if (s !== null) all.push(s);
  }
  const inTree = new Set([root]);
  // Parents come before children in pid order except after pid wrap-around: repeat until stable.
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => inTree.has(p.pid));
}

/**
 * Context switches of each thread of a process alive now, by thread id. Per thread, because a
 * thread that ends takes its counts with it: summed per process, the total would go down.
 */
function threadSwitches(pid: number): { tid: number; voluntary: number; involuntary: number }[] {
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: { tid: number; voluntary: number; involuntary: number }[] = [];
  for (const tid of tids) {
    const t = readText(`/proc/${pid}/task/${tid}/status`);
    if (t === null) continue;
    out.push({
      tid: Number(tid),
      voluntary: Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(t)?.[1] ?? 0),
      involuntary: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(t)?.[1] ?? 0),
    });
  }
  return out;
}

/** PSS summed over the processes, or null when any one cannot be read (then the sum would understate). */
function treePss(procs: readonly ProcStat[]): number | null {
  let sum = 0;
  for (const p of procs) {
    const one = pssBytes(p.pid);
    if (one === null) return null;
    sum += one;
  }
  return sum;
}

function pssBytes(pid: number): number | null {
  const t = readText(`/proc/${pid}/smaps_rollup`);
  const kb = t === null ? undefined : /^Pss:\s+(\d+) kB/m.exec(t)?.[1];
  return kb === undefined ? null : Number(kb) * 1024;
}

interface Counter {
  first: number;
  last: number;
}

/** Sees the processes of every sample (processes.ts notes who is in each group it started, for the clean-up after a crash). */
let sampleObserver: ((pgrp: number, procs: readonly ProcStat[]) => void) | null = null;

export function observeSamples(cb: (pgrp: number, procs: readonly ProcStat[]) => void): void {
  sampleObserver = cb;
}

/**
 * Tracks the group between begin() and end(). CPU is the change of the tree's total: each
 * process's own CPU plus what it has reaped from ended children (cutime, cstime). A child that
 * ends moves its whole CPU into its parent's reaped times, so the total neither loses it (a
 * database backend that lives 30 ms between two samples) nor counts it twice. Context switches are
 * deltas per thread (a thread born in the window counts from zero; one that ends keeps its last
 * sample).
 */
export class TreeSampler {
  private cpuUser: Counter = { first: 0, last: 0 };
  private cpuSys: Counter = { first: 0, last: 0 };
  /** By thread id (thread ids are unique machine-wide while alive). */
  private ctxVol = new Map<number, Counter>();
  private ctxInv = new Map<number, Counter>();
  private rssPeak = 0;
  private rssSum = 0;
  private samples = 0;
  private pssPeak: number | null = null;
  private threadsPeak = 0;
  private processesPeak = 0;
  private windowStart = 0;
  private windowEnd = 0;
  private ticks = 0;
  private measuring = false;
  /**
   * Memory of the whole tree for the memory budget: PSS (shared pages counted once) from the last
   * slow sample when there was one, else RSS. Kept before the window too, so a model that starts
   * hundreds of processes while connections open is stopped in time.
   */
  lastMemoryBytes = 0;
  private lastPss: number | null = null;
  /** Memory through the window, one entry per sample: a leak shows as a line that climbs, not only as a higher peak. */
  private memory: { atMs: number; rss: number; pss: number | null }[] = [];

  /**
   * `slowEvery`: PSS and per-thread context switches are read on every n-th sample (they are
   * costlier). `tree`: the process group `pgrp` leads (a server), or every descendant of the
   * process `pgrp` (a database whose children leave its group).
   */
  constructor(
    private readonly pgrp: number,
    private readonly slowEvery = 5,
    private readonly tree: 'group' | 'descendants' = 'group',
  ) {}

  /** Opens a window; a sampler that lives across cells (a --db-host's database) starts each one afresh. */
  begin(): void {
    this.ctxVol.clear();
    this.ctxInv.clear();
    this.rssPeak = 0;
    this.rssSum = 0;
    this.samples = 0;
    this.pssPeak = null;
    this.threadsPeak = 0;
    this.processesPeak = 0;
    this.memory = [];
    this.measuring = true;
    this.windowStart = performance.now();
    // No PSS here: reading smaps_rollup walks every mapping of every process while holding its
    // memory map lock, at the moment the window opens. It cost the window's first 100 ms about a
    // tenth of their operations (first tenth at 0.81 of the rest, median of 20 cells, against 0.94
    // without it); the slow ticks and end() still read PSS.
    this.sample(true, false, true);
  }

  /** One sample; call every interval. Before begin() it only keeps lastMemoryBytes. */
  tick(): void {
    const slow = ++this.ticks % this.slowEvery === 0;
    this.sample(false, slow, slow);
  }

  end(): void {
    if (!this.measuring) return;
    this.sample(false, true, true);
    this.windowEnd = performance.now();
    this.measuring = false;
  }

  private sample(first: boolean, pss: boolean, switches: boolean): void {
    // A zombie still reports its final CPU times, so it is read for CPU, but it is not counted.
    const all = this.tree === 'group' ? groupMembers(this.pgrp, true) : descendants(this.pgrp);
    sampleObserver?.(this.pgrp, all);
    const procs = all.filter((p) => p.state !== 'Z' && p.state !== 'X');
    let rss = 0;
    let threads = 0;
    for (const p of procs) {
      rss += p.rssBytes;
      threads += p.threads;
    }
    if (pss) this.lastPss = treePss(procs);
    this.lastMemoryBytes = this.lastPss ?? rss;
    if (!this.measuring) return;
    if (this.lastPss !== null && pss) this.pssPeak = Math.max(this.pssPeak ?? 0, this.lastPss);
    this.memory.push({ atMs: performance.now() - this.windowStart, rss, pss: pss ? this.lastPss : null });
    let user = 0;
    let sys = 0;
    for (const p of all) {
      user += p.utimeTicks + p.reapedUtimeTicks;
      sys += p.stimeTicks + p.reapedStimeTicks;
    }
    if (first) {
      this.cpuUser.first = user;
      this.cpuSys.first = sys;
    }
    this.cpuUser.last = user;
    this.cpuSys.last = sys;
    this.rssPeak = Math.max(this.rssPeak, rss);
    this.rssSum += rss;
    this.samples++;
    this.threadsPeak = Math.max(this.threadsPeak, threads);
    this.processesPeak = Math.max(this.processesPeak, procs.length);
    if (!switches) return;
    for (const p of procs) {
      for (const t of threadSwitches(p.pid)) {
        track(this.ctxVol, t.tid, t.voluntary, first);
        track(this.ctxInv, t.tid, t.involuntary, first);
      }
    }
  }

  /**
   * RSS and PSS in each of `slots` intervals of `intervalS` from the window's start (the client's
   * timeline): the last reading inside each, null where none fell (PSS is read every slowEvery-th
   * sample, so intervals shorter than that have gaps).
   */
  memoryTimeline(intervalS: number, slots: number): { rssBytes: (number | null)[]; pssBytes: (number | null)[] } {
    const rssBytes: (number | null)[] = new Array(slots).fill(null);
    const pssBytes: (number | null)[] = new Array(slots).fill(null);
    for (const m of this.memory) {
      const k = Math.min(slots - 1, Math.floor(m.atMs / (intervalS * 1000)));
      if (k < 0) continue;
      rssBytes[k] = m.rss;
      if (m.pss !== null) pssBytes[k] = m.pss;
    }
    return { rssBytes, pssBytes };
  }

  /** Window length as this sampler saw it, seconds. */
  get windowS(): number {
    return (this.windowEnd - this.windowStart) / 1000;
  }

  /**
   * What the tree used over the client's window of `windowS` seconds. The sampler's own bracket
   * (from the client's "measuring" line to its "measured" line, as read here) differs from the
   * client's window by the few milliseconds those lines take to arrive, so CPU and context
   * switches are scaled by windowS / bracket: the rate over the bracket, applied to the window.
   * Then cpuPercent × windowS / 100 is exactly cpuUserS + cpuSysS, and `sampledS` keeps the bracket.
   */
  usage(windowS = this.windowS): ServerUsage {
    const bracket = this.windowS;
    const scale = bracket > 0 && windowS > 0 ? windowS / bracket : 1;
    const cpuUserS = (Math.max(0, this.cpuUser.last - this.cpuUser.first) / CLK_TCK) * scale;
    const cpuSysS = (Math.max(0, this.cpuSys.last - this.cpuSys.first) / CLK_TCK) * scale;
    return {
      sampledS: bracket,
      cpuUserS,
      cpuSysS,
      cpuPercent: windowS > 0 ? ((cpuUserS + cpuSysS) / windowS) * 100 : 0,
      rssPeakBytes: this.rssPeak,
      rssMeanBytes: this.samples > 0 ? Math.round(this.rssSum / this.samples) : 0,
      pssPeakBytes: this.pssPeak,
      threadsPeak: this.threadsPeak,
      processesPeak: this.processesPeak,
      ctxVoluntary: Math.round(sumDelta(this.ctxVol) * scale),
      ctxInvoluntary: Math.round(sumDelta(this.ctxInv) * scale),
    };
  }
}

function track(m: Map<number, Counter>, pid: number, value: number, atStart: boolean): void {
  const c = m.get(pid);
  if (c) c.last = value;
  else m.set(pid, { first: atStart ? value : 0, last: value });
}

function sumDelta(m: Map<number, Counter>): number {
  let s = 0;
  for (const c of m.values()) s += c.last - c.first;
  return s;
}
