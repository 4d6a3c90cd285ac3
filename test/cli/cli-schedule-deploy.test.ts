import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ScheduleRow } from '../../contracts/schedule-rows';
import { untilValue } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { cli, parseJson, writeCliConfig } from './helpers';

/**
 * `fleetops deploy … --at/--cron`, `fleetops schedules` and `schedules cancel` against the dev server's
 * Temporal Schedules (in the default namespace, where the suite registered the search attributes). No
 * schedule here comes due: the runs themselves are test/deploy-trigger/'s.
 */


let env: TestWorkflowEnvironment;
let cliEnv: NodeJS.ProcessEnv;
let configDir: string;
const cluster = `cli${process.pid}${Date.now().toString(36)}`;

beforeAll(async () => {
  env = await connectDevServer();
  configDir = mkdtempSync(join(tmpdir(), 'fleetops-cli-schedule-'));
  const config = writeCliConfig(configDir, [{ cluster, name: 'web' }]);
  cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: 'default', FLEETOPS_CONFIG: config };
});

afterAll(async () => {
  for await (const s of env.client.schedule.list()) {
    if (s.scheduleId.includes(cluster)) await env.client.schedule.getHandle(s.scheduleId).delete().catch(() => undefined);
  }
  await env?.teardown();
  rmSync(configDir, { recursive: true, force: true });
});

const mine = async (): Promise<ScheduleRow[]> => {
  const out = await cli(['schedules', '--json'], cliEnv);
  expect(out.code).toBe(0);
  return parseJson<{ schedules: ScheduleRow[] }>(out.stdout).schedules.filter((r) => r.scheduleId.includes(cluster));
};

describe('fleetops deploy --at/--cron and fleetops schedules', () => {
  it('schedules numbered one-offs and a named recurring deploy, lists them, and cancels one', async () => {
    const at = new Date(Math.ceil((Date.now() + 2 * 3600_000) / 1000) * 1000).toISOString();
    const first = await cli(['deploy', cluster, 'web', '--image', 'registry.example/web:5', '--at', at, '--json'], cliEnv, undefined, 'alice');
    expect(first.code).toBe(0);
    expect(parseJson(first.stdout)).toEqual(expect.objectContaining({ scheduleId: `deploy-schedule-${cluster}-web-1`, when: `at ${at}`, next: at }));
    // The number is the next free one, once the first is listed.
    await untilValue('the first schedule listed', mine, (rows) => rows.length === 1, { timeoutMs: 10_000, intervalMs: 200 });
    const second = await cli(['deploy', cluster, 'web', '--image', 'registry.example/web:6', '--at', at, '--json'], cliEnv);
    expect(parseJson(second.stdout)).toEqual(expect.objectContaining({ scheduleId: `deploy-schedule-${cluster}-web-2` }));
    const cron = await cli(['deploy', cluster, 'web', '--image', 'registry.example/web:7', '--cron', '0 14 * * FRI', '--timezone', 'Asia/Tokyo', '--name', 'fridays'], cliEnv);
    expect(cron.code).toBe(0);
    expect(cron.stdout).toContain(`scheduled deploy-schedule-${cluster}-web-fridays: ${cluster}/web -> registry.example/web:7, cron 0 14 * * FRI Asia/Tokyo`);
    const again = await cli(['deploy', cluster, 'web', '--image', 'registry.example/web:7', '--cron', '@daily', '--name', 'fridays'], cliEnv);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists already');

    const rows = await untilValue('three schedules listed', mine, (r) => r.length === 3, { timeoutMs: 10_000, intervalMs: 200 });
    expect(rows.find((r) => r.scheduleId.endsWith('-web-1'))).toEqual(
      expect.objectContaining({ kind: 'deploy', what: `${cluster}/web -> registry.example/web:5`, when: `at ${at}`, next: at, lastRun: null, requestedBy: 'cli:alice' }),
    );
    const table = await cli(['schedules'], cliEnv);
    expect(table.stdout).toMatch(/^ID\s+KIND\s+WHAT\s+WHEN\s+NEXT/);
    expect(table.stdout).toContain(`deploy-schedule-${cluster}-web-fridays`);

    const cancel = await cli(['schedules', 'cancel', `deploy-schedule-${cluster}-web-2`], cliEnv);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain('cancelled');
    await untilValue('the cancelled schedule gone from the list', mine, (r) => r.length === 2, { timeoutMs: 10_000, intervalMs: 200 });
    expect((await cli(['schedules', 'cancel', `deploy-schedule-${cluster}-web-2`], cliEnv)).code).toBe(1);
    expect((await cli(['schedules', 'cancel', 'someone-elses'], cliEnv)).code).toBe(2);
  });

  it('a scheduled deploy gets the checks of a deploy at once: an image outside the service\'s repositories is refused, and nothing is scheduled', async () => {
    const out = await cli(['deploy', cluster, 'web', '--image', 'registry.evil.example/web:1', '--cron', '@daily'], cliEnv);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('refused');
    expect((await mine()).some((r) => r.what.includes('evil'))).toBe(false);
    expect((await cli(['deploy', cluster, 'web', '--image', 'registry.example/web:1', '--at', '2020-01-01T00:00Z'], cliEnv)).code).toBe(2);
  });
});
