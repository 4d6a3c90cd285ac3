import { FleetopsCluster, FleetopsKind, FleetopsSeverity } from '../../common/search-attributes';
import { TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { parseEvent } from '../../router/events';
import { matchAlarmRoute, routeEvent, RouteValidationError, shortIdOf, type RouteResult } from '../../router/routes';
import { ALL_KINDS, createTestWorld, example } from '../../testkit/router/fixtures';

const world = createTestWorld();

function route(raw: unknown, opts = {}): RouteResult {
  const parsed = parseEvent(raw);
  if (!parsed.ok) throw new Error(parsed.error);
  return routeEvent(parsed.event, world.config, opts);
}

describe('event parsers', () => {
  it.each(ALL_KINDS)('parses the AWS-shaped example of %s as its kind', (kind) => {
    const parsed = parseEvent(example(kind));
    expect(parsed).toMatchObject({ ok: true, event: { kind } });
  });

  it('treats an envelope of an unknown source/detail-type as unknown, not invalid', () => {
    const e = { ...example('rebalance-recommendation'), source: 'aws.s3', 'detail-type': 'Object Created' };
    expect(parseEvent(e)).toMatchObject({ ok: true, event: { kind: 'unknown' } });
  });

  it.each([
    ['spot-interruption-warning', 'instance-id', 'i-XYZ', 'detail.instance-id'],
    ['rebalance-recommendation', 'instance-id', 42, 'detail.instance-id'],
    ['lifecycle-terminate', 'LifecycleTransition', 'autoscaling:EC2_INSTANCE_LAUNCHING', 'detail.LifecycleTransition'],
    ['alarm-state-change', 'state', { value: 'MAYBE' }, 'detail.state.value'],
    ['ecs-deployment-state-change', 'eventType', 'DEBUG', 'detail.eventType'],
    ['ecs-service-action', 'eventName', 'lower case', 'detail.eventName'],
    ['deploy-requested', 'taskDefinition', 'web:3', 'detail.taskDefinition'],
    ['incident-declared', 'severity', 'sev9', 'detail.severity'],
  ] as const)('%s: a bad %s is named in the error', (kind, field, value, path) => {
    const e = example(kind);
    e.detail[field] = value;
    const parsed = parseEvent(e, ['events', 4]);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain(`events[4].${path}:`);
  });

  it('names envelope fields: time must be a timestamp, account 12 digits', () => {
    expect(parseEvent({ ...example('rebalance-recommendation'), time: 'yesterday' })).toMatchObject({ ok: false, error: expect.stringMatching(/^time: /) });
    expect(parseEvent({ ...example('rebalance-recommendation'), account: '12' })).toMatchObject({ ok: false, error: expect.stringMatching(/^account: /) });
  });
});

describe('routes', () => {
  it('drain events go to spotDrain on fleetops-critical as signal-with-start with the deadline of event time + 120 s', () => {
    const e = world.event('spot-interruption-warning', { instanceId: 'i-0123456789abcdef0' });
    const d = route(e);
    expect(d).toMatchObject({
      action: 'signalWithStart',
      workflowType: 'spotDrain',
      taskQueue: TASK_QUEUE_CRITICAL,
      workflowId: 'drain-i-0123456789abcdef0',
      args: [{ instanceId: 'i-0123456789abcdef0' }],
      signal: {
        name: 'drainEvent',
        arg: { kind: 'interruption-warning', instanceId: 'i-0123456789abcdef0', eventId: e.id, eventTime: e.time, deadline: new Date(Date.parse(e.time) + 120_000).toISOString() },
      },
    });
    const lifecycle = route(world.event('lifecycle-terminate', { instanceId: 'i-0123456789abcdef0' }));
    expect(lifecycle).toMatchObject({
      workflowId: 'drain-i-0123456789abcdef0',
      taskQueue: TASK_QUEUE_CRITICAL,
      signal: { arg: { kind: 'lifecycle-terminate', lifecycle: { hookName: 'my-lifecycle-hook', asgName: 'my-asg', actionToken: '630aa23f-48eb-45e7-aba6-799ea6093a0f' } } },
      // A lifecycle action after a finished drain starts a new run (which completes it), never `duplicate`.
      reusePolicy: 'ALLOW_DUPLICATE',
    });
    expect(d).toMatchObject({ reusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' });
    expect(route(world.event('rebalance-recommendation'))).toMatchObject({ signal: { arg: { kind: 'rebalance-recommendation' } } });
  });

  it('stop and hibernate: the warning and the state changes say the instance comes back; running is signalled to its drain', () => {
    const warning = world.event('spot-interruption-warning', { instanceId: 'i-0123456789abcdef0' });
    (warning.detail as Record<string, unknown>)['instance-action'] = 'hibernate';
    expect(route(warning)).toMatchObject({ action: 'signalWithStart', signal: { arg: { kind: 'interruption-warning', instanceAction: 'hibernate' } } });
    const state = (s: string) => {
      const e = world.event('instance-state-change', { instanceId: 'i-0123456789abcdef0' });
      (e.detail as Record<string, unknown>).state = s;
      return route(e);
    };
    expect(state('stopping')).toMatchObject({ action: 'signalWithStart', signal: { arg: { kind: 'instance-stopping', instanceAction: 'stop' } } });
    expect(state('shutting-down')).toMatchObject({ signal: { arg: { kind: 'instance-stopping' } } });
    expect((state('shutting-down') as { signal: { arg: { instanceAction?: string } } }).signal.arg.instanceAction).toBeUndefined();
    expect(state('stopped')).toMatchObject({ action: 'signal', signal: { arg: { kind: 'instance-gone', instanceAction: 'stop' } } });
    expect(state('running')).toMatchObject({ action: 'signal', workflowId: 'drain-i-0123456789abcdef0', signal: { arg: { kind: 'instance-running' } } });
    expect(state('pending')).toMatchObject({ action: 'ignore' });
  });

  it('alarm routes: exact name → capacity out/in with route or cluster units; prefix → incident of the severity', () => {
    expect(route(world.event('alarm-state-change', { alarmName: world.alarms.scaleOut }))).toMatchObject({
      action: 'signalWithStart',
      workflowType: 'capacity',
      taskQueue: TASK_QUEUE_DEFAULT,
      workflowId: `capacity-${world.cluster}`,
      args: [{ cluster: world.cluster }],
      signal: { name: 'capacityRequest', arg: { direction: 'out', units: 2, source: { kind: 'alarm', alarmName: world.alarms.scaleOut } } },
    });
    expect(route(world.event('alarm-state-change', { alarmName: world.alarms.scaleIn }))).toMatchObject({
      signal: { arg: { direction: 'in', units: 1 } },
    });
    const name = `${world.alarms.incidentPrefix}-5xx`;
    expect(route(world.event('alarm-state-change', { alarmName: name }))).toMatchObject({
      action: 'signalWithStart',
      workflowType: 'incident',
      workflowId: `incident-alarm-${name}`,
      args: [{ severity: 'sev2', source: { kind: 'alarm', alarmName: name } }],
      signal: { name: 'alarmEvent', arg: { alarmName: name, state: 'ALARM' } },
      searchAttributes: [
        { key: FleetopsKind, value: 'incident' },
        { key: FleetopsSeverity, value: 'sev2' },
      ],
    });
    // A route that names a cluster tags the incident with it.
    const scoped = `${world.alarms.scopedIncidentPrefix}-healthz`;
    expect(route(world.event('alarm-state-change', { alarmName: scoped }))).toMatchObject({
      args: [{ severity: 'sev1' }],
      searchAttributes: [
        { key: FleetopsKind, value: 'incident' },
        { key: FleetopsSeverity, value: 'sev1' },
        { key: FleetopsCluster, value: world.cluster },
      ],
    });
  });

  it('alarm routes: OK joins an open incident only, never scales; unmatched alarms are ignored', () => {
    expect(route(world.event('alarm-state-change', { alarmName: `${world.alarms.incidentPrefix}-x`, state: 'OK' }))).toMatchObject({ action: 'signal' });
    expect(route(world.event('alarm-state-change', { alarmName: world.alarms.scaleOut, state: 'OK' }))).toMatchObject({ action: 'ignore' });
    expect(route(world.event('alarm-state-change', { alarmName: 'somebody-elses-alarm' }))).toMatchObject({ action: 'ignore', workflowId: null });
  });

  it('prefers an exact alarm name over a prefix, and the longest prefix over a shorter one', () => {
    const routes = [
      { alarmPrefix: 'a', action: 'incident', severity: 'sev4' },
      { alarmPrefix: 'a-b', action: 'incident', severity: 'sev3' },
      { alarmName: 'a-b-c', action: 'scale-out', cluster: 'x' },
    ] as Parameters<typeof matchAlarmRoute>[0];
    expect(matchAlarmRoute(routes, 'a-b-c')?.action).toBe('scale-out');
    expect(matchAlarmRoute(routes, 'a-b-d')?.severity).toBe('sev3');
    expect(matchAlarmRoute(routes, 'a-z')?.severity).toBe('sev4');
  });

  it('ECS events signal the running deploy of the service in the ARN', () => {
    const d = route(world.event('ecs-deployment-state-change'));
    expect(d).toMatchObject({
      action: 'signal',
      workflowId: `deploy-${world.cluster}-${world.service}`,
      signal: { name: 'ecsEvent', arg: { detailType: 'ECS Deployment State Change', eventName: 'SERVICE_DEPLOYMENT_FAILED', deploymentId: 'ecs-svc/123' } },
    });
    const legacy = world.event('ecs-service-action');
    legacy.resources = ['arn:aws:ecs:us-east-1:111122223333:service/web'];
    expect(route(legacy)).toMatchObject({ action: 'ignore' });
  });

  it('ECS events for a deploy’s canary service (<service>-canary) signal that deploy', () => {
    // The circuit breaker's verdict on the canary is the one event the deploy most needs to see.
    for (const kind of ['ecs-deployment-state-change', 'ecs-service-action'] as const) {
      const e = world.event(kind);
      e.resources = [`arn:aws:ecs:us-east-1:111122223333:service/${world.cluster}/${world.service}-canary`];
      expect(route(e)).toMatchObject({
        action: 'signal',
        workflowId: `deploy-${world.cluster}-${world.service}`,
        signal: { name: 'ecsEvent', arg: { resources: e.resources } },
      });
    }
    // A service the config does not deploy is not stripped of its suffix: its events go where its own deploy would be.
    const other = world.event('ecs-deployment-state-change');
    other.resources = [`arn:aws:ecs:us-east-1:111122223333:service/${world.cluster}/billing-canary`];
    expect(route(other)).toMatchObject({ action: 'signal', workflowId: `deploy-${world.cluster}-billing-canary` });
  });

  it('Deploy Requested starts canaryDeploy; a service the config does not know is a 400 naming detail.service', () => {
    expect(route(world.event('deploy-requested'))).toMatchObject({
      action: 'start',
      workflowType: 'canaryDeploy',
      workflowId: `deploy-${world.cluster}-${world.service}`,
      args: [{ cluster: world.cluster, service: world.service, requestedBy: 'alice' }],
    });
    const e = world.event('deploy-requested');
    e.detail.service = 'nope';
    expect(() => route(e)).toThrow(RouteValidationError);
    expect(() => route(e)).toThrow(/^detail\.service: /);
  });

  it('Incident Declared starts incident with an id derived from the event id, so redeliveries map to it', () => {
    const e = world.event('incident-declared', { title: 'DB: failover!! (us-east-1)' });
    const d = route(e);
    expect(d).toMatchObject({ action: 'start', workflowType: 'incident', workflowId: `incident-db-failover-us-east-1-${shortIdOf(e.id)}` });
    expect(route(e)).toMatchObject({ workflowId: (d as { workflowId: string }).workflowId });
  });

  it('dryRun reaches every start input', () => {
    for (const kind of ['spot-interruption-warning', 'deploy-requested', 'incident-declared'] as const) {
      expect(route(world.event(kind), { dryRun: true })).toMatchObject({ args: [{ dryRun: true }] });
    }
  });
});
