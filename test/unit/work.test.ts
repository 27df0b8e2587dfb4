import { describe, expect, it } from 'vitest';
import { answerFor, ANSWER_BYTES, burn, calibrate, checkAnswer, parseWork, QUERY_BYTES, queryBytes, workArg } from '../../servers/work.js';

describe('work', () => {
  it('round-trips every kind through the command line and refuses anything else, naming the flag', () => {
    for (const w of [{ kind: 'none' }, { kind: 'io-wait', backend: 'service', backendPort: 7000, connections: 'per-request', pool: 0 }, { kind: 'cpu', iterations: 1234 }] as const) {
      expect(parseWork(workArg(w))).toEqual(w);
    }
    expect(parseWork(undefined)).toEqual({ kind: 'none' });
    expect(() => parseWork('{"kind":"cpu","iterations":-1}')).toThrow(/^--work: expected/);
    expect(() => parseWork('{"kind":"io-wait","backendPort":1,"connections":"shared"}')).toThrow(/^--work: expected/);
    expect(() => parseWork('nope')).toThrow('--work: not JSON: nope');
  });

  it('burn is deterministic and its cost grows with the iterations', () => {
    const a = burn(1000);
    expect(Number.isInteger(a)).toBe(true);
    const { iterations, nsPerIteration } = calibrate(200);
    expect(nsPerIteration).toBeGreaterThan(0);
    expect(iterations).toBe(Math.max(1, Math.round(200_000 / nsPerIteration)));
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
