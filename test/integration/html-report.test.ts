// report.html opened in a real browser: it is self-contained and every chart decodes.
// Needs Debian's chromium (apt-get install chromium); skipped with a note when it is absent.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { writeReport } from '../../report/report.js';
import { chromiumPath, describeNeeds } from '../helpers/tools.js';

const executablePath = chromiumPath();

describeNeeds(['chromium'])('report.html in headless Chromium', () => {
  it('draws every chart from its embedded data with no network, and a legend click hides a model', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'html-report-'));
    cpSync(join(import.meta.dirname, '..', 'fixtures', 'results-small.json'), join(runDir, 'results.json'));
    const files = await writeReport(runDir);
    const browser = await chromium.launch({
      executablePath: executablePath!,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });
      // Expressions as strings: they run in the page, and this project compiles without DOM types.
      const charts = (await page.evaluate('window.__charts.map((c) => ({ width: c.canvas.width, height: c.canvas.height, datasets: c.data.datasets.length }))')) as { width: number; height: number; datasets: number }[];
      expect(errors).toEqual([]);
      expect(charts).toHaveLength(files.charts.length);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(300);
        expect(c.height).toBeGreaterThan(200);
        expect(c.datasets).toBeGreaterThan(0);
      }
      // Click the first legend entry of the first chart, where Chart.js drew it.
      const first = page.locator('canvas').first();
      await first.scrollIntoViewIfNeeded();
      const box = (await page.evaluate(`(() => {
        const c = window.__charts[0], r = c.canvas.getBoundingClientRect(), h = c.legend.legendHitBoxes[0];
        return { x: r.left + h.left + h.width / 2, y: r.top + h.top + h.height / 2, visible: c.isDatasetVisible(0) };
      })()`)) as { x: number; y: number; visible: boolean };
      expect(box.visible).toBe(true);
      await page.mouse.click(box.x, box.y);
      // Chart.js handles pointer events on the next animation frame.
      await page.waitForFunction('!window.__charts[0].isDatasetVisible(0)', undefined, { timeout: 5000 });
      expect(await page.evaluate('window.__charts[0].isDatasetVisible(1)')).toBe(true);
      // The axis button switches the first chart between linear and log.
      const before = await page.evaluate('window.__charts[0].options.scales.y.type');
      await page.click('#chart-0-scale');
      const after = await page.evaluate('window.__charts[0].options.scales.y.type');
      expect([before, after].sort()).toEqual(['linear', 'logarithmic']);
      expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
      expect(await page.textContent('body')).toContain('Findings');
      await page.screenshot({ path: join(runDir, 'report.png'), fullPage: false });
    } finally {
      await browser.close();
    }
  });

  it('draws the scenarios\' bar charts, with the ideal ticks over their bars', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'html-report-scenarios-'));
    cpSync(join(import.meta.dirname, '..', 'fixtures', 'results-scenarios.json'), join(runDir, 'results.json'));
    const files = await writeReport(runDir);
    const browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });
      const charts = (await page.evaluate(`window.__charts.map((c) => ({
        title: c.options.plugins.title.text, type: c.config.type,
        ideal: c.data.datasets.filter((d) => d.ideal).map((d) => d.data.filter((v) => v !== null).length),
        bars: c.data.datasets.filter((d) => d.type === 'bar').length,
      }))`)) as { title: string; type: string; ideal: number[]; bars: number }[];
      expect(errors).toEqual([]);
      expect(charts).toHaveLength(files.charts.length);
      const ioWait = charts.find((c) => c.title.startsWith('http (io-wait)'))!;
      expect(ioWait.type).toBe('bar');
      expect(ioWait.bars).toBe(3); // pooled at 4 and 64, per-request at 64
      expect(ioWait.ideal.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(charts.some((c) => c.title.startsWith('http (cpu): p99'))).toBe(true);
      expect(charts.some((c) => c.title.startsWith('http (churn): connect'))).toBe(true);
      expect(charts.find((c) => c.title.startsWith('echo (payload)'))!.type).toBe('line');
    } finally {
      await browser.close();
    }
  });
});
