// Which build a checkout holds: one hash over every compiled file's path and bytes. A host runs a
// plan only with the very build the harness runs (the same commit could hold a stale dist/).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function files(dir: string, rel = ''): string[] {
  let entries;
  try {
    entries = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return path === 'test' ? [] : files(dir, path); // dist/test: the tests, never run on a host
    return e.name.endsWith('.js') ? [path] : [];
  });
}

/** sha256 over dist/**.js (tests left out) of the project at `root`, first 16 hex digits; null without a dist/. */
export function buildFingerprint(root: string): string | null {
  const all = files(join(root, 'dist')).sort();
  if (all.length === 0) return null;
  const h = createHash('sha256');
  for (const f of all) {
    h.update(f + '\0');
    h.update(readFileSync(join(root, 'dist', f)));
  }
  return h.digest('hex').slice(0, 16);
}
