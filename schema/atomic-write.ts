// Every file the project writes (results, micro.json, charts, reports, comparisons) is written
// whole or not at all, by the one writer here; its temporary files carry the writer's pid in their
// name, which is how the next run knows a killed writer's leftovers (harness/guard.ts).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Write via a temporary file, flushed to disk, then renamed over the old one: a reader, a kill or
 * a power cut sees the previous complete file or the new one, never half of either.
 */
export function writeFileAtomic(path: string, data: string | Buffer): void {
  writeAtomic(path, () => data);
}

/** A results file (or any JSON) the same way, indented as every results file is. */
export function writeJsonAtomic(path: string, data: unknown): void {
  writeAtomic(path, () => JSON.stringify(data, null, 2) + '\n');
}

// The temporary file exists before the data is made: a writer killed while it serialises leaves
// a file the next run knows by its name.
function writeAtomic(path: string, produce: () => string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`); // the name tempFileWriter reads
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, produce());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * The writer's pid in the name of one of writeFileAtomic's temporary files (`.<pid>.<ms>.tmp`), or
 * null for any other name. A writer killed between writing and renaming leaves its file; the next
 * run removes it once that pid no longer runs (harness/guard.ts removeStaleTemps).
 */
export function tempFileWriter(name: string): number | null {
  const m = /^\.(\d+)\.\d+\.tmp$/.exec(name);
  return m ? Number(m[1]) : null;
}
