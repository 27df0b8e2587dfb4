import { describe, expect, it } from 'vitest';
import { openTable, table, type OpenRow, type Row } from '../../report/client-bench.js';

const closed = (tool: string, cpuUsPerOp: number[], opsPerSec: number[]): Row => ({ server: 'epoll', protocol: 'http', tool, opsPerSec, cpuUsPerOp, saturated: 3, errors: 0 });

describe('bench:clients tables', () => {
  it("gives each client's throughput as a ratio of the reference's on the same server (medians)", () => {
    const md = table([closed('native', [7, 6, 8], [110, 100, 120]), closed('wrk', [5, 5, 5], [90, 100, 95])], 3);
    expect(md).toContain('| epoll | http | native | 110 | 7.0 | 1.16 | 3 of 3 | 0 |');
    expect(md).toContain('| epoll | http | wrk | 95 | 5.0 | 1.00 | 3 of 3 | 0 |');
  });

  it("gives our open loop's CPU per request as a ratio of our closed loop's on the same server, with its send lag", () => {
    const open: OpenRow = { server: 'epoll', protocol: 'http', fraction: 0.5, batch: 'auto', rate: [50, 60, 55], opsPerSec: [50, 60, 55], cpuUsPerOp: [9.1, 10.5, 9.8],
      sendBatchUs: [50, 25, 50], sendLagP50Us: [30, 20, 40], sendLagP99Us: [400, 90, 120], latencyP50Us: [80, 70, 90], saturated: 1 };
    const md = openTable([open], [closed('native', [7, 6, 8], [110, 100, 120]), closed('wrk', [1, 1, 1], [1, 1, 1])], 3);
    expect(md).toContain('| epoll | http | 50% (55/s) | auto | 55 | 9.8 | 1.40× | 25–50 | 30 / 120 | 80 | 1 of 3 |'); // 9.8 / 7, against native, not wrk
    const fixed = openTable([{ ...open, batch: '0', sendBatchUs: [0, 0, 0] }], [closed('native', [7], [1])], 1);
    expect(fixed).toContain('| epoll | http | 50% (55/s) | 0 | 55 | 9.8 | 1.40× | 0 | 30 / 120 | 80 | 1 of 3 |');
    const orphan = openTable([{ ...open, server: 'other' }], [closed('native', [7], [1])], 1);
    expect(orphan).toContain('| other | http | 50% (55/s) | auto | 55 | 9.8 | – | 25–50 | 30 / 120 | 80 | 1 of 3 |');
  });
});
