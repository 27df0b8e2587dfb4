// The one-way doors, checked over every .ts file outside test/: each folder imports only the rooms
// its rule names, with no exceptions. servers/ and clients/ know the protocols, sys/ and schema/;
// the harness starts them as processes and never imports them; the report side reads results
// files through schema/ alone; schema/ is the contract and depends on nothing of ours; nothing
// imports an entry script.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/paths.js';

const SOURCE_ROOTS = ['schema', 'sys', 'protocols', 'servers', 'clients', 'harness', 'report', 'micro', 'scripts'];

/** What the files of each top-level folder may import, besides their own folder and packages. */
const ALLOWED: Record<string, readonly string[]> = {
  schema: [],
  sys: ['schema'],
  protocols: ['schema'],
  servers: ['protocols', 'sys', 'schema'],
  clients: ['protocols', 'sys', 'schema'],
  harness: ['protocols', 'sys', 'schema'],
  report: ['schema'],
  micro: ['protocols', 'sys', 'schema', 'harness'],
  scripts: ['schema', 'sys', 'protocols', 'harness', 'report', 'micro'],
};

interface Import {
  file: string;
  /** The imported file, relative to the project root. */
  target: string;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** Every relative import of the file: static, re-exports, dynamic imports and worker URLs. */
function importsOf(file: string, source: string): Import[] {
  const specs = [...source.matchAll(/(?:from |import\(|new URL\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => ({ file, target: normalize(join(dirname(file), s)) }));
}

function room(path: string): string {
  return path.split('/')[0]!;
}

/** The imports that break the rule, as "file -> target". */
function violations(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => {
      const from = room(i.file);
      const to = room(i.target);
      if (to === 'scripts') return true; // entries are run, never imported (not even by each other)
      if (from === to) return false;
      return !(ALLOWED[from] ?? []).includes(to);
    })
    .map((i) => `${i.file} -> ${i.target}`);
}

const ALL = SOURCE_ROOTS.flatMap(tsFiles).flatMap((f) => importsOf(f, readFileSync(join(PROJECT_ROOT, f), 'utf8')));

describe('layout', () => {
  it('reads every source folder', () => {
    const top = readdirSync(PROJECT_ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !['node_modules', 'dist', 'test', 'native', 'examples', 'docs', 'results'].includes(e.name) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .filter((d) => tsFiles(d).length > 0);
    expect(top.sort()).toEqual([...SOURCE_ROOTS].sort());
  });

  it('every folder imports only the rooms its rule names', () => {
    expect(violations(ALL)).toEqual([]);
  });

  it('servers/models/ holds the models and nothing else: one file per catalog entry, imported by no one', async () => {
    const { MODEL_NAMES } = await import('../../schema/catalog.js');
    const files = readdirSync(join(PROJECT_ROOT, 'servers/models')).map((f) => f.replace(/\.ts$/, ''));
    expect(files.sort()).toEqual([...MODEL_NAMES].sort());
    expect(ALL.filter((i) => i.target.startsWith('servers/models/')).map((i) => `${i.file} -> ${i.target}`)).toEqual([]);
  });

  it('the rule is no formality: one import across a door is caught', () => {
    const broken = [
      ...importsOf('report/charts.ts', "import { spawnServer } from '../harness/cell.js';"),
      ...importsOf('servers/models/epoll.ts', "import type { Plan } from '../../harness/plan.js';"),
      ...importsOf('harness/run.ts', "const m = await import('../servers/models/epoll.js');"),
      ...importsOf('clients/main.ts', "import { parseSeconds } from '../scripts/bench.js';"),
      ...importsOf('schema/results.ts', "import type { Plan } from '../harness/plan.js';"),
    ];
    expect(violations(broken)).toEqual([
      'report/charts.ts -> harness/cell.js',
      'servers/models/epoll.ts -> harness/plan.js',
      'harness/run.ts -> servers/models/epoll.js',
      'clients/main.ts -> scripts/bench.js',
      'schema/results.ts -> harness/plan.js',
    ]);
  });

  it('the protocol files do not import the session factory that imports them', () => {
    const bad = ALL.filter((i) => room(i.file) === 'protocols' && i.file !== 'protocols/session.ts' && i.target === 'protocols/session.js');
    expect(bad).toEqual([]);
  });
});
