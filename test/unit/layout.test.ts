// The one-way flow, checked: the report side reads results files and imports nothing of the run
// side but the results schema; the run side never draws; the protocol code has no import cycle.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/paths.js';

function imports(dir: string): { file: string; from: string }[] {
  return readdirSync(join(PROJECT_ROOT, dir))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((file) => [...readFileSync(join(PROJECT_ROOT, dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => ({ file: `${dir}/${file}`, from: m[1]! })));
}

describe('layout', () => {
  it('report/ imports nothing of the run side but the results schema', () => {
    const bad = imports('report').filter((i) => /^\.\.\/(harness|clients|servers|scripts)\//.test(i.from));
    expect(bad).toEqual([]);
  });

  it('harness/ never draws: it imports only the reader from report/', () => {
    const bad = imports('harness').filter((i) => i.from.startsWith('../report/'));
    expect(bad).toEqual([]);
  });

  it('the protocol files do not import the session factory that imports them', () => {
    const bad = imports('protocols').filter((i) => i.file !== 'protocols/session.ts' && i.from === './session.js');
    expect(bad).toEqual([]);
  });
});
