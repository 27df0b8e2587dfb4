// What every entry that measures does before it starts anything: hold the machine's run lock, end
// the process groups an earlier run left behind, and end every group it starts if it is stopped.
import { acquireRunLock, endOrphans, type RunLock } from './guard.js';
import { killAllGroups } from './processes.js';

export interface EntryOptions {
  /** The entry's name in its messages, e.g. `bench:ci`; the lock names it as `npm run <name>`. */
  name: string;
  /** Where its messages go (one line each). */
  say: (line: string) => void;
  /** Said after the orphan count, e.g. `that did not end them`. */
  orphanNote?: string;
  /** The line said on SIGINT or SIGTERM after every group is ended, or null for none; exit status 130 follows. */
  interrupted?: (signal: NodeJS.Signals) => string | null;
}

export function beginMeasuring(o: EntryOptions): RunLock {
  const lock = acquireRunLock(`npm run ${o.name}`);
  for (const e of endOrphans()) o.say(`${o.name}: ended ${e.groups} process group(s) left running by an earlier run (pid ${e.pid})${o.orphanNote ? ` ${o.orphanNote}` : ''}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAllGroups();
      const line = o.interrupted?.(signal) ?? null;
      if (line !== null) o.say(line);
      process.exit(130);
    });
  }
  return lock;
}
