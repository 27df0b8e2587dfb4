// Whether a program can be run by name: the PATH walk a shell's `command -v` does, without a shell,
// so no name is ever read as shell syntax.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The full path `name` runs as (a name with a slash is taken as a path), or null when there is none. */
function findOnPath(name: string, path = process.env.PATH ?? ''): string | null {
  if (name === '') return null;
  if (name.includes('/')) return executable(name) ? name : null;
  for (const dir of path.split(delimiter)) {
    const full = join(dir === '' ? '.' : dir, name);
    if (executable(full)) return full;
  }
  return null;
}

export function onPath(name: string): boolean {
  return findOnPath(name) !== null;
}
