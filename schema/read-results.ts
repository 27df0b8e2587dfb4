// Reading a results file: the report side's one door into a run. Version 1 and 2 files are upgraded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { SCHEMA_VERSION, type Cell, type MicroResults, type Results, type Settings } from './results.js';

export class ResultsError extends Error {
  readonly code = 'EBADRESULTS';
}

/** Read a results file, or the results.json inside a run folder; throws ResultsError with a one-line message. */
export function readResults(pathOrDir: string): Results {
  const path = pathOrDir.endsWith('.json') ? pathOrDir : join(pathOrDir, 'results.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ResultsError(`cannot read results file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ResultsError(`${path} is not JSON`);
  }
  const r = data as Partial<Results>;
  if (typeof r !== 'object' || r === null || typeof r.schemaVersion !== 'number' || !Array.isArray(r.cells)) {
    throw new ResultsError(`${path} is not a concurrency-bench results file (no schemaVersion or cells)`);
  }
  const major = Math.floor(r.schemaVersion);
  if (major === 1) return upgradeV1(r as Results);
  // Version 3 only added optional fields and scenarios: a version 2 file is a version 3 file without them.
  if (major === 2 || major === 3) return upgradeV3(r as Results);
  // Version 5 only added memory to the timelines.
  if (major === 4) return { ...(r as Results), schemaVersion: SCHEMA_VERSION };
  // Version 6 only added the optional Redis fields.
  if (major === 5) return { ...(r as Results), schemaVersion: SCHEMA_VERSION };
  // Version 7 only added optional fields (a cell's own delay, equal-rate cells, the noise probe; hosts: env.hosts, cells[].perHost).
  if (major === 6) return { ...(r as Results), schemaVersion: SCHEMA_VERSION };
  // Version 8 only added cells[].drift.noisePercent (and judges drift against it) and cells[].warmup.steps, stepMs.
  if (major === 7) return { ...(r as Results), schemaVersion: SCHEMA_VERSION };
  if (major === 8) return { ...(r as Results), schemaVersion: SCHEMA_VERSION };
  if (major !== SCHEMA_VERSION) {
    throw new ResultsError(`${path} has schemaVersion ${r.schemaVersion}; this version reads 1 to ${SCHEMA_VERSION}`);
  }
  return r as Results;
}

/**
 * Version 3's io-wait always waited on the service, and its figures were the cell's `backend`; in
 * version 4 `backend` names what was waited on and the service's figures are `service`.
 */
function upgradeV3(r: Results): Results {
  r.cells = r.cells.map((c) => {
    const old = c as Cell & { backend?: unknown };
    if (old.scenario !== 'io-wait') return c;
    const usage = typeof old.backend === 'object' && old.backend !== null ? (old.backend as Cell['service']) : null;
    return { ...old, backend: 'service', service: old.service ?? usage };
  });
  r.schemaVersion = SCHEMA_VERSION;
  return r;
}

/**
 * Version 1 had closed loop only, autocannon for HTTP and the echo client for echo, one thread each,
 * and counted every HTTP response as an operation: its figures are kept, the new fields filled with
 * what was true then.
 */
export function upgradeV1(r: Results): Results {
  const s = r.settings as Partial<Settings>;
  r.settings = {
    ...r.settings,
    httpClient: s.httpClient ?? 'autocannon',
    clientThreads: s.clientThreads ?? 1,
    pipeline: s.pipeline ?? 1,
    rates: s.rates ?? null,
    sweepFractions: s.sweepFractions ?? [],
    errorThreshold: s.errorThreshold ?? 1,
  };
  r.cells = r.cells.map((c) => {
    const old = c as Partial<Cell> & Cell;
    const cpu = old.client?.cpuPercent ?? 0;
    return {
      ...old,
      rate: old.rate ?? null,
      latencyUncorrectedUs: old.latencyUncorrectedUs ?? old.latencyUs,
      rateShortfall: old.rateShortfall ?? null,
      reconnects: old.reconnects ?? 0,
      outstanding: old.outstanding ?? 0,
      window: old.window ?? null,
      histograms: old.histograms ?? null,
      client: {
        tool: old.client?.tool ?? (old.protocol === 'http' ? 'autocannon' : 'native'),
        threads: old.client?.threads ?? 1,
        cpuPercent: cpu,
        cpuUsPerOp: old.client?.cpuUsPerOp ?? (old.ops > 0 ? (cpu / 100) * old.durationS * 1e6 / old.ops : null),
        threadCpuPercentMax: old.client?.threadCpuPercentMax ?? cpu,
        saturated: old.client?.saturated ?? false,
      },
    };
  });
  r.schemaVersion = SCHEMA_VERSION;
  return r;
}

/**
 * micro.json beside a run: in its folder, or in the folder that holds it (where `npm run micro`
 * writes by default). Null when there is none or it is not a micro file: findings then go without.
 */
export function readMicroNear(runDir: string): MicroResults | null {
  for (const path of [join(runDir, 'micro.json'), join(dirname(runDir), 'micro.json')]) {
    if (!existsSync(path)) continue;
    try {
      const m = JSON.parse(readFileSync(path, 'utf8')) as MicroResults;
      if (m.kind === 'micro' && Array.isArray(m.tasks)) return m;
    } catch {
      // a half-written or foreign file: no explanation is better than a wrong one
    }
  }
  return null;
}
