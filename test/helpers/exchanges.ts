// The exchanges of one load thread without sockets or an epoll set: enough for unit tests to see
// what the schedule makes due and what the timeout scan ends, on a table they fill themselves.
import type { ConnectionTable } from '../../clients/connections.js';
import { Control, Phase } from '../../clients/control.js';
import type { EngineOptions } from '../../clients/engine.js';
import { Exchanges } from '../../clients/exchange.js';
import type { OpenLoopSchedule } from '../../clients/schedule.js';
import { WindowRecorder } from '../../clients/window.js';
import type { Epoll } from '../../sys/readiness.js';

/** In the run phase; connections the test leaves closed send nothing. */
export function exchangesFor(schedule: OpenLoopSchedule | null, table: ConnectionTable, overrides: Partial<EngineOptions> = {}): Exchanges {
  const o: EngineOptions = {
    protocol: 'echo', host: '127.0.0.1', port: 1, first: 0, connections: table.count, totalConnections: table.count, payloadBytes: 16, request: null, expected: null,
    pipeline: 1, durationS: 1, rate: schedule === null ? null : 100_000, sendBatchUs: null, timeoutMs: 1000, connectCapMs: 1000, churn: false, thread: 0, ...overrides,
  };
  const io = new Exchanges(o, Control.create(1), null as unknown as Epoll, table, new WindowRecorder(1, schedule !== null), schedule);
  io.phase = Phase.Run;
  return io;
}
