// Saturation judged by the core: a CPU hog pinned beside an idle-looking client (open loop at 200
// requests a second, a few % of a core) fills the client's CPU, and the cell says so although the
// client process itself was nowhere near its limit.
import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { choosePinning } from '../../harness/env.js';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { decodeHistogram } from '../../clients/latency.js';
import { readResults } from '../../schema/read-results.js';
import { runWhenUnlocked } from '../helpers/locked-run.js';
import { itNeeds } from '../helpers/tools.js';

const pinning = choosePinning(true);

describe('cores', () => {
  itNeeds(['pinning'])('flags a cell whose client CPU a hog filled, though the client used little of it', async () => {
    const hogs = pinning.client!.map((cpu) => spawn('taskset', ['-c', String(cpu), process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' }));
    try {
      await new Promise((r) => setTimeout(r, 300));
      const out = mkdtempSync(join(tmpdir(), 'cores-'));
      const r = await runWhenUnlocked(dist('scripts/bench.js'), ['--models', 'epoll', '--scenarios', 'steady', '--protocols', 'http', '--concurrency', '1', '--rate', '200', '--duration', '1s', '--warmup', '0.3s', '--out', out], { cwd: PROJECT_ROOT, timeoutMs: 60_000, lockWaitMs: 10 * 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const [cell] = readResults(join(out, readlinkSync(join(out, 'latest')))).cells;
      expect(cell!.client.threadCpuPercentMax).toBeLessThan(50); // idle-looking
      expect(cell!.cores!.client.map((c) => c.cpu)).toEqual(pinning.client);
      expect(cell!.cores!.server.map((c) => c.cpu)).toEqual(pinning.server);
      expect(cell!.cores!.full).toContain('client');
      expect(cell!.client.saturated).toBe(true);
      expect(r.stderr).toContain('CLIENT SATURATED');
      // The open-loop client's send lag reaches the cell and its progress line.
      const lag = cell!.client.sendLagUs!;
      expect(lag.p50).toBeLessThanOrEqual(lag.p99);
      expect(lag.p99).toBeLessThanOrEqual(lag.max);
      expect(decodeHistogram(cell!.histograms!.sendLag!).totalCount).toBeGreaterThan(0);
      expect(r.stderr).toMatch(/send lag p50 \d+ µs, p99 \d+ µs/);
      expect(cell!.client.sendBatchUs).toBe(0); // 200 a second keeps no thread busy: no gap between sends
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
  });
});
