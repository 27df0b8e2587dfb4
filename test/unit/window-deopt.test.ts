// The window's opening must not change which code the load loop runs: when it did, V8 threw away
// the optimised recorder as the first answers of the window came in (a load first reached there had
// no type feedback), and every window's first tenth ran at up to half its rate. V8 says so itself:
// a child with --allow-natives-syntax optimises the recorder's hot methods on warm-up's answers,
// opens the window, records in it, and reports whether they are still optimised (compiled on the
// main thread, so that "optimised" is known when it is asked).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dist } from '../../harness/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'window-deopt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** V8's status bit for "optimised" (kOptimized, Node 20's V8). */
const OPTIMIZED = 16;

function statusesAfterOpening(openLoop: boolean): Record<string, number> {
  const script = join(dir, `probe-${openLoop}.mjs`);
  writeFileSync(script, `
    const { WindowRecorder } = await import(${JSON.stringify(pathToFileURL(dist('clients/window.js')).href)});
    const w = new WindowRecorder(1, ${openLoop});
    const hot = ['response', 'received', 'sent', 'connected', 'reconnected'];
    // As churn goes: every answer closes its connection, and the next one's first answer times its connect.
    const turn = (t, bytes = 64) => { w.received(t, bytes); w.sent(t, t - 0.01); w.connected(t, t - 0.3, false); w.response(t, null, t - 0.2, t - 0.1); w.reconnected(t); };
    for (const m of hot) %PrepareFunctionForOptimization(WindowRecorder.prototype[m]);
    let t = 0;
    for (let i = 0; i < 2000; i++) turn(t += 0.01);
    for (const m of hot) %OptimizeFunctionOnNextCall(WindowRecorder.prototype[m]);
    // Called here, not through turn(): an optimised turn() would inline them and never call them.
    t += 0.01;
    w.received(t, 64);
    w.sent(t, t - 0.01);
    w.connected(t, t - 0.3, false);
    w.response(t, null, t - 0.2, t - 0.1);
    w.reconnected(t);
    const before = Object.fromEntries(hot.map((m) => [m, %GetOptimizationStatus(WindowRecorder.prototype[m])]));
    w.open(t + 1, t + 1001);
    // 4 MiB reads: the window's byte count passes 2^31, past a small integer's range.
    for (let i = 0; i < 2000; i++) turn(t += 0.01, 1 << 22);
    const after = Object.fromEntries(hot.map((m) => [m, %GetOptimizationStatus(WindowRecorder.prototype[m])]));
    console.log(JSON.stringify({ before, after, ops: w.ops }));
  `);
  const out = JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', script], { encoding: 'utf8' })) as { before: Record<string, number>; after: Record<string, number>; ops: number };
  // The probe is only a probe if the window did record and the methods were optimised before it opened.
  expect(out.ops).toBeGreaterThan(1000);
  for (const s of Object.values(out.before)) expect(s & OPTIMIZED).toBe(OPTIMIZED);
  return out.after;
}

describe('the window opening in optimised code', () => {
  it.each([false, true])('keeps the recorder optimised as the window opens (open loop: %s)', (openLoop) => {
    const after = statusesAfterOpening(openLoop);
    for (const [m, s] of Object.entries(after)) expect({ m, optimized: (s & OPTIMIZED) !== 0 }).toEqual({ m, optimized: true });
  });
});
