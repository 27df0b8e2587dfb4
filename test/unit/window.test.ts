import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../clients/latency.js';
import { timelineIntervalS, timelineSlots, WindowRecorder } from '../../clients/window.js';

// A 2 s window from t = 1000 ms: ten timeline slots of 200 ms.
function recorder(openLoop = true): WindowRecorder {
  const w = new WindowRecorder(2, openLoop);
  w.open(1000, 3000);
  return w;
}

describe('window recorder', () => {
  it('sizes the timeline: a second per point from 5 s windows up, else a tenth of the window', () => {
    expect([timelineIntervalS(10), timelineSlots(10)]).toEqual([1, 10]);
    expect([timelineIntervalS(5), timelineSlots(5)]).toEqual([1, 5]);
    expect([timelineIntervalS(2), timelineSlots(2)]).toEqual([0.2, 10]);
    expect(timelineSlots(0.3)).toBe(10); // 0.3 / 0.03 is 9.999...: not an eleventh slot
  });

  it('puts an answer on a slot boundary into the slot that starts there', () => {
    const w = recorder();
    w.response(1199.999, null, 1199, 1199);
    w.response(1200, null, 1199, 1199);
    w.response(2999.9, null, 2999, 2999);
    const t = w.timeline();
    expect(t.ops).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(t.latency.map((e) => decodeHistogram(e).totalCount)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(decodeHistogram(t.latency[1]!).maxValue).toBe(1000);
  });

  it('counts only what happens inside [start, end), each error once, and no error as an operation', () => {
    const w = recorder();
    w.error(999.9, 'ECONNRESET');
    w.error(1000, 'timeout');
    w.response(1500, 'mismatch', 1400, 1400);
    w.response(1500, 'HTTP_500', 1400, 1400);
    w.error(3000, 'timeout');
    w.response(3000, null, 2999, 2999);
    w.response(999, null, 998, 998);
    w.received(999, 10);
    w.received(1000, 7);
    w.reconnected(2999);
    w.reconnected(3000);
    expect(w.errors).toEqual({ timeout: 1, mismatch: 1, HTTP_500: 1 });
    expect([w.ops, w.latency.totalCount, w.bytes, w.reconnects]).toEqual([0, 0, 7, 1]);
  });

  it('times an answer from when it was due, and open loop also from when it was sent', () => {
    const open = recorder(true);
    open.response(1500, null, 1490, 1499);
    expect([open.latency.maxValue, open.uncorrected.maxValue]).toEqual([10_000, 1000]);
    const closed = recorder(false);
    closed.response(1500, null, 1490, 1490);
    expect([closed.latency.totalCount, closed.uncorrected.totalCount]).toEqual([1, 0]);
  });

  it('records a first connect time wherever it falls, a reopened connection only inside the window', () => {
    const w = recorder();
    w.connected(500, 499, true);
    w.connected(500, 499, false);
    w.connected(1500, 1498, false);
    expect(w.connect.totalCount).toBe(2);
    expect(w.connect.maxValue).toBe(2000);
  });

  it('gives what is unanswered at the close its age then, and ignores what was due after', () => {
    const w = recorder();
    expect(w.unanswered(2990, 2995)).toBe(true);
    expect(w.unanswered(3000, 3000)).toBe(false);
    expect(w.unsent(2999)).toBe(true);
    expect(w.unsent(3001)).toBe(false);
    expect(w.outstanding).toBe(2);
    expect([w.latency.totalCount, w.latency.maxValue, w.uncorrected.totalCount, w.uncorrected.maxValue]).toEqual([2, 10_000, 1, 5000]);
    w.timedOut(2000, 1000);
    w.timedOut(3000, 1000);
    expect(w.latency.totalCount).toBe(3);
  });

  it('hands out each interval once, as soon as it has closed, and the rest when the window closes (what an agent streams)', () => {
    const w = recorder();
    w.response(1100, null, 1099, 1099);
    w.response(1250, null, 1249, 1249);
    expect(w.slotClosed(1199.9)).toBe(false);
    expect(w.slotClosed(1200)).toBe(true);
    expect(w.takeClosedSlots(1250).map((s) => [s.k, s.ops])).toEqual([[0, 1]]);
    expect(w.slotClosed(1250)).toBe(false);
    expect(w.takeClosedSlots(1300)).toEqual([]);
    w.response(2999, null, 2998, 2998);
    const rest = w.takeClosedSlots(3000);
    expect(rest.map((s) => [s.k, s.ops])).toEqual([[1, 1], [2, 0], [3, 0], [4, 0], [5, 0], [6, 0], [7, 0], [8, 0], [9, 1]]);
    expect(rest.map((s) => decodeHistogram(s.latency).totalCount)).toEqual(w.timeline().latency.slice(1).map((e) => decodeHistogram(e).totalCount));
    expect(w.slotClosed(5000)).toBe(false); // all ten handed out
  });
});

describe('send lag (open loop)', () => {
  it('records how late each request sent inside the window left, 0 µs when on time, nothing outside it', () => {
    const w = recorder();
    w.sent(999, 900); // warm-up: not the window's
    w.sent(1000, 1000); // on time
    w.sent(1500, 1499.95); // 50 µs late
    w.sent(2000, 1990); // 10 ms late
    w.sent(3000, 2000); // after the window
    expect(w.sendLag.totalCount).toBe(3);
    expect(w.sendLag.minNonZeroValue).toBe(50);
    expect(w.sendLag.getValueAtPercentile(30)).toBe(0);
    expect(w.sendLag.maxValue).toBe(10_000);
  });

  it('counts a request due and still unsent when the window closed at its age then', () => {
    const w = recorder();
    expect(w.unsent(2500)).toBe(true);
    expect(w.unsent(3000)).toBe(false); // due after the window
    expect(w.sendLag.totalCount).toBe(1);
    expect(w.sendLag.maxValue).toBe(500_000);
  });

  it('keeps none in closed loop, which has no schedule to be late against', () => {
    const w = recorder(false);
    w.sent(1500, 1400);
    w.unsent(2500);
    expect(w.sendLag.totalCount).toBe(0);
  });
});
