// npm run micro with a short time per task: every primitive runs, and micro.json says so.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dist } from '../../harness/paths.js';
import type { MicroResults } from '../../schema/results.js';

describe('npm run micro', () => {
  it('measures every primitive and writes micro.json with the machine', () => {
    const out = mkdtempSync(join(tmpdir(), 'micro-'));
    const r = spawnSync(process.execPath, [dist('scripts/micro.js'), '--time', '20ms', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'micro.json'), 'utf8')) as MicroResults;
    expect(m.kind).toBe('micro');
    expect(m.env.cpus).toBeGreaterThan(0);
    expect(m.tasks.map((t) => t.name)).toContain('epoll_wait, 1000 idle');
    for (const t of m.tasks) {
      expect(t.state, `${t.name}: ${t.error ?? ''}`).toBe('completed');
      expect(t.meanNs, t.name).toBeGreaterThan(0);
      expect(t.samples, t.name).toBeGreaterThanOrEqual(10);
      expect(r.stdout).toContain(`| ${t.name} |`);
    }
  });

  it('refuses a bad --time with one line and exit 2', () => {
    const r = spawnSync(process.execPath, [dist('scripts/micro.js'), '--time', 'soon'], { encoding: 'utf8' });
    expect(r.stderr).toBe('micro: --time: must be a positive duration like 3s, 500ms or 1.5, got "soon"\n');
    expect(r.status).toBe(2);
  });
});
