// report.html opened in a real browser: it is self-contained and every chart decodes.
// Needs Debian's chromium (apt-get install chromium); skipped with a note when it is absent.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../../report/report.js';
import { requireTool } from '../helpers/tools.js';

function findChromium(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const executablePath = findChromium();
const present = requireTool('chromium', executablePath !== null);

describe.skipIf(!present)('report.html in headless Chromium', () => {
  it('shows every chart with no network access', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'html-report-'));
    cpSync(join(import.meta.dirname, '..', 'fixtures', 'results-small.json'), join(runDir, 'results.json'));
    const files = await writeReport(runDir);
    const browser = await chromium.launch({
      executablePath: executablePath!,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });
      const images = await page.$$eval('img', (imgs) => imgs.map((i) => ({ w: i.naturalWidth, h: i.naturalHeight, complete: i.complete })));
      expect(images.length).toBe(files.charts.length);
      for (const img of images) expect(img).toEqual({ w: 1200, h: 600, complete: true });
      expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
      expect(await page.textContent('body')).toContain('Notes');
    } finally {
      await browser.close();
    }
  });
});
