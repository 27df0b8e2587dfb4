// How a raw-descriptor model learns which descriptors are ready: the one part that differs between
// busy-poll, select, poll and epoll. Apart from fd-loop.ts so that fd-loop.ts and fd-backend.ts,
// which both watch descriptors, need not import each other.

/** What a descriptor is watched for; NONE while a client waits on its backend query. */
export const NONE = 0, READ = 1, WRITE = 2;
export type WatchMode = typeof NONE | typeof READ | typeof WRITE;

/** How a model learns which descriptors are ready: the one part that differs between the models. */
export interface Readiness {
  /** Starts watching a new descriptor for reading; false when this mechanism cannot watch it. */
  add(fd: number): boolean;
  /** Watches fd for readability only, writability only, or nothing. */
  watch(fd: number, mode: WatchMode): void;
  /** Stops watching fd; called just before it is closed. */
  remove(fd: number): void;
  /**
   * Waits at most `timeoutMs` and calls `conns.ready(fd)` for every ready descriptor. Returns true
   * when the wait ended with nothing to do (timeout or signal): a good moment to yield.
   */
  turn(timeoutMs: number): boolean;
  /** Releases the mechanism's own descriptor, if it has one. */
  close(): void;
  /** The `limit` line's reason once add() has refused `refused` connections. */
  refusedReason?(refused: number): string;
}
