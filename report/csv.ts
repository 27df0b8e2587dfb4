// Every cell of a results file as one flat CSV row (RFC 4180), for spreadsheets and pandas.
import type { Cell, Results } from '../schema/results.js';

type Value = string | number | boolean | null | undefined;

/** Column name -> value; units are in the names, as in the results schema. */
const COLUMNS: [string, (c: Cell, r: Results) => Value][] = [
  ['runId', (_, r) => r.runId],
  ['model', (c) => c.model],
  ['family', (c) => c.family],
  ['protocol', (c) => c.protocol],
  ['scenario', (c) => c.scenario],
  ['concurrency', (c) => c.concurrency],
  ['repetition', (c) => c.repetition],
  ['status', (c) => c.status],
  ['reason', (c) => c.reason],
  ['durationS', (c) => c.durationS],
  ['ops', (c) => c.ops],
  ['opsPerSec', (c) => c.opsPerSec],
  ['bytesPerSec', (c) => c.bytesPerSec],
  ['errors_total', (c) => c.errors?.total],
  // code=count pairs joined by ';', sorted, so the column is stable and needs no nested quoting
  ['errors_by_code', (c) => Object.entries(c.errors?.byCode ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(';')],
  ['latency_p50_us', (c) => c.latencyUs?.p50],
  ['latency_p90_us', (c) => c.latencyUs?.p90],
  ['latency_p99_us', (c) => c.latencyUs?.p99],
  ['latency_p999_us', (c) => c.latencyUs?.p999],
  ['latency_max_us', (c) => c.latencyUs?.max],
  ['latency_mean_us', (c) => c.latencyUs?.mean],
  ['server_cpu_user_s', (c) => c.server?.cpuUserS],
  ['server_cpu_sys_s', (c) => c.server?.cpuSysS],
  ['server_cpu_percent', (c) => c.server?.cpuPercent],
  ['server_rss_peak_bytes', (c) => c.server?.rssPeakBytes],
  ['server_rss_mean_bytes', (c) => c.server?.rssMeanBytes],
  ['server_pss_peak_bytes', (c) => c.server?.pssPeakBytes],
  ['server_threads_peak', (c) => c.server?.threadsPeak],
  ['server_processes_peak', (c) => c.server?.processesPeak],
  ['server_ctx_voluntary', (c) => c.server?.ctxVoluntary],
  ['server_ctx_involuntary', (c) => c.server?.ctxInvoluntary],
  ['client_cpu_percent', (c) => c.client?.cpuPercent],
  ['client_saturated', (c) => c.client?.saturated],
  ['connect_p50_us', (c) => c.connectUs?.p50],
  ['connect_p99_us', (c) => c.connectUs?.p99],
  ['connect_max_us', (c) => c.connectUs?.max],
  ['backend_connections', (c) => c.backendConnections],
  ['ideal_ops_per_sec', (c) => c.ideal?.opsPerSec],
  ['backend_cpu_percent', (c) => c.service?.cpuPercent],
  ['backend', (c) => c.backend],
  ['db_pool', (c) => c.dbPool],
  ['database_cpu_percent', (c) => c.database?.cpuPercent],
  ['database_pss_peak_bytes', (c) => c.database?.pssPeakBytes],
  ['database_processes_peak', (c) => c.database?.processesPeak],
  ['database_sessions_opened', (c) => c.database?.sessionsOpened],
  ['database_queries', (c) => c.database?.queries],
  ['time_wait_before', (c) => c.timeWait?.before],
  ['time_wait_after', (c) => c.timeWait?.after],
  // The payload scenario's own size; elsewhere the run's echo message size.
  ['payloadBytes', (c, r) => c.payloadBytes ?? r.settings?.payloadBytes],
];

export const CSV_HEADER: readonly string[] = COLUMNS.map(([name]) => name);

/** One field: quoted when it holds a comma, a quote, CR or LF, with quotes doubled; null/undefined is empty. */
export function csvField(v: Value): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Header plus one row per cell (every repetition), CRLF line breaks as RFC 4180 asks. */
export function cellsToCsv(results: Results): string {
  const lines = [CSV_HEADER.map(csvField).join(',')];
  for (const c of results.cells) lines.push(COLUMNS.map(([, get]) => csvField(get(c, results))).join(','));
  return lines.join('\r\n') + '\r\n';
}
