import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { findTimelineCell, timelineConfig, timelineFile } from '../../report/timeline-chart.js';
import { main } from '../../scripts/report.js';
import { buildResults } from '../helpers/results-builder.js';

function withTimeline() {
  const r = buildResults([{ model: 'epoll', protocol: 'http', concurrency: 16, opsPerSec: [1000, 1100] }]);
  r.cells[0]!.timeline = { intervalS: 0.5, ops: [400, 600], p99Us: [2000, 900] };
  return r;
}

describe('timeline', () => {
  it('finds a cell by model/protocol/concurrency[/repetition] and draws ops/s and p99 in ms per interval', () => {
    const r = withTimeline();
    const c = findTimelineCell(r, 'epoll/http/16');
    expect(c.repetition).toBe(1);
    const config = timelineConfig(r, c);
    expect(config.data.labels).toEqual(['0.5', '1.0']);
    expect(config.data.datasets[0]!.data).toEqual([800, 1200]);
    expect(config.data.datasets[1]!.data).toEqual([2, 0.9]);
    expect(timelineFile(c)).toBe('timeline-epoll-http-c16-rep1.png');
    // Two cells at the same connections in other scenarios or variants get files of their own.
    expect(timelineFile({ ...c, scenario: 'io-wait', backend: 'postgres', backendConnections: 'pooled', dbPool: 16 })).toBe('timeline-epoll-http-io-wait-postgres-pooled-c16-rep1.png');
    expect(timelineFile({ ...c, scenario: 'io-wait', backend: 'postgres', backendConnections: 'per-request' })).toBe('timeline-epoll-http-io-wait-postgres-per-request-c16-rep1.png');
  });

  it('says which cells have a timeline when asked for one that has none', () => {
    const r = withTimeline();
    expect(() => findTimelineCell(r, 'epoll/http/16/2')).toThrow('--timeline: that cell has no timeline (autocannon, wrk, or not measured): "epoll/http/16/2"; cells with a timeline: epoll/http/16 (form: model/protocol/concurrency[/repetition])');
    expect(() => findTimelineCell(r, 'async/http/16')).toThrow(/^--timeline: no such cell: "async\/http\/16"/);
  });

  it('npm run report --timeline writes the chart as a PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'timeline-'));
    writeFileSync(join(dir, 'results.json'), JSON.stringify(withTimeline()));
    const [png] = await main([dir, '--timeline', 'epoll/http/16']);
    expect(png).toBe(join(dir, 'charts', 'timeline-epoll-http-c16-rep1.png'));
    const img = await loadImage(png!);
    expect([img.width, img.height]).toEqual([1200, 600]);
    await expect(main([dir, '--timeline', 'epoll'])).rejects.toThrow('--timeline: expected model/protocol/concurrency[/repetition], e.g. epoll/http/64, got "epoll"');
  });
});
