import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBytes, parsePlan, parseSeconds, PlanError, QUICK } from '../../harness/plan.js';
import { planCells } from '../../harness/run.js';

const out = mkdtempSync(join(tmpdir(), 'plan-test-'));
const parse = (...args: string[]) => parsePlan([...args, '--out', out]);
const message = (...args: string[]): string => {
  try {
    parse(...args);
  } catch (e) {
    expect(e).toBeInstanceOf(PlanError);
    return (e as Error).message;
  }
  throw new Error('expected a PlanError');
};

describe('parsePlan', () => {
  it('has sane defaults', () => {
    const p = parse()!;
    expect(p.protocols).toEqual(['echo', 'http']);
    expect(p.concurrency).toEqual([1, 16, 64, 256]);
    expect(p.durationS).toBe(1);
    expect(p.warmupS).toBe(0.3);
    expect(p.repetitions).toBe(1);
    expect(p.payloadBytes).toBe(64);
    expect(p.scenarios).toEqual(['steady']);
    expect(p.models).toContain('async');
  });

  it('--quick shortens the plan but explicit flags still win', () => {
    const q = parse('--quick')!;
    expect(q.concurrency).toEqual([1, 16]);
    expect(q.durationS).toBe(Number.parseFloat(QUICK.duration));
    expect(parse('--quick', '--concurrency', '8')!.concurrency).toEqual([8]);
  });

  it('parses lists, durations and sizes', () => {
    const p = parse('--models', 'async,node-http', '--concurrency', '64,1,64', '--duration', '500ms', '--warmup', '0', '--memory-budget', '2GiB')!;
    expect(p.models).toEqual(['async', 'node-http']);
    expect(p.concurrency).toEqual([1, 64]);
    expect(p.durationS).toBe(0.5);
    expect(p.warmupS).toBe(0);
    expect(p.memoryBudgetBytes).toBe(2 * 2 ** 30);
  });

  it('returns null for --help', () => {
    expect(parsePlan(['--help'])).toBeNull();
  });

  it.each([
    [['--models', 'nope'], /^--models: unknown model "nope"; known: async, node-http, .*, all$/],
    [['--protocols', 'ftp'], /^--protocols: unknown protocol "ftp"; known: echo, http$/],
    [['--scenarios', 'storm'], /^--scenarios: unknown scenario "storm"; known: steady, idle$/],
    [['--concurrency', '0'], /^--concurrency: must be a positive integer, got "0"$/],
    [['--concurrency', '1,,2'], /^--concurrency: expected a comma-separated list/],
    [['--concurrency', '-4'], /^--concurrency: must be a positive integer/],
    [['--duration', '0'], /^--duration: must be a positive duration like 3s, 500ms or 1.5, got "0"$/],
    [['--duration', 'soon'], /^--duration: must be a positive duration/],
    [['--warmup', '-1s'], /^--warmup: must be zero or more/],
    [['--repetitions', '1.5'], /^--repetitions: must be a positive integer/],
    [['--payload', '0'], /^--payload: must be a positive integer/],
    [['--payload', '999999999'], /^--payload: at most 67108864 bytes/],
    [['--pin', 'maybe'], /^--pin: unknown value "maybe"; known: auto, off$/],
    [['--memory-budget', 'lots'], /^--memory-budget: must be a size like 512MiB/],
    [['--models', 'node-http', '--protocols', 'echo'], /^--models\/--protocols: no model in node-http serves echo$/],
    [['--bogus'], /^--bogus: unknown flag; allowed: --models, --protocols/],
    [['stray'], /^unexpected argument "stray"/],
    [['--models'], /^--models: needs a value \(see --help\)$/],
  ])('rejects %j with a one-line message naming the flag', (args, expected) => {
    const m = message(...args);
    expect(m).toMatch(expected);
    expect(m).not.toContain('\n');
  });

  it('rejects an --out that cannot be written', () => {
    const file = join(out, 'a-file');
    writeFileSync(file, 'x');
    expect(() => parsePlan(['--out', join(file, 'below')])).toThrow(/^--out: cannot write to ".*": ENOTDIR$/);
  });

  it('parseSeconds and parseBytes accept their documented forms', () => {
    expect(parseSeconds('--x', '1.5', false)).toBe(1.5);
    expect(parseSeconds('--x', '250ms', false)).toBe(0.25);
    expect(parseBytes('--x', '512MiB')).toBe(512 * 2 ** 20);
    expect(parseBytes('--x', '1024')).toBe(1024);
  });
});

describe('planCells', () => {
  it('runs repetitions as the outer loop, so repetitions interleave across cells', () => {
    const p = parse('--models', 'async,node-http', '--concurrency', '1,4', '--repetitions', '2')!;
    const cells = planCells(p);
    // async: echo+http, node-http: http only -> 3 (model, protocol) pairs x 2 concurrencies x 2 repetitions
    expect(cells).toHaveLength(12);
    expect(cells.slice(0, 6).every((c) => c.repetition === 1)).toBe(true);
    expect(cells.slice(6).every((c) => c.repetition === 2)).toBe(true);
    expect(cells.some((c) => c.model === 'node-http' && c.protocol === 'echo')).toBe(false);
  });
});
