// A results file is never seen half-written: a writer killed with SIGKILL at any moment leaves the
// previous complete file or the new one; and the temporary file it was writing is removed by the
// next run, never left to pile up in results/.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dist } from '../../harness/paths.js';
import { tempFileWriter } from '../../schema/atomic-write.js';

/** Every temporary file of writeJsonAtomic under `dir`, as paths relative to it. */
function temps(dir: string, at = ''): string[] {
  return readdirSync(join(dir, at), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? temps(dir, join(at, e.name)) : tempFileWriter(e.name) !== null ? [join(at, e.name)] : []);
}

describe('writeJsonAtomic', () => {
  it('leaves a complete file whenever its writer is killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const file = join(dir, 'results.json');
    // Each write is 2 MB, so a kill lands mid-write most of the time.
    const writer = `
      const { writeJsonAtomic } = await import(${JSON.stringify(dist('schema/atomic-write.js'))});
      const cells = Array.from({ length: 20000 }, (_, i) => ({ i, pad: 'x'.repeat(80) }));
      for (let n = 1; ; n++) writeJsonAtomic(${JSON.stringify(file)}, { n, cells });
    `;
    for (let round = 0; round < 8; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', writer], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 150 + round * 37));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const data = JSON.parse(readFileSync(file, 'utf8')) as { n: number; cells: unknown[] };
      expect(data.cells).toHaveLength(20000);
    }
  });

  it('the next run removes the temporary files of writers that were killed, and keeps those of writers still running', async () => {
    const out = mkdtempSync(join(tmpdir(), 'atomic-temps-'));
    // A writer killed in the middle of writing, as a run killed during its results file: its
    // temporary file is open and part-written when the process dies.
    const killed = `
      const { writeJsonAtomic } = await import(${JSON.stringify(dist('schema/atomic-write.js'))});
      writeJsonAtomic(${JSON.stringify(join(out, 'run-a', 'results.json'))}, { cells: [{ toJSON() { process.kill(process.pid, 'SIGKILL'); } }] });
    `;
    const k = spawnSync(process.execPath, ['--input-type=module', '-e', killed]);
    expect(k.signal).toBe('SIGKILL');
    // Another writer's, deeper (bench:ci's base side), whose pid is now some other, later process:
    // written an hour ago, by a process with the number of one that started just now.
    const later = spawn('sleep', ['30'], { stdio: 'ignore' });
    mkdirSync(join(out, 'run-b', 'base'), { recursive: true });
    const reused = join(out, 'run-b', 'base', `.${later.pid}.${Date.now()}.tmp`);
    writeFileSync(reused, '{');
    utimesSync(reused, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    // And one whose writer is this very process, writing as far as anyone can tell: it stays.
    const live = join(out, 'run-c', `.${process.pid}.${Date.now()}.tmp`);
    mkdirSync(join(out, 'run-c'));
    writeFileSync(live, '{');
    try {
      expect(temps(out).sort()).toEqual([expect.stringMatching(/^run-a\/\.\d+\.\d+\.tmp$/), expect.stringMatching(/^run-b\/base\/\./), expect.stringMatching(/^run-c\//)]);
      const r = spawnSync(process.execPath, [dist('scripts/bench.js'), '--scenarios', 'steady', '--models', 'async', '--protocols', 'echo', '--concurrency', '1', '--duration', '0.2s', '--warmup', '0s', '--out', out], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(`removed 2 temporary file(s) that killed runs left in ${out}`);
      expect(temps(out)).toEqual([join('run-c', live.split('/').at(-1)!)]);
      expect(existsSync(live)).toBe(true);
    } finally {
      later.kill('SIGKILL');
    }
  });
});
