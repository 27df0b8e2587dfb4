// Finding what a test started: every process whose environment carries a tag the test set.
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of the processes on the machine whose environment carries `tag` (children inherit it). */
export function tagged(tag: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(tag)) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
