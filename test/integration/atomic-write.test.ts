// A results file is never seen half-written: a writer killed with SIGKILL at any moment leaves the
// previous complete file or the new one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dist } from '../../harness/paths.js';

describe('writeJsonAtomic', () => {
  it('leaves a complete file whenever its writer is killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const file = join(dir, 'results.json');
    // Each write is 2 MB, so a kill lands mid-write most of the time.
    const writer = `
      const { writeJsonAtomic } = await import(${JSON.stringify(dist('harness/results.js'))});
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
});
