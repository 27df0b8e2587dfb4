import { describe, expect, it } from 'vitest';
import { busyBetween, fullSides, parseCpuStat } from '../../harness/cores.js';
import { notes } from '../../report/report.js';
import { buildResults } from '../helpers/results-builder.js';

// /proc/stat: cpuN user nice system idle iowait irq softirq steal guest guest_nice
const before = parseCpuStat('cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 100 0 50 1000 10 0 20 0 0 0\ncpu1 10 0 10 2000 0 0 0 0 0 0\nintr 1 2 3\n');
const after = parseCpuStat('cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 160 0 70 1005 10 0 35 0 0 0\ncpu1 40 0 20 2060 0 0 0 0 0 0\n');

describe('pinned CPUs over the window', () => {
  it('counts everything that ran on a CPU, softirq apart, and calls a side full at 95% on average', () => {
    // cpu0: busy 60+20+15 = 95 of 100 ticks, 15 of them softirq; cpu1: 40 of 100.
    expect(busyBetween(before, after, [0, 1])).toEqual([
      { cpu: 0, busyPercent: 95, softirqPercent: 15 },
      { cpu: 1, busyPercent: 40, softirqPercent: 0 },
    ]);
    expect(busyBetween(before, after, [7])).toEqual([]); // not on this machine
    const c0 = busyBetween(before, after, [0]);
    const c1 = busyBetween(before, after, [1]);
    expect(fullSides({ client: c0, server: c1 })).toEqual(['client']);
    expect(fullSides({ client: c1, server: c0 })).toEqual(['server']);
    expect(fullSides({ client: [], server: [...c0, ...c1] })).toEqual([]); // 67.5% on average
  });

  it('notes a full client side as the load side\'s limit, and a server whose CPUs others filled', () => {
    const r = buildResults([{ model: 'epoll', protocol: 'http', opsPerSec: [1000] }]);
    const c = r.cells[0]!;
    c.client = { ...c.client, threadCpuPercentMax: 12, saturated: true };
    c.server = { ...c.server, cpuPercent: 30 };
    c.cores = { client: [{ cpu: 0, busyPercent: 99, softirqPercent: 21 }], server: [{ cpu: 1, busyPercent: 97, softirqPercent: 3 }], full: ['client', 'server'] };
    const n = notes(r);
    expect(n).toContain(`epoll http at concurrency 64, repetition 1: the load generator (native) was saturated (busiest thread 12% of a core; its CPUs were CPU 0 99% busy (softirq 21%)): this figure is the load side's limit, not the server's`);
    expect(n).toContain(`epoll http at concurrency 64, repetition 1: the server's CPUs were CPU 1 97% busy (softirq 3%), of which the server used 30% of a core: others filled them (database, service, softirq), so this figure is not the server's alone`);
    c.server.cpuPercent = 96; // the server filled its own CPU: that is what it measures
    expect(notes(r).some((x) => x.includes("the server's CPUs were"))).toBe(false);
  });
});
