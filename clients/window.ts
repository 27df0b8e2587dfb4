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

export class WindowRecorder {
  /** The window, ms; [Infinity, Infinity) until open(). */
  start = Infinity;
  end = Infinity;
  ops = 0;
  /** Correct operations at any time, warm-up included: what the coordinator watches to see the load settle. */
  completed = 0;
  bytes = 0;
  reconnects = 0;
  /** Requests unanswered (or due and unsent) when the window closed. */
  outstanding = 0;
  readonly errors: Record<string, number> = {};
  readonly latency = latencyHistogram();
  readonly uncorrected = latencyHistogram();
  readonly connect = latencyHistogram();
  /** Open loop: how late each request sent in the window left against its due time, µs (0: on time). */
  readonly sendLag = latencyHistogram();
  private readonly intervalMs: number;
  private readonly timelineOps: number[] = [];
  private readonly timelineHist: Histogram[] = [];

  constructor(
    /** The window's length, seconds: sets the timeline's interval. */
    private readonly durationS: number,
    /** Open loop keeps an uncorrected histogram of its own; closed loop's is the corrected one. */
    private readonly openLoop: boolean,
  ) {
    this.intervalMs = timelineIntervalS(durationS) * 1000;
  }

  open(start: number, end: number): void {
    this.start = start;
    this.end = end;
  }

  contains(t: number): boolean {
    return t >= this.start && t < this.end;
  }

  /** An error of kind `code` at t. */
  error(t: number, code: string): void {
    if (this.contains(t)) this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** A response at t to a request due at dueAt and sent at sentAt (ms): an operation, or an error of kind `err`. */
  response(t: number, err: string | null, dueAt: number, sentAt: number): void {
    if (err === null) this.completed++;
    if (!this.contains(t)) {
      if (err === null && t < this.start) this.rehearse(t, dueAt, sentAt);
      return;
    }
    if (err !== null) {
      this.errors[err] = (this.errors[err] ?? 0) + 1;
      return;
    }
    this.ops++;
    const us = (t - dueAt) * 1000;
    recordUs(this.latency, us);
    const slot = Math.floor((t - this.start) / this.intervalMs);
    this.timelineOps[slot] = (this.timelineOps[slot] ?? 0) + 1;
    recordUs((this.timelineHist[slot] ??= latencyHistogram()), us);
    if (this.openLoop) recordUs(this.uncorrected, (t - sentAt) * 1000);
  }

  /**
   * Warm-up does the window's work into histograms that are thrown away. Without it the recording
   * path runs for the first time when the window opens, and V8 compiles it then: the window's
   * first tenth ran at half the rate of the rest, a ramp of the client's own, after any warm-up.
   */
  private rehearse(t: number, dueAt: number, sentAt: number): void {
    const us = (t - dueAt) * 1000;
    recordUs(this.scratch, us);
    recordUs(this.scratchSlot, us);
    const slot = Math.floor(t / this.intervalMs) & 7;
    this.scratchOps[slot] = (this.scratchOps[slot] ?? 0) + 1;
    if (this.openLoop) recordUs(this.scratch, (t - sentAt) * 1000);
  }

  private readonly scratch = latencyHistogram();
  private readonly scratchSlot = latencyHistogram();
  private readonly scratchOps: number[] = [];

  /**
   * Open loop: a request due at dueAt left at t. Its lateness is the client's share of the corrected
   * latency: a wake-up that came late, a batch that waited, a connection still busy with the answer before.
   */
  sent(t: number, dueAt: number): void {
    if (!this.openLoop) return;
    if (this.contains(t)) recordLagUs(this.sendLag, (t - dueAt) * 1000);
    else if (t < this.start) recordLagUs(this.scratch, (t - dueAt) * 1000); // warm-up compiles this path too (rehearse)
  }

  /** A connection opened at connectAt was first answered at t; `always` counts it outside the window too. */
  connected(t: number, connectAt: number, always: boolean): void {
    if (always || this.contains(t)) recordUs(this.connect, (t - connectAt) * 1000);
  }

  received(t: number, bytes: number): void {
    if (this.contains(t)) this.bytes += bytes;
  }

  reconnected(t: number): void {
    if (this.contains(t)) this.reconnects++;
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
      out.push({ k, ops: this.timelineOps[k] ?? 0, latency: encodeHistogram(this.timelineHist[k] ?? latencyHistogram()) });
    }
    return out;
  }

  /** The timeline: correct operations per interval of the window and their latency histograms, encoded. */
  timeline(): { ops: number[]; latency: string[] } {
    const slots = timelineSlots(this.durationS);
    return {
      ops: Array.from({ length: slots }, (_, k) => this.timelineOps[k] ?? 0),
      latency: Array.from({ length: slots }, (_, k) => encodeHistogram(this.timelineHist[k] ?? latencyHistogram())),
    };
  }
}
