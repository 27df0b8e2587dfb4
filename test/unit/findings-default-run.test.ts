// Every rule on a real default run (test/fixtures/results-default.json: `npm run bench` on two
// cores, its histograms dropped to keep the file small; see the README's "Tests"): each claim the
// default suite is built to answer gets a verdict from measured cells, with its margin beside the
// run's noise, and the Python claims, which need the python suite, say what to run.
import { describe, expect, it } from 'vitest';
import { findings } from '../../report/findings.js';
import { runNoise } from '../../report/noise.js';
import { readResults } from '../../schema/read-results.js';

const FIXTURE = new URL('../fixtures/results-default.json', import.meta.url).pathname;
const PYTHON = ['python-gil', 'python-threadpool-cap', 'python-many-waits', 'python-psycopg2-async', 'python-framework-cost', 'python-job-queue'];

describe('findings on a real default run', () => {
  const results = readResults(FIXTURE);
  const all = findings(results);

  it('is a default run with its noise probe', () => {
    expect(results.settings.suite).toBe('default');
    const noise = runNoise(results)!;
    expect(noise.readings).toBe(5);
    expect(noise.ops).toBeGreaterThan(0);
  });

  it('answers every claim the default suite is built for from measured cells, each with its margin against the noise', () => {
    const own = all.filter((f) => !PYTHON.includes(f.id));
    expect(own.map((f) => f.id)).toHaveLength(11);
    for (const f of own) {
      expect(f.verdict, `${f.id}: ${f.sentence}`).not.toBe('not measured');
      expect(f.margin, f.id).toBeTruthy();
      expect(f.sentence, f.id).not.toMatch(/NaN|undefined|Infinity/);
    }
    // The comparisons of two figures name the noise they had to beat, measured in this run.
    for (const id of ['few-connections', 'busy-poll-cpu', 'io-wait', 'backend-per-request', 'churn']) {
      expect(all.find((f) => f.id === id)!.margin, id).toMatch(/over 5 readings of epoll echo at 64 connections|intervals of their/);
    }
  });

  it('rests io-wait on the 1,000 waits of the service at 100 ms, and busy-poll on equal rates', () => {
    const io = all.find((f) => f.id === 'io-wait')!;
    expect(io.sentence).toMatch(/at 1,000 connections on the service, each request waiting 100 ms/);
    expect(io.sentence).toMatch(/at 64 connections on PostgreSQL/);
    const busy = all.find((f) => f.id === 'busy-poll-cpu')!;
    expect(busy.sentence).toMatch(/^At the same offered load, at [\d,]+ ops\/s \(10% of epoll's closed-loop rate\)/);
    expect(busy.sentence).toMatch(/with nothing to do, \d+% against \d+%/);
  });

  it('says what to run for the Python claims, which the default suite does not measure', () => {
    for (const f of all.filter((x) => PYTHON.includes(x.id))) {
      expect(f.verdict, f.id).toBe('not measured');
      expect(f.sentence, f.id).toMatch(/--suite python --models-file examples\/models\.json|install python3-/);
    }
  });
});
