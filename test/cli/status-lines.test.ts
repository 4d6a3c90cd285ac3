import { recordLine, statusLines } from '../../cli/status-lines';

/** `fleetops status` as text (cli/status-lines.ts): lists of records one a line, never JSON arrays. */

describe('status lines', () => {
  it('prints a drain\'s steps with their time, name, status, duration and detail, and its events', () => {
    const lines = statusLines({
      phase: 'waiting-for-tasks',
      summary: 'draining i-0abc',
      instanceId: 'i-0abc',
      steps: [
        { name: 'set-draining', status: 'done', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:00.400Z', detail: 'DRAINING' },
        { name: 'wait-for-tasks', status: 'running', startedAt: '2026-01-01T00:00:01.000Z' },
      ],
      events: [{ kind: 'interruption-warning', eventId: 'e1', eventTime: '2026-01-01T00:00:00.000Z', receivedAt: '2026-01-01T00:00:00.100Z' }],
      rerunFailed: [],
      lifecycle: { hook: 'drain', token: 't' },
    } as never);
    expect(lines).toEqual([
      '  phase:    waiting-for-tasks',
      '  summary:  draining i-0abc',
      '  instanceId: i-0abc',
      '  steps:',
      '    2026-01-01T00:00:00.000Z  set-draining  done  (0.4 s): DRAINING',
      '    2026-01-01T00:00:01.000Z  wait-for-tasks  running',
      '  events:',
      '    2026-01-01T00:00:00.100Z  interruption-warning  eventId=e1  eventTime=2026-01-01T00:00:00.000Z',
      '  rerunFailed: none',
      '  lifecycle: hook=drain  token=t',
    ]);
  });

  it('puts a record\'s free text last and flattens what nests in it', () => {
    expect(recordLine({ at: '2026-01-01T00:00:00.000Z', phase: 'baking', decision: 'rollback', reason: 'alarm demo-web-5xx', check: { name: '5xx', value: 3 } })).toBe(
      '2026-01-01T00:00:00.000Z  rollback  baking  check.name=5xx  check.value=3: alarm demo-web-5xx',
    );
    expect(statusLines({ phase: 'p', summary: 's', tags: ['a', 'b'], paused: true } as never)).toEqual(['  phase:    p', '  summary:  s', '  paused:   yes (resume to continue)', '  tags: a, b']);
  });
});
