import { describe, expect, it } from 'vitest';
import { CLOSED, ConnectionTable, OPEN } from '../../clients/connections.js';
import { exchangesFor } from '../helpers/exchanges.js';

describe('connection table', () => {
  it('keeps each connection’s requests in flight as a ring, answered oldest first', () => {
    const t = new ConnectionTable(2, 3);
    expect([t.claim(1, 10, 9), t.claim(1, 11, 10)]).toEqual([3, 4]);
    expect(t.release(1)).toBe(3);
    expect([t.claim(1, 12, 11), t.claim(1, 13, 12)]).toEqual([5, 3]); // wraps around its own 3 slots
    expect([t.oldest(1), t.slotOf(1, 1), t.slotOf(1, 2)]).toEqual([4, 5, 3]);
    expect([t.sentAt[3], t.dueAt[3]]).toEqual([13, 12]);
    expect([t.inflight[1], t.sent[1], t.inflight[0], t.sent[0]]).toEqual([3, 4, 0, 0]);
  });

  it('gives a closed connection’s unanswered operations back to the schedule', () => {
    const t = new ConnectionTable(1, 4);
    t.state[0] = OPEN;
    for (let q = 0; q < 3; q++) t.claim(0, q, q);
    t.release(0);
    t.reset(0);
    expect([t.state[0], t.fd[0], t.inflight[0], t.sent[0], t.oldest(0)]).toEqual([CLOSED, -1, 0, 1, 0]);
  });

  it('counts the connections open and answered', () => {
    const t = new ConnectionTable(3, 1);
    t.state.set([OPEN, OPEN, CLOSED]);
    t.served.set([1, 0, 1]);
    expect(t.answeredOpen()).toBe(1);
  });
});

describe('timeouts', () => {
  // timeout 2 s, connect cap 20 s; one request sent at 0 on connection 0, scanned at `now`.
  const scanAt = (now: number, fresh: 0 | 1, served: 0 | 1): number => {
    const t = new ConnectionTable(1, 1);
    t.state[0] = OPEN;
    t.fresh[0] = fresh;
    t.served[0] = served;
    t.claim(0, 0, 0);
    const io = exchangesFor(null, t, { timeoutMs: 2000, connectCapMs: 20_000, churn: true });
    io.now = now;
    io.scanTimeouts();
    return t.state[0]!;
  };

  it('gives a new connection\'s first exchange the connect cap, the first on its slot or a reopened one (churn)', () => {
    expect(scanAt(5000, 1, 0)).toBe(OPEN); // the slot's first connection, its worker still starting
    expect(scanAt(5000, 1, 1)).toBe(OPEN); // a churned connection: a new worker too
    expect(scanAt(25_000, 1, 1)).toBe(CLOSED); // past the cap it is a timeout
  });

  it('gives a request on a connection already answered the per-request timeout', () => {
    expect(scanAt(1500, 0, 1)).toBe(OPEN);
    expect(scanAt(5000, 0, 1)).toBe(CLOSED);
  });
});
