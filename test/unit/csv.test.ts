import { describe, expect, it } from 'vitest';
import { CSV_HEADER, cellsToCsv, csvField } from '../../report/csv.js';
import { readResults } from '../../schema/read-results.js';

const FIXTURE = new URL('../fixtures/results-small.json', import.meta.url).pathname;

/** A small RFC 4180 reader, to check the writer round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += ch;
  }
  return rows;
}

describe('csvField', () => {
  it('quotes only what needs quoting and doubles quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(12.5)).toBe('12.5');
    expect(csvField(false)).toBe('false');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });
});

describe('cellsToCsv', () => {
  const results = readResults(FIXTURE);
  const text = cellsToCsv(results);
  const rows = parseCsv(text);

  it('has the header and one row per cell, CRLF-terminated', () => {
    expect(text.split('\r\n')[0]).toBe(CSV_HEADER.join(','));
    expect(CSV_HEADER.slice(0, 9)).toEqual(['runId', 'model', 'family', 'protocol', 'scenario', 'concurrency', 'repetition', 'status', 'reason']);
    expect(CSV_HEADER).toContain('latency_p50_us');
    expect(CSV_HEADER).toContain('server_cpu_user_s');
    expect(CSV_HEADER).toContain('client_saturated');
    expect(CSV_HEADER[CSV_HEADER.length - 1]).toBe('payloadBytes');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(rows).toHaveLength(results.cells.length + 1);
    for (const r of rows) expect(r).toHaveLength(CSV_HEADER.length);
  });

  it('quotes a reason holding a comma and quotes, and it reads back unchanged', () => {
    expect(text).toContain('"server exited with code 1: ""accept: EMFILE"", too many open files"');
    const col = (name: string) => CSV_HEADER.indexOf(name);
    const failed = rows.find((r) => r[col('status')] === 'failed')!;
    expect(failed[col('reason')]).toBe('server exited with code 1: "accept: EMFILE", too many open files');
    expect(failed[col('model')]).toBe('select');
  });

  it('writes the values of a cell in the named columns', () => {
    const col = (name: string) => CSV_HEADER.indexOf(name);
    const row = rows.find((r) => r[col('model')] === 'async' && r[col('protocol')] === 'http' && r[col('concurrency')] === '2000' && r[col('repetition')] === '1')!;
    expect(row[col('runId')]).toBe('2025-01-02T03-04-05Z-fixture');
    expect(row[col('opsPerSec')]).toBe('30000');
    expect(row[col('errors_total')]).toBe('3');
    expect(row[col('errors_by_code')]).toBe('ECONNRESET=2;ETIMEDOUT=1');
    expect(row[col('latency_p99_us')]).toBe('40000');
    expect(row[col('server_cpu_user_s')]).toBe('3.8');
    expect(row[col('payloadBytes')]).toBe('64');
    const saturated = rows.filter((r) => r[col('client_saturated')] === 'true');
    expect(saturated).toHaveLength(1);
    const noPss = rows.find((r) => r[col('model')] === 'select' && r[col('protocol')] === 'echo' && r[col('concurrency')] === '1')!;
    expect(noPss[col('server_pss_peak_bytes')]).toBe('');
  });
});
