import { describe, expect, it } from 'vitest';
import { ConnectionTable } from '../../clients/connections.js';
import { BATCH_STEPS_US, BUSY_HIGH, BUSY_LOW, OpenLoopSchedule, SEND_BATCH_US } from '../../clients/schedule.js';
import { exchangesFor } from '../helpers/exchanges.js';

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

describe('open-loop wake-ups', () => {
  it('sleeps until the next operation is due, but never less than SEND_BATCH_US, nor more than 5 ms', () => {
    const s = thread();
    expect(s.sleepUs(0)).toBe(5000); // not started: nothing to wake for but the loop's own checks
    s.start(100);
    expect(s.sleepUs(101)).toBe(1000); // op due at 102: 1 ms away
    expect(s.sleepUs(101.99)).toBe(SEND_BATCH_US); // 10 µs away: wait for the batch instead of waking for one send
    expect(s.sleepUs(50)).toBe(5000);
    expect(SEND_BATCH_US).toBeGreaterThan(0);
  });

  it('makes every operation due by the wake-up due on its connection, across connections, in one pass', () => {
    // 100,000 ops/s over 4 local connections: one due every 10 µs. A wake-up 95 µs after the start
    // finds ten of them due, three on connections 0 and 1, two on 2 and 3.
    const schedule = new OpenLoopSchedule(100_000, 4, 0, 4);
    const table = new ConnectionTable(4, 1);
    const io = exchangesFor(schedule, table);
    schedule.start(0);
    io.now = 0.095;
    io.advanceSchedule();
    expect([...table.due]).toEqual([3, 3, 2, 2]);
    expect(schedule.nextDue).toBeCloseTo(0.1, 9);
  });
});

describe('open-loop batches of sends', () => {
  it('sends each operation as it comes due until warm-up finds the thread busy', () => {
    const schedule = new OpenLoopSchedule(100_000, 4, 0, 4); // one due every 10 µs
    const table = new ConnectionTable(4, 1);
    const io = exchangesFor(schedule, table);
    schedule.start(0);
    expect(schedule.batchUs).toBe(0);
    for (const now of [0, 0.01, 0.02, 0.03]) {
      io.now = now;
      io.advanceSchedule();
    }
    expect([...table.due]).toEqual([1, 1, 1, 1]); // one on each wake-up: no gap between batches
  });

  it('holds the next batch for batchUs after one left, however often answers wake the thread, and sleeps until then', () => {
    const schedule = new OpenLoopSchedule(100_000, 4, 0, 4);
    const table = new ConnectionTable(4, 1);
    const io = exchangesFor(schedule, table);
    schedule.adapt(0.95);
    schedule.adapt(0.95);
    expect(schedule.batchUs).toBe(50);
    schedule.start(0);
    io.now = 0;
    io.advanceSchedule(); // op 0 leaves; the next batch not before 50 µs
    expect([...table.due]).toEqual([1, 0, 0, 0]);
    for (const now of [0.01, 0.02, 0.03, 0.049]) {
      io.now = now; // answers woke it: due operations wait for the batch
      io.advanceSchedule();
    }
    expect([...table.due]).toEqual([1, 0, 0, 0]);
    expect(schedule.sleepUs(0.03)).toBeCloseTo(SEND_BATCH_US, 6); // 20 µs to the gate, but never below the shortest sleep
    expect(schedule.sleepUs(0.0)).toBeCloseTo(50, 6);
    io.now = 0.05;
    io.advanceSchedule(); // ops 1 to 5 (due at 10 to 50 µs) leave together
    expect([...table.due]).toEqual([2, 2, 1, 1]);
    io.now = 0.07;
    io.advanceSchedule();
    expect([...table.due]).toEqual([2, 2, 1, 1]); // due at 60 and 70 µs, held to 100 µs
  });

  it('moves the gap a step up while the thread is busier than BUSY_HIGH, down below BUSY_LOW, within BATCH_STEPS_US', () => {
    const s = thread();
    const last = BATCH_STEPS_US[BATCH_STEPS_US.length - 1]!;
    s.adapt(BUSY_HIGH); // at the threshold: no step
    expect(s.batchUs).toBe(0);
    s.adapt(BUSY_LOW - 0.01);
    expect(s.batchUs).toBe(0);
    for (let i = 0; i < BATCH_STEPS_US.length + 3; i++) s.adapt(0.99);
    expect(s.batchUs).toBe(last);
    s.adapt((BUSY_LOW + BUSY_HIGH) / 2); // between the two: it stays
    expect(s.batchUs).toBe(last);
    s.adapt(0.1);
    expect(s.batchUs).toBe(BATCH_STEPS_US[BATCH_STEPS_US.length - 2]);
    for (let i = 0; i < BATCH_STEPS_US.length + 3; i++) s.adapt(0.1);
    expect(s.batchUs).toBe(0);
    expect(BATCH_STEPS_US[0]).toBe(0);
    expect(last).toBeLessThanOrEqual(SEND_BATCH_US); // a batch waits no longer than the shortest sleep
  });

  it('starts each run without a gate: a batch held before start() does not hold the new schedule', () => {
    const s = new OpenLoopSchedule(100_000, 4, 0, 4);
    for (let i = 0; i < 4; i++) s.adapt(0.99);
    s.start(0);
    s.batchSent(0); // gate at 0.1 ms
    s.start(10);
    expect(s.takeDue(10)).toBe(0);
  });
});
