// What one load thread counts inside the measured window [start, end): correct operations and
// their latency (corrected, from when each was due, and uncorrected, from when it was sent), the
// timeline (a count and a histogram per interval of the window), connect times, bytes, reconnects
// and errors by kind, and in open loop the client's own send lag (how late each request left
// against its intended time). Everything outside the window is ignored here, so the loop can report every
// event and leave the counting rule to one place.
import { encodeHistogram, latencyHistogram, recordLagUs, recordUs } from './latency.js';

/** Seconds per point of a window's timeline: one second from 5 s windows up, else a tenth of the window. */
export function timelineIntervalS(durationS: number): number {
  return durationS >= 5 ? 1 : durationS / 10;
}

export function timelineSlots(durationS: number): number {
  return Math.ceil(durationS / timelineIntervalS(durationS) - 1e-9);
}

type Histogram = ReturnType<typeof latencyHistogram>;

/**
 * What response() records into: the window's own, or warm-up's copy that is thrown away, by the
 * very same code. Warm-up once recorded into other objects through another branch: V8 then
 * optimised response() for that branch, and when the window opened the first answers deoptimised
 * it, so every window's first tenth ran at about 0.84 of the rest (with or without the harness,
 * whatever the warm-up). One path for both, on objects of one shape, keeps the compiled code.
 */
class Tally {
  ops = 0;
  readonly errors: Record<string, number> = {};
  /** Made whole up front: the window's first read of a slot not yet there deoptimised response() ("out of bounds"). */
  readonly timelineOps: number[];
  readonly timelineHist: Histogram[];
  readonly latency = latencyHistogram();
  readonly uncorrected = latencyHistogram();
  readonly connect = latencyHistogram();
  constructor(
    /** The last slot: the window's last interval, or warm-up's one scratch slot. */
    readonly lastSlot: number,
  ) {
    this.timelineOps = new Array<number>(lastSlot + 1).fill(0);
    this.timelineHist = Array.from({ length: lastSlot + 1 }, () => latencyHistogram());
  }
}

export class WindowRecorder {
  /**
   * The window [start, end), ms; Infinity until open(). In a typed array, not fields: V8 takes a
   * field written once for a constant, and the write at the window's opening then deoptimised
   * every function that read it, in the window's first tenth.
   */
  private readonly times = new Float64Array([Infinity, Infinity]);
  get start(): number {
    return this.times[0]!;
  }
  get end(): number {
    return this.times[1]!;
  }
  /** Correct operations at any time, warm-up included: what the coordinator watches to see the load settle. */
  completed = 0;
  /**
   * In a typed array: a field holding a small integer changes representation when it passes 2^31,
   * which a 64 KiB payload's byte count does 0.7 s into the window, and that deoptimised received()
   * and the answer's path through it (a 20% dip in one interval).
   */
  private readonly byteCount = new Float64Array(1);
  get bytes(): number {
    return this.byteCount[0]!;
  }
  reconnects = 0;
  /** Requests unanswered (or due and unsent) when the window closed. */
  outstanding = 0;
  private readonly live: Tally;
  private readonly rehearsal = new Tally(0);
  readonly errors: Record<string, number>;
  readonly latency: Histogram;
  readonly uncorrected: Histogram;
  readonly connect: Histogram;
  /** Open loop: how late each request sent in the window left against its due time, µs (0: on time). */
  readonly sendLag = latencyHistogram();
  private readonly intervalMs: number;

  constructor(
    /** The window's length, seconds: sets the timeline's interval. */
    private readonly durationS: number,
    /** Open loop keeps an uncorrected histogram of its own; closed loop's is the corrected one. */
    private readonly openLoop: boolean,
  ) {
    this.intervalMs = timelineIntervalS(durationS) * 1000;
    this.live = new Tally(timelineSlots(durationS) - 1);
    ({ errors: this.errors, latency: this.latency, uncorrected: this.uncorrected, connect: this.connect } = this.live);
  }

  /** Correct operations inside the window. */
  get ops(): number {
    return this.live.ops;
  }

  open(start: number, end: number): void {
    this.times[0] = start;
    this.times[1] = end;
  }

  // Every load and comparison these make runs before any branch on it, in warm-up as in the
  // window: one first reached only once the window had opened (the `t < end` of `t >= start &&
  // t < end`) had no type feedback, and deoptimised the hot functions right there
  // (--trace-deopt-verbose named window.js's `this.end`, then its `<`).
  contains(t: number): boolean {
    const started = t >= this.times[0]!;
    const before = t < this.times[1]!;
    return started && before;
  }

