import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createIncidentActivities } from '../../activities/incident';
import type { PageRequest } from '../../common/incident/model';
import { FailureType } from '../../common/failures';
import { FakePagerDuty, incidentTestConfig } from './fixtures';

/**
 * The sendPage activity against the PagerDuty Events API v2 stand-in, which checks the documented
 * request shape: what a trigger, an acknowledge and a resolve send; which answers are retried; and
 * that the routing key never appears in an error.
 */

const KEY_ENV = 'FLEETOPS_TEST_PD_ACTIVITY_KEY';
let pd: FakePagerDuty;

beforeEach(async () => {
  pd = new FakePagerDuty();
  await pd.start();
});

afterEach(async () => {
  await pd.stop();
});

function activities(routingKey = pd.routingKey) {
  process.env[KEY_ENV] = routingKey;
  const config = incidentTestConfig({
    postmortemDir: mkdtempSync(join(tmpdir(), 'pm-')),
    incidents: { pagerduty: { routingKey: `\${${KEY_ENV}}`, eventsUrl: pd.url, severities: ['sev1'] } },
  });
  return createIncidentActivities({ config });
}

const trigger: PageRequest = { action: 'trigger', dedupKey: 'incident-alarm-api-5xx', workflowId: 'incident-alarm-api-5xx', summary: 'sev1 API 5xx', source: 'api-5xx', severity: 'sev1' };

describe('PagerDuty Events API v2', () => {
  it('triggers with payload summary/source/severity and the workflow id as dedup key; acknowledges and resolves by that key', async () => {
    const acts = activities();
    expect(await acts.sendPage(trigger)).toEqual({ dedupKey: 'incident-alarm-api-5xx', message: 'Event processed' });
    expect(pd.events[0]).toMatchObject({
      contentType: 'application/json',
      body: {
        routing_key: pd.routingKey,
        event_action: 'trigger',
        dedup_key: 'incident-alarm-api-5xx',
        payload: { summary: 'sev1 API 5xx', source: 'api-5xx', severity: 'critical', component: 'fleetops', class: 'incident', custom_details: { workflowId: 'incident-alarm-api-5xx', severity: 'sev1' } },
        client: 'fleetops',
        client_url: 'http://127.0.0.1:8233/namespaces/default/workflows/incident-alarm-api-5xx',
      },
    });
    // Again: PagerDuty joins the open alert rather than opening a second one.
    await acts.sendPage(trigger);
    expect(pd.alerts.get('incident-alarm-api-5xx')).toMatchObject({ status: 'triggered', triggers: 2 });
    await acts.sendPage({ action: 'acknowledge', dedupKey: 'incident-alarm-api-5xx', workflowId: 'incident-alarm-api-5xx' });
    expect(pd.alerts.get('incident-alarm-api-5xx')?.status).toBe('acknowledged');
    await acts.sendPage({ action: 'resolve', dedupKey: 'incident-alarm-api-5xx', workflowId: 'incident-alarm-api-5xx' });
    expect(pd.alerts.get('incident-alarm-api-5xx')?.status).toBe('resolved');
    expect(Object.keys(pd.events[3]!.body).sort()).toEqual(['dedup_key', 'event_action', 'routing_key']);
    // The policy says which severities page.
    expect((await acts.incidentPolicy('sev1')).paging).toBe(true);
    expect((await acts.incidentPolicy('sev2')).paging).toBeUndefined();
  });

  it('an invalid event is not retried and its error does not carry the routing key; 5xx and 429 are retried, after Retry-After', async () => {
    const wrongKey = 'WR0NGKEY000000000000000000000099';
    const err = await activities(wrongKey).sendPage(trigger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe(FailureType.InvalidRequest);
    expect((err as ApplicationFailure).message).toBe("PagerDuty trigger: HTTP 400 Event object is invalid; 'routing_key' is not a valid integration key");
    expect(JSON.stringify(err)).not.toContain(wrongKey);

    const acts = activities();
    pd.failNext = 1;
    const down = await acts.sendPage(trigger).catch((e: unknown) => e);
    expect((down as ApplicationFailure).nonRetryable).toBe(false);
    expect((down as ApplicationFailure).message).toBe('PagerDuty trigger: HTTP 500 Internal Server Error');

    const limited = createIncidentActivities({
      config: incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'pm-')), incidents: { pagerduty: { routingKey: `\${${KEY_ENV}}`, eventsUrl: pd.url } } }),
      fetch: async () => new Response(JSON.stringify({ status: 'throttle event', message: 'Requests for this service are arriving too quickly.' }), { status: 429, headers: { 'retry-after': '30' } }),
    });
    const slow = await limited.sendPage(trigger).catch((e: unknown) => e);
    expect((slow as ApplicationFailure).nonRetryable).toBe(false);
    expect((slow as ApplicationFailure).nextRetryDelay).toBe('30s');

    await expect(createIncidentActivities({ config: incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'pm-')) }) }).sendPage(trigger)).rejects.toThrow(
      'PagerDuty is not configured (incidents.pagerduty)',
    );
  });
});
