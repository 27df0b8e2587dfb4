// Where the compiled entry points live, whether this module runs from dist/ or from source (tests).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (no package.json above harness/)');
    dir = up;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();

/** Path of a compiled entry, e.g. dist('servers/main.js'). */
export function dist(rel: string): string {
  return join(PROJECT_ROOT, 'dist', rel);
}
