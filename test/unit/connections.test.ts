import { describe, expect, it } from 'vitest';
import { CLOSED, ConnectionTable, OPEN } from '../../clients/connections.js';

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
