// report.html opened in a real browser: it is self-contained and every chart decodes.
// Needs Debian's chromium (apt-get install chromium); skipped with a note when it is absent.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { writeReport } from '../../report/report.js';
import { chromiumPath, describeNeeds } from '../helpers/tools.js';
import { MAX_LINES_PER_PANEL } from '../../report/panels.js';
import { buildResults } from '../helpers/results-builder.js';

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
      const figures = (await page.evaluate('window.__figures.map((f) => ({ panels: f.panels, charts: window.__charts.slice(f.first, f.first + f.panels).map((c) => ({ width: c.canvas.width, height: c.canvas.height, datasets: c.data.datasets.length })) }))')) as { panels: number; charts: { width: number; height: number; datasets: number }[] }[];
      expect(errors).toEqual([]);
      expect(figures).toHaveLength(files.charts.length);
      for (const c of figures.flatMap((f) => f.charts)) {
        expect(c.width).toBeGreaterThan(300);
        expect(c.height).toBeGreaterThan(200);
        expect(c.datasets).toBeGreaterThan(0);
      }
      // Click the first legend entry of the first chart with two or more, where Chart.js drew it.
      const k = (await page.evaluate('window.__charts.findIndex((c) => c.data.datasets.length > 1)')) as number;
      expect(k).toBeGreaterThanOrEqual(0);
      await page.locator('canvas').nth(k).scrollIntoViewIfNeeded();
      const box = (await page.evaluate(`(() => {
        const c = window.__charts[${k}], r = c.canvas.getBoundingClientRect(), h = c.legend.legendHitBoxes[0];
        return { x: r.left + h.left + h.width / 2, y: r.top + h.top + h.height / 2, visible: c.isDatasetVisible(0) };
      })()`)) as { x: number; y: number; visible: boolean };
      expect(box.visible).toBe(true);
      await page.mouse.click(box.x, box.y);
      // Chart.js handles pointer events on the next animation frame.
      await page.waitForFunction(`!window.__charts[${k}].isDatasetVisible(0)`, undefined, { timeout: 5000 });
      expect(await page.evaluate(`window.__charts[${k}].isDatasetVisible(1)`)).toBe(true);
      // The axis button switches every panel of the first figure between linear and log.
      const types = `window.__charts.slice(0, window.__figures[0].panels).map((c) => c.options.scales.y.type)`;
      const before = (await page.evaluate(types)) as string[];
      await page.click('#chart-0-scale');
      const after = (await page.evaluate(types)) as string[];
      expect(new Set(before).size).toBe(1);
      expect(new Set(after).size).toBe(1);
      expect([before[0], after[0]].sort()).toEqual(['linear', 'logarithmic']);
      expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
      expect(await page.textContent('body')).toContain('Findings');
      await page.screenshot({ path: join(runDir, 'report.png'), fullPage: false });
    } finally {
      await browser.close();
    }
  });

  it('opens with the scorecard: a heat map of fractions, the best named, a limit\'s reason on hover, and a column not measured', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'html-report-scorecard-'));
    const results = buildResults([
      { model: 'epoll', family: 'selector', opsPerSec: [40_000] },
      { model: 'async', opsPerSec: [30_000] },
      { model: 'thread-pool', family: 'worker-thread', opsPerSec: [0], status: 'limit' },
      { model: 'epoll', family: 'selector', protocol: 'http', opsPerSec: [20_000] },
    ]);
    writeFileSync(join(runDir, 'results.json'), JSON.stringify(results));
    const files = await writeReport(runDir);
    const browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });
      expect(errors).toEqual([]);
      // The first table of the page, above the findings.
      const card = (await page.evaluate(`(() => {
        const t = document.querySelector('table'), findings = [...document.querySelectorAll('h2')].find((h) => h.textContent === 'Findings');
        const cells = [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => ({ text: td.textContent, title: td.title, cls: td.className, bg: getComputedStyle(td).backgroundColor, fraction: td.dataset.fraction })));
        return { isScorecard: t.classList.contains('scorecard'), before: !!(t.compareDocumentPosition(findings) & Node.DOCUMENT_POSITION_FOLLOWING),
          heads: [...t.querySelectorAll('thead th')].map((th) => th.textContent), cells };
      })()`)) as { isScorecard: boolean; before: boolean; heads: string[]; cells: { text: string; title: string; cls: string; bg: string; fraction?: string }[][] };
      expect(card.isScorecard).toBe(true);
      expect(card.before).toBe(true);
      expect(card.heads).toContain('waiting on 1,000 connectionsnot measured');
      const [epollRow, asyncRow, poolRow, bestRow] = card.cells;
      expect(epollRow![0]!.text).toBe('epoll');
      expect(epollRow![1]).toMatchObject({ text: '100%', cls: 'heat best' });
      expect(asyncRow![1]).toMatchObject({ text: '75%', cls: 'heat', fraction: '0.7500' });
      const rgb = (s: string): number[] => s.match(/\d+/g)!.map(Number);
      const sum = (s: string): number => rgb(s).reduce((a, b) => a + b, 0);
      expect(sum(epollRow![1]!.bg)).toBeLessThan(sum(asyncRow![1]!.bg)); // the better, the darker
      expect(sum(asyncRow![1]!.bg)).toBeLessThan(3 * 255); // coloured, not white
      expect(poolRow![1]).toMatchObject({ text: 'limit', cls: 'limit', title: 'thread-pool: limit at echo, 64 connections: synthetic failure' });
      // async has no HTTP cell: — there, not a zero.
      expect(asyncRow![2]).toMatchObject({ text: '—', cls: 'none' });
      expect(bestRow!.map((c) => c.text).slice(0, 4)).toEqual(['best', 'epoll', 'epoll', 'not measured']);
    } finally {
      await browser.close();
    }
  });

  it('draws each line chart as family panels: none over the line budget, a cross\'s reason on hover', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'html-report-panels-'));
    cpSync(join(import.meta.dirname, '..', 'fixtures', 'results-small.json'), join(runDir, 'results.json'));
    const files = await writeReport(runDir);
    const browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });
      const panels = (await page.evaluate(`window.__figures.flatMap((f) => window.__charts.slice(f.first, f.first + f.panels).map((c) => ({
        figure: f.title, title: c.options.plugins.title.text, lines: c.data.datasets.filter((d) => !d.legendOnly).length, y: [c.scales.y.min, c.scales.y.max],
      })))`)) as { figure: string; title: string; lines: number; y: number[] }[];
      expect(panels.filter((p) => p.figure === 'echo: throughput vs concurrency').map((p) => p.title)).toEqual(['event loops', 'selectors']);
      for (const p of panels) expect(p.lines).toBeLessThanOrEqual(MAX_LINES_PER_PANEL);
      // Shared axes: every panel of a figure spans the same y range.
      for (const figure of new Set(panels.map((p) => p.figure))) expect(new Set(panels.filter((p) => p.figure === figure).map((p) => p.y.join()))).toHaveProperty('size', 1);
      // echo, select at 2,000 connections: a limit. Its cross is under the selectors panel's plot; the pointer on it shows why.
      const k = (await page.evaluate(`window.__charts.findIndex((c) => c.options.plugins.title.text === 'selectors' && c.canvas.id.startsWith('chart-0-'))`)) as number;
      await page.locator('canvas').nth(k).scrollIntoViewIfNeeded();
      const spot = (await page.evaluate(`(() => {
        const c = window.__charts[${k}], r = c.canvas.getBoundingClientRect();
        return { x: r.left + c.scales.x.getPixelForValue(1), y: r.top + c.chartArea.bottom + 14, plotBottom: r.top + c.chartArea.bottom };
      })()`)) as { x: number; y: number; plotBottom: number };
      expect(spot.y).toBeGreaterThan(spot.plotBottom);
      await page.mouse.move(spot.x, spot.y);
      await page.waitForFunction(`window.__charts[${k}].canvas.title !== ''`, undefined, { timeout: 5000 });
      expect(await page.evaluate(`window.__charts[${k}].canvas.title`)).toBe('select limit at 2000: concurrency 2000 exceeds FD_SETSIZE (1024)');
      await page.mouse.move(spot.x, spot.y - 200);
      await page.waitForFunction(`window.__charts[${k}].canvas.title === ''`, undefined, { timeout: 5000 });
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
      expect(charts.filter((c) => c.type === 'bar')).toHaveLength(files.charts.filter((f) => /by-model|vs-ideal/.test(f)).length);
      const ioWait = charts.find((c) => c.title.startsWith('http (io-wait)'))!;
      expect(ioWait.type).toBe('bar');
      expect(ioWait.bars).toBe(3); // pooled at 4 and 64, per-request at 64
      expect(ioWait.ideal.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(charts.some((c) => c.title.startsWith('http (cpu): p99'))).toBe(true);
      expect(charts.some((c) => c.title.startsWith('http (churn): connect'))).toBe(true);
      // The payload lines are panels, titled by family.
      expect(await page.evaluate(`window.__figures.some((f) => f.title.startsWith('echo (payload)') && f.panels > 1)`)).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
