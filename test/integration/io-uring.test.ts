// The io-uring model and its C ceiling beyond the conformance suite: every scenario, a thousand
// connections on a shared pool of receive buffers, and a kernel that refuses io_uring, which must
// be a `limit` cell with the kernel's reason, not a crash.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCell, type CellContext, type CellSpec } from '../../harness/cell.js';
import { choosePinning, defaultClientThreads } from '../../harness/env.js';
import { parsePlan, type Plan } from '../../harness/plan.js';
import type { Cell } from '../../schema/results.js';
import { findModel } from '../../schema/catalog.js';
import { refusalReason } from '../../sys/uring.js';
import { calibrate } from '../../schema/work.js';
import { itNeeds } from '../helpers/tools.js';

const out = mkdtempSync(join(tmpdir(), 'io-uring-'));
const pinning = choosePinning(true, null);
const ctx: CellContext = { pinning, clientThreads: defaultClientThreads(pinning), workIterations: calibrate(200).iterations };
const plan = (...args: string[]): Plan => parsePlan(['--workers', '4', '--duration', '1s', '--warmup', '0.3s', '--out', out, ...args])!;
const spec = (model: string, protocol: 'echo' | 'http', scenario: CellSpec['scenario'], concurrency: number, extra: Partial<CellSpec> = {}): CellSpec =>
  ({ model, family: findModel(model)!.family, protocol, scenario, concurrency, rate: null, repetition: 1, ...extra });
const ok = (c: Cell): Cell => {
  expect(c.status, `${c.model} ${c.scenario} c=${c.concurrency}: ${c.reason ?? ''}`).toBe('ok');
  expect(c.errors.total).toBe(0);
  return c;
};

afterEach(() => {
  delete process.env.CB_TEST_URING_REFUSE;
  delete process.env.CB_TEST_BACKEND_MISBEHAVE;
});

describe('io-uring', () => {
  it('names the refusal: EPERM and ENOSYS in words a reader can act on', () => {
    expect(refusalReason(1)).toBe('io_uring_setup: EPERM (refused: /proc/sys/kernel/io_uring_disabled, or a sandbox)');
    expect(refusalReason(38)).toBe('io_uring_setup: ENOSYS (the kernel has no io_uring, or a seccomp filter hides it)');
  });

  // The C ceiling is compiled first: cc. The refusal itself is made by the model (CB_TEST_URING_REFUSE), on any kernel.
  itNeeds(['cc'])('a kernel that refuses io_uring makes the cell a limit with its reason, in TypeScript and in C', async () => {
    process.env.CB_TEST_URING_REFUSE = 'EPERM';
    for (const model of ['io-uring', 'native-io-uring']) {
      const c = await runCell(spec(model, 'echo', 'steady', 4), plan('--scenarios', 'steady'), ctx);
      expect(c.status, model).toBe('limit');
      expect(c.reason, model).toMatch(/^io_uring_setup: EPERM \(refused: \/proc\/sys\/kernel\/io_uring_disabled, or a sandbox\)/);
    }
  });

  itNeeds(['io_uring', 'cc'])('serves a thousand connections from its shared pool of receive buffers', async () => {
    for (const model of ['io-uring', 'native-io-uring']) {
      const c = ok(await runCell(spec(model, 'echo', 'steady', 1000), plan('--scenarios', 'steady'), ctx));
      expect(c.opsPerSec).toBeGreaterThan(1000);
    }
  });

  itNeeds(['io_uring'])('io-wait: waits on the backend through linked SQEs, pooled and per request, and fails on a wrong answer', async () => {
    const p = plan('--scenarios', 'io-wait');
    for (const mode of ['pooled', 'per-request'] as const) {
      const c = ok(await runCell(spec('io-uring', 'http', 'io-wait', 16, { backendConnections: mode }), p, ctx));
      expect(c.opsPerSec).toBeGreaterThan(0.6 * 1600);
      expect(c.opsPerSec).toBeLessThanOrEqual(1.02 * 1600);
      expect(c.service!.waitingPeak).toBeGreaterThanOrEqual(16);
    }
    process.env.CB_TEST_BACKEND_MISBEHAVE = 'wrong-answer';
    const bad = await runCell(spec('io-uring', 'echo', 'io-wait', 2, { backendConnections: 'pooled' }), p, ctx);
    expect(bad.status).toBe('failed');
    expect(bad.reason).toMatch(/backend answered a different query/);
  });

  itNeeds(['io_uring', 'cc'])('cpu, churn and payload: one thread burns the work; connections come and go; large messages', async () => {
    const cpu = ok(await runCell(spec('io-uring', 'http', 'cpu', 4), plan('--scenarios', 'cpu'), ctx));
    expect(cpu.opsPerSec).toBeLessThanOrEqual(1.05 * 5000);
    for (const model of ['io-uring', 'native-io-uring']) {
      const churn = ok(await runCell(spec(model, 'http', 'churn', 4), plan('--scenarios', 'churn'), ctx));
      expect(churn.reconnects).toBeGreaterThanOrEqual(churn.ops - 4);
      const big = ok(await runCell(spec(model, 'echo', 'payload', 4, { payloadBytes: 65536 }), plan('--scenarios', 'payload'), ctx));
      expect(big.bytesPerSec).toBeCloseTo((big.ops * 2 * 65536) / big.durationS, 0);
    }
  });
});
