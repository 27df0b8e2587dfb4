// The ready examples of examples/models.json (Python threading, selectors, asyncio, gevent; nginx)
// measured beside a built-in model. .ci/run installs what they need; elsewhere a missing
// interpreter or package must show as a `limit` cell naming the Debian package.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { readResults } from '../../report/read-results.js';
import { requireTool } from '../helpers/tools.js';

function has(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

const present: Record<string, boolean> = {
  'py-threading': existsSync('/usr/bin/python3'),
  'py-selectors': existsSync('/usr/bin/python3'),
  'py-asyncio': existsSync('/usr/bin/python3'),
  'py-gevent': has(() => execFileSync('/usr/bin/python3', ['-c', 'import gevent'], { stdio: 'ignore' })),
  nginx: has(() => execFileSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' })),
};

describe('examples/models.json', () => {
  it('puts the Python servers and nginx beside epoll, each verified and measured, or a limit naming its package', () => {
    requireTool('python3-gevent', present['py-gevent']!, 'apt-get install python3-gevent');
    requireTool('nginx', present.nginx!, 'apt-get install nginx-light');
    const out = mkdtempSync(join(tmpdir(), 'examples-'));
    const r = spawnSync(process.execPath, [dist('scripts/bench.js'), '--models-file', join(PROJECT_ROOT, 'examples', 'models.json'), '--scenarios', 'steady',
      '--models', `${Object.keys(present).join(',')},epoll`, '--concurrency', '4', '--duration', '0.3s', '--warmup', '0.1s', '--out', out], { encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const results = readResults(join(out, readlinkSync(join(out, 'latest'))));
    const cells = results.cells;
    // Python serves both protocols; nginx only HTTP.
    expect(cells.map((c) => `${c.model}/${c.protocol}`).sort()).toEqual([
      'epoll/echo', 'epoll/http', 'nginx/http', 'py-asyncio/echo', 'py-asyncio/http', 'py-gevent/echo', 'py-gevent/http',
      'py-selectors/echo', 'py-selectors/http', 'py-threading/echo', 'py-threading/http',
    ]);
    for (const c of cells) {
      if (c.model === 'epoll' || present[c.model]) {
        expect(c.status, `${c.model} ${c.protocol}: ${c.reason ?? ''}`).toBe('ok');
        expect(c.errors.total).toBe(0);
      } else {
        expect(c.status).toBe('limit');
        expect(c.reason).toMatch(/Debian package: (python3-gevent|nginx-light|python3)\)$/);
      }
    }
    if (present.nginx) {
      // nginx runs a master and {workers} worker processes: the harness samples and ends them all.
      expect(cells.find((c) => c.model === 'nginx')!.server.processesPeak).toBe(results.settings.workers + 1);
    }
    expect(results.settings.externalModels!.find((m) => m.name === 'py-threading')!.version).toMatch(/^Python 3\./);
    if (present.nginx) expect(results.settings.externalModels!.find((m) => m.name === 'nginx')!.version).toMatch(/^nginx version: nginx\//);
  });
});
