import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contractEnv, CONTRACT_VARIABLES, readModelsFile, type ExternalModel } from '../../harness/external.js';
import { infoField, missingRedis, redisNeeded, redisUsageBetween } from '../../harness/redis.js';

const model = (o: Partial<ExternalModel> = {}): ExternalModel => ({
  name: 'q', family: 'external', command: ['/bin/sh', '-c', 'x {port}'], protocols: ['http'], scenarios: ['cpu'], needs: ['redis'], ...o,
});

function modelsFile(entry: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'redis-models-'));
  writeFileSync(join(dir, 'models.json'), JSON.stringify({ models: [{ name: 'q', command: ['./q', '{port}'], ...entry }] }));
  return join(dir, 'models.json');
}

describe('a model that needs Redis', () => {
  it('reads "needs" from a models file, and refuses a service the harness does not run', () => {
    expect(readModelsFile(modelsFile({ needs: ['redis'] }), [])[0]!.needs).toEqual(['redis']);
    expect(readModelsFile(modelsFile({}), [])[0]!.needs).toBeUndefined();
    expect(() => readModelsFile(modelsFile({ needs: ['memcached'] }), [])).toThrow(/"needs" must list services the harness runs: redis/);
  });

  it('learns where Redis is from CB_REDIS_HOST and CB_REDIS_PORT, which are removed from what the harness inherited', () => {
    const cell = { scenario: 'cpu' as const, protocol: 'http' as const, port: 1, workers: 4, backendDelayMs: 10, workUs: 200 };
    expect(contractEnv(cell, { kind: 'cpu', iterations: 1 }, 6380)).toMatchObject({ CB_REDIS_HOST: '127.0.0.1', CB_REDIS_PORT: '6380' });
    expect(contractEnv(cell, { kind: 'cpu', iterations: 1 })).not.toHaveProperty('CB_REDIS_PORT');
    expect(CONTRACT_VARIABLES).toEqual(expect.arrayContaining(['CB_REDIS_HOST', 'CB_REDIS_PORT']));
  });

  it('is a limit naming redis-server where it is not on PATH', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(missingRedis(model())).toBe('q needs Redis (its entry says "needs": ["redis"]): redis-server is not on PATH (Debian package: redis-server)');
      expect(missingRedis(model({ needs: undefined }))).toBeNull();
      // A plan whose only Redis model cannot run starts no Redis.
      expect(redisNeeded({ external: [model()] }, [{ model: 'q', scenario: 'cpu' }])).toBe(false);
    } finally {
      process.env.PATH = path;
    }
  });

  it('starts Redis only for a cell of a scenario the model declares', () => {
    const plan = { external: [model({ command: ['/bin/sh'], requires: [] })] };
    expect(redisNeeded(plan, [{ model: 'q', scenario: 'steady' }, { model: 'epoll', scenario: 'cpu' }])).toBe(false);
    expect(redisNeeded(plan, [{ model: 'q', scenario: 'cpu' }])).toBe(missingRedis(plan.external[0]!) === null);
  });

  it("counts a cell's commands and connections without the harness's own readings", () => {
    expect(redisUsageBetween({ commands: 100, connections: 10 }, { commands: 1101, connections: 15 }, 12.5, 4096, 5)).toEqual({ cpuPercent: 12.5, pssPeakBytes: 4096, threadsPeak: 5, commands: 1000, connectionsOpened: 4 });
    expect(infoField('# Stats\r\ntotal_connections_received:7\r\ntotal_commands_processed:42\r\n', 'total_commands_processed')).toBe('42');
  });
});
