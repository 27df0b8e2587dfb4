import { describe, expect, it } from 'vitest';
import { groupMembers, parseStat, readStat } from '../../harness/sampler.js';

describe('parseStat', () => {
  it('reads the fields after a command name that contains spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal start vsize rss
    const line = '4242 (node (worker) x) S 1 4200 4200 0 -1 4194304 10 0 0 0 250 75 9 9 20 0 11 0 1234 100000000 5000 18446744073709551615';
    const s = parseStat(line);
    expect(s.pid).toBe(4242);
    expect(s.pgrp).toBe(4200);
    expect(s.ppid).toBe(1);
    expect(s.utimeTicks).toBe(250);
    expect(s.stimeTicks).toBe(75);
    expect(s.cpuTicks).toBe(325);
    expect(s.reapedUtimeTicks).toBe(9);
    expect(s.reapedStimeTicks).toBe(9);
    expect(s.threads).toBe(11);
    expect(s.startTicks).toBe(1234);
    expect(s.rssBytes).toBe(5000 * 4096);
  });

  it('agrees with /proc for this very process', () => {
    const s = readStat(process.pid)!;
    expect(s.pid).toBe(process.pid);
    expect(s.threads).toBeGreaterThanOrEqual(1);
    expect(s.rssBytes).toBeGreaterThan(1 << 20);
    expect(groupMembers(s.pgrp).map((p) => p.pid)).toContain(process.pid);
  });
});
