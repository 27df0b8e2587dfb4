// The open-loop schedule (wrk2's scheme): operation m of the whole run is due at t0 + m / rate and
// belongs to connection m mod C, so each connection's k-th operation is due at t0 + (k·C + g) / rate,
// g being its global index. A thread walks the part of that sequence that is its own, in order of
// due time: op k of each of its connections in turn, then op k + 1.
//
// Several agents on several hosts share one schedule by interleaving: agent i of N walks its own
// operations m' = 0, 1, 2... as the global operations m' * N + i (stride N, phase i), so together
// they send the one schedule a single client would, not N independent ones.
//
// A wake-up is the open loop's dearest part: on this VM a timed epoll wait that sleeps costs a timer
// armed, a context switch and an interrupt, several µs, against about 7 µs for a whole request in the
// closed loop. Waking once per scheduled send made open loop cost 3× the closed loop per request at a
// quarter of its rate. So the loop sleeps at least SEND_BATCH_US and each wake-up sends every
// operation due by then, on every connection: a send leaves at most that late (plus the kernel's
// wake-up latency), and each one's lateness is recorded as the client's send lag.
//
// Answers wake it as well, and a send that leaves on its own wakes the server for it and later
// the client for its answer: about one wake-up per request on each side, which kept the open loop
// at 1.3× the closed loop's CPU per request at three quarters of its rate (the client saturated
// there). So a thread that gets busy gathers its sends: after a batch leaves, the next waits
// batchUs, however many answers wake the thread meanwhile (each is still timed when it arrives).
// batchUs starts at 0 and moves along BATCH_STEPS_US in warm-up, a step up each ADAPT_MS the
// thread used more than BUSY_HIGH of its CPU, a step down below BUSY_LOW; the window keeps the one
// warm-up ended with, so all its sends follow one rule, and the wait is in each send's lag (at
// most batchUs plus the shortest sleep). BUSY_LOW is half of BUSY_HIGH because one step can
// change the cost by up to half (HTTP, 64 connections, against epoll, three runs each: at 50% of
// the closed loop's rate 12.3–12.4 µs per request at 0, 12.7 at 25 µs, 10.0–10.4 at 50; at 75%,
// 9.9–10.1, 8.0–9.5 and 6.3–9.3), and a step down that lands above BUSY_HIGH would only climb back.

/** The shortest timed sleep of an open-loop thread, µs: the most a send waits for its batch. */
export const SEND_BATCH_US = 50;
/** The longest, µs: the loop also scans for timeouts and watches the phases. */
const MAX_SLEEP_US = 5000;
/**
 * The gaps a busy thread may leave between batches of sends, µs. Not 100: against 50 it saved about
 * 5% of the client's CPU per request at 75–90% of the closed loop's rate and added 30–110 µs to p50.
 */
export const BATCH_STEPS_US = [0, 25, 50];
/** How often warm-up reconsiders the gap, ms, and the thread's CPU share that moves it up or down. */
export const ADAPT_MS = 25;
export const BUSY_HIGH = 0.8;
export const BUSY_LOW = 0.4;

export class OpenLoopSchedule {
  private t0 = Infinity;
  /** The next operation of this thread's schedule is op k of local connection j. */
  private k = 0;
  private j = 0;
  /** When that operation is due, ms; Infinity before start(). */
  nextDue = Infinity;
  /** No send leaves before this, ms: the last batch's time plus batchUs. */
  private gate = -Infinity;
  private step = 0;

  constructor(
    /** Operations per second over all threads. */
    private readonly rate: number,
    /** Connections over all threads (C). */
    private readonly totalConnections: number,
    /** The global index of this thread's local connection 0. */
    private readonly first: number,
    /** This thread's connections. */
    private readonly connections: number,
    /** Agents sharing the schedule (N); 1 alone. */
    private readonly stride = 1,
    /** This agent's place among them (i). */
    private readonly phase = 0,
    /** A gap between batches fixed by --send-batch, µs; null: adapt() chooses it. */
    private readonly fixedBatchUs: number | null = null,
  ) {}

  /** The schedule counts from t0 (ms): its first operation is due then. */
  start(t0: number): void {
    this.t0 = t0;
    this.k = 0;
    this.j = 0;
    this.nextDue = this.dueTime(0, 0);
    this.gate = -Infinity;
  }

  /** The gap between batches of sends, µs (BATCH_STEPS_US). */
  get batchUs(): number {
    return this.fixedBatchUs ?? BATCH_STEPS_US[this.step]!;
  }

  /** A batch left at `now` (ms): the next one waits batchUs. */
  batchSent(now: number): void {
    this.gate = now + this.batchUs / 1000;
  }

  /** The thread used `busy` of its CPU (0–1) over the last ADAPT_MS of warm-up: moves batchUs a step. */
  adapt(busy: number): void {
    if (busy > BUSY_HIGH && this.step < BATCH_STEPS_US.length - 1) this.step++;
    else if (busy < BUSY_LOW && this.step > 0) this.step--;
  }

  /** When op k of local connection j is due, ms. */
  dueTime(j: number, k: number): number {
    return this.t0 + (((k * this.totalConnections + this.first + j) * this.stride + this.phase) * 1000) / this.rate;
  }

  /**
   * How long the loop may sleep at `now` (ms) before the next operation may leave, µs: never less
   * than SEND_BATCH_US, so that operations due close together leave on one wake-up instead of one each.
   */
  sleepUs(now: number): number {
    if (this.nextDue === Infinity) return MAX_SLEEP_US;
    return Math.min(MAX_SLEEP_US, Math.max(SEND_BATCH_US, (Math.max(this.nextDue, this.gate) - now) * 1000));
  }

  /** The local connection of the next operation if it is due by `now` and may leave (and moves past it), else -1. */
  takeDue(now: number): number {
    if (this.nextDue > now || this.gate > now) return -1;
    const j = this.j;
    if (++this.j === this.connections) {
      this.j = 0;
      this.k++;
    }
    this.nextDue = this.dueTime(this.j, this.k);
    return j;
  }
}