  /** An error of kind `code` at t. */
  error(t: number, code: string): void {
    if (this.contains(t)) this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** A response at t to a request due at dueAt and sent at sentAt (ms): an operation, or an error of kind `err`. */
  response(t: number, err: string | null, dueAt: number, sentAt: number): void {
    if (err === null) this.completed++;
    const start = this.times[0]!;
    const early = t < start;
    const late = t >= this.times[1]!;
    const rehearsal = this.rehearsal;
    const live = this.live;
    const tally = early ? rehearsal : late ? null : live;
    if (tally === null) return;
    if (err !== null) {
      tally.errors[err] = (tally.errors[err] ?? 0) + 1;
      return;
    }
    tally.ops++;
    const us = (t - dueAt) * 1000;
    recordUs(tally.latency, us);
    // Warm-up's times are before the window (negative slots): its one scratch slot is 0.
    const slot = Math.max(0, Math.min(tally.lastSlot, Math.floor((t - start) / this.intervalMs)));
    tally.timelineOps[slot]! += 1;
    recordUs(tally.timelineHist[slot]!, us);
    if (this.openLoop) recordUs(tally.uncorrected, (t - sentAt) * 1000);
  }

  /**
   * Open loop: a request due at dueAt left at t. Its lateness is the client's share of the corrected
   * latency: a wake-up that came late, a batch that waited, a connection still busy with the answer before.
   */
  sent(t: number, dueAt: number): void {
    if (!this.openLoop) return;
    // Warm-up records into a histogram thrown away, by the same path (see Tally).
    const early = t < this.times[0]!;
    const late = t >= this.times[1]!;
    const scratch = this.rehearsal.uncorrected;
    const lag = this.sendLag;
    const h = early ? scratch : late ? null : lag;
    if (h !== null) recordLagUs(h, (t - dueAt) * 1000);
  }

  /** A connection opened at connectAt was first answered at t; `always` counts it outside the window too. */
  connected(t: number, connectAt: number, always: boolean): void {
    // Warm-up's reopened connections record too, into a histogram thrown away (see Tally).
    const h = always || this.contains(t) ? this.connect : this.rehearsal.connect;
    recordUs(h, (t - connectAt) * 1000);
  }

  received(t: number, bytes: number): void {
    // Always the same addition, so that the window's first bytes run compiled code (see Tally).
    this.byteCount[0]! += this.contains(t) ? bytes : 0;
  }

  reconnected(t: number): void {
    // No branch: churn's first reconnect in the window once deoptimised the answer's whole path
    // (onResponse inlined it), and the window's first 100 ms ran at 0.85 of the rest.
    this.reconnects += this.contains(t) ? 1 : 0;
  }

  /** A request due at dueAt went unanswered until t, when it was given up: its latency is its age then. */
  timedOut(t: number, dueAt: number): void {
    if (this.contains(t)) recordUs(this.latency, (t - dueAt) * 1000);
  }

  /** A request still in flight when the window closed, at its age then; false when it was due after. */
  unanswered(dueAt: number, sentAt: number): boolean {
    if (dueAt >= this.end) return false;
    this.outstanding++;
    recordUs(this.latency, (this.end - dueAt) * 1000);
    if (this.openLoop) recordUs(this.uncorrected, (this.end - sentAt) * 1000);
    return true;
  }

  /** An operation due at dueAt and not sent when the window closed, at its age then; false when due after. */
  unsent(dueAt: number): boolean {
    if (dueAt >= this.end) return false;
    this.outstanding++;
    recordUs(this.latency, (this.end - dueAt) * 1000);
    // Still unsent: at least this late, as a stalled client's lag must show.
    if (this.openLoop) recordLagUs(this.sendLag, (this.end - dueAt) * 1000);
    return true;
  }

  /** Intervals of the timeline already handed out while the window runs (an agent streams them). */
  private streamed = 0;

  /** Whether an interval not yet handed out has closed by `now`: cheap enough for every turn of the loop. */
  slotClosed(now: number): boolean {
    return now >= this.start + (this.streamed + 1) * this.intervalMs && this.streamed < timelineSlots(this.durationS);
  }

  /**
   * The intervals closed by `now` (all of them once the window has closed) and not handed out yet:
   * no later answer can fall in them, since answers are timed on the loop's monotonic clock.
   */
  takeClosedSlots(now: number): { k: number; ops: number; latency: string }[] {
    const slots = timelineSlots(this.durationS);
    const upto = now >= this.end ? slots : Math.min(slots, Math.floor((now - this.start) / this.intervalMs));
    const out: { k: number; ops: number; latency: string }[] = [];
    for (; this.streamed < upto; this.streamed++) {
      const k = this.streamed;
      out.push({ k, ops: this.live.timelineOps[k] ?? 0, latency: encodeHistogram(this.live.timelineHist[k] ?? latencyHistogram()) });
    }
    return out;
  }

  /** The timeline: correct operations per interval of the window and their latency histograms, encoded. */
  timeline(): { ops: number[]; latency: string[] } {
    const slots = timelineSlots(this.durationS);
    return {
      ops: Array.from({ length: slots }, (_, k) => this.live.timelineOps[k] ?? 0),
      latency: Array.from({ length: slots }, (_, k) => encodeHistogram(this.live.timelineHist[k] ?? latencyHistogram())),
    };
  }
}
