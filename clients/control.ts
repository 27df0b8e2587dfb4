// The phases a run's threads share: one SharedArrayBuffer written by the coordinator (start of the
// warm-up, the window once the load has settled) and by each thread (connections answered so far,
// correct operations so far), read by all of them on one time line, so every thread counts exactly
// the same window.

export const Phase = { Connect: 0, Run: 1, Abort: 2 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

const T0 = 0, M_START = 1, M_END = 2, SERVED_AT = 3;
/** In the Int32 part after the served counts: 1 once the window's times are written. */
const WINDOW_SET = 0;

export class Control {
  private readonly ctl: Int32Array;
  private readonly times64: Float64Array;
  /** Correct operations each thread has completed so far, warm-up included (plain stores: the coordinator only samples them). */
  private readonly completed: Float64Array;
  private readonly flags: Int32Array;
  private readonly threads: number;
  /** performance.now() of this thread + offset = CLOCK_MONOTONIC in ms, the same in every thread. */
  private readonly offset: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    const threads = (buffer.byteLength - 8 * SERVED_AT - 8) / 20; // the layout of create()
    this.threads = threads;
    this.times64 = new Float64Array(buffer, 0, SERVED_AT + threads);
    this.completed = new Float64Array(buffer, 8 * (SERVED_AT + threads), threads);
    this.ctl = new Int32Array(buffer, 8 * (SERVED_AT + 2 * threads), 1 + threads);
    this.flags = new Int32Array(buffer, 8 * (SERVED_AT + 2 * threads) + 4 * (1 + threads), 1);
    this.offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  }

  static create(threads: number): Control {
    return new Control(new SharedArrayBuffer(8 * (SERVED_AT + 2 * threads) + 4 * (1 + threads) + 4));
  }

  now(): number {
    return performance.now() + this.offset;
  }

  phase(): Phase {
    return Atomics.load(this.ctl, 0) as Phase;
  }

  /** Thread `thread` has had `count` connections answered, the last at `at`. */
  served(thread: number, count: number, at: number): void {
    this.times64[SERVED_AT + thread] = at;
    Atomics.store(this.ctl, 1 + thread, count);
  }

  servedTotal(): number {
    let sum = 0;
    for (let t = 1; t < this.ctl.length; t++) sum += Atomics.load(this.ctl, t);
    return sum;
  }

  lastServedAt(): number {
    let last = -Infinity;
    for (let t = SERVED_AT; t < this.times64.length; t++) last = Math.max(last, this.times64[t]!);
    return last;
  }

  /** Thread `thread` has completed `ops` correct operations so far. */
  progress(thread: number, ops: number): void {
    this.completed[thread] = ops;
  }

  completedTotal(): number {
    let sum = 0;
    for (let t = 0; t < this.threads; t++) sum += this.completed[t]!;
    return sum;
  }

  /** Load begins at t0 (the open-loop schedule's origin); the window comes later, by openWindow. */
  startLoad(t0: number): void {
    this.times64[T0] = t0;
    this.times64[M_START] = Infinity;
    this.times64[M_END] = Infinity;
    Atomics.store(this.ctl, 0, Phase.Run);
  }

  /** The window is [mStart, mEnd); threads see it once the flag is set, after the times. */
  openWindow(mStart: number, mEnd: number): void {
    this.times64[M_START] = mStart;
    this.times64[M_END] = mEnd;
    Atomics.store(this.flags, WINDOW_SET, 1);
  }

  windowSet(): boolean {
    return Atomics.load(this.flags, WINDOW_SET) === 1;
  }

  abort(): void {
    Atomics.store(this.ctl, 0, Phase.Abort);
  }

  times(): { t0: number; mStart: number; mEnd: number } {
    return { t0: this.times64[T0]!, mStart: this.times64[M_START]!, mEnd: this.times64[M_END]! };
  }
}
