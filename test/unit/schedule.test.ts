import { describe, expect, it } from 'vitest';
import { OpenLoopSchedule } from '../../clients/schedule.js';

// 1,000 ops/s over 4 connections: op m of the run is due at t0 + m ms and belongs to connection
// m mod 4. This thread holds global connections 2 and 3 (local 0 and 1), so its ops are due at
// t0 + 2, 3, 6, 7, 10, 11, ... ms.
const thread = (): OpenLoopSchedule => new OpenLoopSchedule(1000, 4, 2, 2);

describe('open-loop schedule', () => {
  it("gives each connection's k-th operation the intended send time t0 + (k·C + g) / rate", () => {
    const s = thread();
    s.start(100);
    expect(s.dueTime(0, 0)).toBe(102);
    expect(s.dueTime(1, 0)).toBe(103);
    expect(s.dueTime(0, 1)).toBe(106);
    expect(s.dueTime(1, 2)).toBe(111);
    expect(new OpenLoopSchedule(250, 1, 0, 1).dueTime(0, 3)).toBe(Infinity); // not started: nothing is due
  });

  it('hands out its operations in order of due time, each once, those due by now (inclusive) and no later one', () => {
    const s = thread();
    expect(s.takeDue(1e12)).toBe(-1); // before start nothing is due
    s.start(100);
    expect(s.nextDue).toBe(102);
    expect(s.takeDue(101.999)).toBe(-1);
    expect(s.takeDue(102)).toBe(0);
    expect(s.takeDue(102)).toBe(-1);
    const taken: number[] = [];
    for (let j = s.takeDue(110); j >= 0; j = s.takeDue(110)) taken.push(j);
    expect(taken).toEqual([1, 0, 1, 0]); // due at 103, 106, 107, 110
    expect(s.nextDue).toBe(111);
  });

  it('starts over from its new origin', () => {
    const s = thread();
    s.start(100);
    s.takeDue(200);
    s.start(1000);
    expect(s.nextDue).toBe(1002);
    expect(s.takeDue(1002)).toBe(0);
  });

  it('agents interleave one schedule: agent i of N sends global operations k·N + i, together each due time once', () => {
    // 1,000 ops/s over two agents of two connections each: alone, op m would be due at t0 + m ms.
    const dues: number[] = [];
    for (const i of [0, 1]) {
      const s = new OpenLoopSchedule(1000, 2, 0, 2, 2, i);
      s.start(0);
      for (let n = 0; n < 5; n++) {
        dues.push(s.nextDue);
        s.takeDue(Infinity);
      }
    }
    expect(dues.slice(0, 5)).toEqual([0, 2, 4, 6, 8]);
    expect(dues.slice(5)).toEqual([1, 3, 5, 7, 9]);
    expect([...dues].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
