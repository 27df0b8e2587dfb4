import { describe, expect, it } from 'vitest';
import { BackendPool, NEW_CONNECTION, poolCap, QUEUED } from '../../servers/machinery/backend-pool.js';
import { checkRows } from '../../servers/machinery/backend-pg.js';
import { randomNumberOf } from '../../protocols/backend-session.js';
import { answerFor, ANSWER_BYTES, checkAnswer, QUERY_BYTES, queryBytes } from '../../protocols/service.js';
import { burn, calibrate, parseWork, workArg } from '../../schema/work.js';

describe('work', () => {
  it('round-trips every kind through the command line and refuses anything else, naming the flag', () => {
    for (const w of [{ kind: 'none' }, { kind: 'io-wait', backend: 'service', backendHost: '10.0.0.3', backendPort: 7000, connections: 'per-request', pool: 0 }, { kind: 'cpu', iterations: 1234 }] as const) {
      expect(parseWork(workArg(w))).toEqual(w);
    }
    expect(parseWork(undefined)).toEqual({ kind: 'none' });
    // A spec from before --db-host: its backend was on loopback.
    expect(parseWork('{"kind":"io-wait","backend":"service","backendPort":7000,"connections":"pooled","pool":4}')).toMatchObject({ backendHost: '127.0.0.1' });
    expect(() => parseWork('{"kind":"io-wait","backendHost":"db.lab","backendPort":1,"connections":"pooled"}')).toThrow(/^--work: expected/);
    expect(() => parseWork('{"kind":"cpu","iterations":-1}')).toThrow(/^--work: expected/);
    expect(() => parseWork('{"kind":"io-wait","backendPort":1,"connections":"shared"}')).toThrow(/^--work: expected/);
    expect(() => parseWork('nope')).toThrow('--work: not JSON: nope');
  });

  // Cost is counted, never timed: burn(n) must be exactly n xorshift32 rounds, which its result shows
  // (the sequence does not repeat within 2^32 - 1 rounds), and the same n the same result.
  it('burn is deterministic and its cost grows with the iterations', () => {
    const afterRounds: number[] = [];
    for (let x = 1, n = 0; n <= 5000; n++) {
      afterRounds.push(x);
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    for (const n of [0, 1, 2, 3, 1000, 4999, 5000]) expect(burn(n), `burn(${n})`).toBe(afterRounds[n]);
    expect(new Set(afterRounds).size).toBe(afterRounds.length);
    burn(77);
    expect(burn(1000)).toBe(afterRounds[1000]); // whatever ran before
  });

  it('calibrate takes the median batch, so one stall does not set the count, and twice the work is twice the iterations', () => {
    // A clock that says each 2,000,000-iteration batch took 1 ms (0.5 ns each), one of them 50 ms.
    const clock = (stallAt: number): (() => number) => {
      let t = 0;
      let reads = 0;
      return () => {
        const batch = Math.floor(reads++ / 2);
        if (reads % 2 === 0) t += batch === stallAt ? 50 : 1;
        return t;
      };
    };
    expect(calibrate(200, clock(-1))).toEqual({ iterations: 400_000, nsPerIteration: 0.5 });
    expect(calibrate(200, clock(2))).toEqual({ iterations: 400_000, nsPerIteration: 0.5 });
    expect(calibrate(400, clock(5)).iterations).toBe(800_000);
    expect(calibrate(0.0001, clock(-1)).iterations).toBe(1);
  });

  it('the backend wire format: fixed sizes, the answer names its query, a wrong one is caught', () => {
    const q = queryBytes(0xabc);
    expect(q.toString()).toBe('Q00000abc\n');
    expect(q.length).toBe(QUERY_BYTES);
    const a = answerFor(q);
    expect(a.length).toBe(ANSWER_BYTES);
    expect(a.subarray(0, 9).toString()).toBe('A00000abc');
    expect(checkAnswer(q, a)).toBeNull();
    expect(checkAnswer(queryBytes(0xabd), a)).toBe('backend answered a different query');
    expect(checkAnswer(q, a.subarray(0, 63))).toBe('malformed backend answer');
  });
});

describe('the backend pool', () => {
  it('opens up to its cap, then queues first come first served; an answer hands its connection to the first waiter', () => {
    const pool = new BackendPool<string, string>(2);
    expect(pool.acquire('a')).toBe(NEW_CONNECTION);
    expect(pool.acquire('b')).toBe(NEW_CONNECTION);
    expect(pool.acquire('c')).toBe(QUEUED);
    expect(pool.acquire('d')).toBe(QUEUED);
    expect(pool.waiting).toBe(2);
    expect(pool.release('conn1')).toBe('c'); // c now queries on conn1
    expect(pool.release('conn2')).toBe('d');
    expect(pool.release('conn1')).toBeUndefined(); // nobody waits: idle
    expect(pool.acquire('e')).toBe('conn1');
    expect(pool.release('conn2')).toBeUndefined();
    expect(pool.release('conn1')).toBeUndefined();
    expect(pool.idleConnections()).toEqual(['conn2', 'conn1']);
    expect(pool.peak).toBe(2);
  });

  it('a connection lost (fault, end, per-request, a failed open) frees its place for the first waiter, which opens a new one', () => {
    const pool = new BackendPool<string, string>(1);
    expect(pool.acquire('a')).toBe(NEW_CONNECTION);
    expect(pool.acquire('b')).toBe(QUEUED);
    expect(pool.closed('conn1')).toBe('b'); // b opens a new one: still one open
    expect(pool.acquire('c')).toBe(QUEUED);
    expect(pool.closed()).toBe('c');
    expect(pool.closed()).toBeUndefined(); // now none open
    expect(pool.acquire('d')).toBe(NEW_CONNECTION);
    expect(pool.release('conn2')).toBeUndefined();
    expect(pool.closed('conn2')).toBeUndefined(); // an idle one the backend closed leaves the idle list
    expect(pool.idleConnections()).toEqual([]);
    expect(pool.acquire('e')).toBe(NEW_CONNECTION);
  });

  it('skips a waiter that left while it waited', () => {
    const gone = new Set(['b']);
    const pool = new BackendPool<string, string>(1, (w) => !gone.has(w));
    pool.acquire('a');
    pool.acquire('b');
    pool.acquire('c');
    expect(pool.release('conn')).toBe('c');
    expect(pool.release('conn')).toBeUndefined();
  });

  it('0 is no cap: every query without an idle connection opens one', () => {
    const pool = new BackendPool<number, number>(0);
    for (let i = 0; i < 100; i++) expect(pool.acquire(i)).toBe(NEW_CONNECTION);
    expect(pool.peak).toBe(100);
    expect(poolCap({ connections: 'pooled', pool: 4 })).toBe(4);
    expect(poolCap({ connections: 'per-request', pool: 4 })).toBe(0); // per-request ignores the pool
  });

  it('keeps its order through many waiters (the queue compacts without losing one)', () => {
    const pool = new BackendPool<string, number>(1);
    pool.acquire(-1);
    for (let i = 0; i < 5000; i++) expect(pool.acquire(i)).toBe(QUEUED);
    for (let i = 0; i < 5000; i++) expect(pool.release('conn')).toBe(i);
    expect(pool.release('conn')).toBeUndefined();
  });
});

describe('the pg driver checks its row as the codec does', () => {
  it('one row, its id, and the randomnumber recomputed from the id', () => {
    expect(checkRows(7, [{ id: 7, randomnumber: randomNumberOf(7) }])).toBeNull();
    expect(checkRows(7, [])).toBe('postgres: no row for id 7');
    expect(checkRows(7, [{ id: 7, randomnumber: randomNumberOf(7) }, { id: 7, randomnumber: randomNumberOf(7) }])).toBe('postgres: more than one row for id 7');
    expect(checkRows(7, [{ id: 8, randomnumber: randomNumberOf(8) }])).toBe('postgres: asked for row 7, got row 8');
    expect(checkRows(7, [{ id: 7, randomnumber: 1 }])).toBe(`postgres: row 7 has randomnumber 1, expected ${randomNumberOf(7)}`);
  });
});
