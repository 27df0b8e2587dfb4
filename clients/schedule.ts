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

/** The shortest timed sleep of an open-loop thread, µs: the most a send waits for its batch. */
export const SEND_BATCH_US = 50;
/** The longest, µs: the loop also scans for timeouts and watches the phases. */
const MAX_SLEEP_US = 5000;

export class OpenLoopSchedule {
  private t0 = Infinity;
  /** The next operation of this thread's schedule is op k of local connection j. */
  private k = 0;
  private j = 0;
  /** When that operation is due, ms; Infinity before start(). */
  nextDue = Infinity;

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
  ) {}

  /** The schedule counts from t0 (ms): its first operation is due then. */
  start(t0: number): void {
    this.t0 = t0;
    this.k = 0;
    this.j = 0;
    this.nextDue = this.dueTime(0, 0);
  }

  /** When op k of local connection j is due, ms. */
  dueTime(j: number, k: number): number {
    return this.t0 + (((k * this.totalConnections + this.first + j) * this.stride + this.phase) * 1000) / this.rate;
  }

  /**
   * How long the loop may sleep at `now` (ms) before the next operation is due, µs: never less than
   * SEND_BATCH_US, so that operations due close together leave on one wake-up instead of one each.
   */
  sleepUs(now: number): number {
    if (this.nextDue === Infinity) return MAX_SLEEP_US;
    return Math.min(MAX_SLEEP_US, Math.max(SEND_BATCH_US, (this.nextDue - now) * 1000));
  }

  /** The local connection of the next operation if it is due by `now` (and moves past it), else -1. */
  takeDue(now: number): number {
    if (this.nextDue > now) return -1;
    const j = this.j;
    if (++this.j === this.connections) {
      this.j = 0;
      this.k++;
    }
    this.nextDue = this.dueTime(this.j, this.k);
    return j;
  }
}
