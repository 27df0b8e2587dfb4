// The /proc sampler against a process tree whose CPU is known: a leader that burns 0.5 s of CPU
// inside the window and a child it forks that burns 0.3 s and exits inside it too.
import { describe, expect, it } from 'vitest';
import { startGroup, stopGroup } from '../../harness/processes.js';
import { TreeSampler } from '../../harness/sampler.js';

// Burns by CPU time, not wall time, so a busy machine cannot shorten the burn.
const burn = (s: number): string => `const u0 = process.cpuUsage(); while (true) { const u = process.cpuUsage(u0); if (u.user + u.system >= ${s * 1e6}) break; }`;
const LEADER = `
process.stdout.write('ready\\n');
setTimeout(() => {
  require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(burn(0.3))}], { stdio: 'ignore' });
  ${burn(0.5)}
  setInterval(() => {}, 1000);
}, 300);
`;

// Ten children one after another, each burning 50 ms of CPU and living about 100 ms: between two
// samples 500 ms apart, so only what their parent reaped can show them (a database's backends).
const SHORT_LIVED = `
process.stdout.write('ready\\n');
let left = 10;
const next = () => {
  if (left-- === 0) return process.stdout.write('done\\n');
  require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(burn(0.05))}], { stdio: 'ignore' }).on('exit', next);
};
setTimeout(next, 200);
setInterval(() => {}, 1000);
`;

describe('TreeSampler', () => {
  it('counts the CPU of children that start and end between two samples, through what their parent reaped', async () => {
    const child = startGroup(process.execPath, ['-e', SHORT_LIVED], { cpus: null });
    try {
      const lines: string[] = [];
      child.onLine((_m, line) => lines.push(line));
      while (!lines.includes('ready')) await new Promise((r) => setTimeout(r, 10));
      const sampler = new TreeSampler(child.pid);
      sampler.begin();
      const timer = setInterval(() => sampler.tick(), 500);
      for (const until = Date.now() + 20_000; !lines.includes('done') && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
      clearInterval(timer);
      sampler.end();
      expect(lines).toContain('done');
      const u = sampler.usage();
      // 10 × 50 ms burned by CPU time, plus each child's start-up.
      expect(u.cpuUserS + u.cpuSysS).toBeGreaterThan(0.5);
      expect(u.cpuUserS + u.cpuSysS).toBeLessThan(3);
    } finally {
      await stopGroup(child, 1000);
    }
  });

  it('counts the CPU of every process of the tree, including one born and ended inside the window', async () => {
    const child = startGroup(process.execPath, ['-e', LEADER], { cpus: null });
    try {
      await new Promise<void>((resolve) => child.onLine((_m, line) => line === 'ready' && resolve()));
      const sampler = new TreeSampler(child.pid);
      sampler.begin();
      const timer = setInterval(() => sampler.tick(), 100);
      await new Promise((r) => setTimeout(r, 2000));
      clearInterval(timer);
      sampler.end();
      const u = sampler.usage(2);
      const cpu = u.cpuUserS + u.cpuSysS;
      // 0.8 s burned; the child's start-up adds some, and its last 100 ms before exiting may fall
      // between two samples (see Limitations).
      expect(cpu).toBeGreaterThan(0.65);
      expect(cpu).toBeLessThan(1.3);
      expect(u.processesPeak).toBe(2);
      expect((u.cpuPercent / 100) * 2).toBeCloseTo(cpu, 9);
      expect(u.sampledS).toBeGreaterThan(1.9);
    } finally {
      await stopGroup(child, 1000);
    }
  });
});
