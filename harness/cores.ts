// How busy each pinned CPU was over a cell's window, whoever kept it busy. A process's own CPU
// cannot see a core filled by its neighbours: at 1,000 connections the client used 39% of a core
// while its core, shared with the io-wait service and the kernel's softirq work for both, was 96–100%
// busy, so the figure was the load side's limit. /proc/stat counts every CPU's time by kind.
import { readFileSync } from 'node:fs';
import type { CoreBusy, CoresUsage } from '../schema/results.js';

/** A side whose CPUs were this busy on average, in %, is full: what ran there was CPU-bound. */
export const CORES_FULL_PERCENT = 95;

interface CoreTimes {
  busy: number;
  softirq: number;
  total: number;
}

/** Per-CPU times in clock ticks from /proc/stat ("cpuN user nice system idle iowait irq softirq steal ..."). */
export function parseCpuStat(text: string): Map<number, CoreTimes> {
  const out = new Map<number, CoreTimes>();
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = m[2]!.trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    out.set(Number(m[1]), { busy, softirq, total: busy + idle + iowait });
  }
  return out;
}

function readCpuStat(): Map<number, CoreTimes> {
  try {
    return parseCpuStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return new Map();
  }
}

/** Each CPU of `cpus`: its busy and softirq share of the time between two readings, %. */
export function busyBetween(before: Map<number, CoreTimes>, after: Map<number, CoreTimes>, cpus: readonly number[]): CoreBusy[] {
  return cpus.flatMap((cpu) => {
    const a = before.get(cpu);
    const b = after.get(cpu);
    if (!a || !b || b.total <= a.total) return [];
    const total = b.total - a.total;
    return [{ cpu, busyPercent: round1(((b.busy - a.busy) / total) * 100), softirqPercent: round1(((b.softirq - a.softirq) / total) * 100) }];
  });
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The sides whose CPUs were full on average. */
export function fullSides(u: Pick<CoresUsage, 'server' | 'client'>): CoresUsage['full'] {
  const mean = (cs: CoreBusy[]): number => (cs.length === 0 ? 0 : cs.reduce((s, c) => s + c.busyPercent, 0) / cs.length);
  const full: CoresUsage['full'] = [];
  if (u.client.length > 0 && mean(u.client) >= CORES_FULL_PERCENT) full.push('client');
  if (u.server.length > 0 && mean(u.server) >= CORES_FULL_PERCENT) full.push('server');
  return full;
}

/** Reads /proc/stat when the client's window opens and closes. Null usage where nothing is pinned. */
export class CoreSampler {
  private before: Map<number, CoreTimes> | null = null;
  private after: Map<number, CoreTimes> | null = null;

  constructor(private readonly cpus: { server: readonly number[] | null; client: readonly number[] | null }) {}

  begin(): void {
    this.before = readCpuStat();
  }

  end(): void {
    if (this.before && !this.after) this.after = readCpuStat();
  }

  usage(): CoresUsage | null {
    if (!this.before || !this.after || (!this.cpus.server && !this.cpus.client)) return null;
    const server = busyBetween(this.before, this.after, this.cpus.server ?? []);
    const client = busyBetween(this.before, this.after, this.cpus.client ?? []);
    return { server, client, full: fullSides({ server, client }) };
  }
}
