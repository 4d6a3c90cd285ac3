import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FleetopsAccount, FleetopsRegion } from '../../common/search-attributes';
import { parseConfig } from '../../config/load';
import { parseEvent } from '../../router/events';
import { routeEvent, type RouteDecision, type RouteResult } from '../../router/routes';
import { ROOT } from '../../testkit/paths';
import { example, newInstanceId, type Envelope } from '../../testkit/router/fixtures';

/**
 * Routing with clusters in several accounts and regions: an AWS event reaches only a
 * cluster that lives in its envelope's account and region; ids keyed by an instance id or alarm name
 * carry a member account, the worker's own account keeps the single-account ids.
 */

const HOME = '111111111111';
const A = '222222222222';
const B = '333333333333';

const base = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, any>;
const pools = (asg: string) => [{ name: 'on-demand', kind: 'asg', autoScalingGroupName: asg }];
const config = parseConfig(
  {
    ...base,
    aws: { region: 'us-east-1', account: HOME },
    services: [
      { cluster: 'client-a', name: 'web' },
      { cluster: 'home-prod', name: 'web' },
      { cluster: 'client-b-prod', name: 'web' },
    ],
    clusters: {
      home: { pools: pools('shared-asg') },
      'client-a': { region: 'eu-west-1', roleArn: `arn:aws:iam::${A}:role/fleetops-member`, externalId: 'ext-a', pools: pools('a-asg') },
      'client-b': { roleArn: `arn:aws:iam::${B}:role/fleetops-member`, pools: pools('shared-asg') },
      // Two accounts' ECS clusters both named prod.
      'home-prod': { ecsClusterName: 'prod', pools: pools('home-prod-asg') },
      'client-b-prod': { ecsClusterName: 'prod', roleArn: `arn:aws:iam::${B}:role/fleetops-member`, pools: pools('b-prod-asg') },
    },
    alarmRoutes: [
      { alarmName: 'a-scale-out', action: 'scale-out', cluster: 'client-a' },
      { alarmPrefix: 'five-xx', action: 'incident', severity: 'sev2' },
    ],
  },
  'accounts-test',
);

function from(kind: Parameters<typeof example>[0], account: string, region: string, edit: (e: Envelope) => void = () => {}): RouteResult {
  const e = example(kind);
  e.account = account;
  e.region = region;
  edit(e);
  const parsed = parseEvent(e);
  if (!parsed.ok) throw new Error(parsed.error);
  return routeEvent(parsed.event, config);
}

const one = (r: RouteResult): RouteDecision => {
  if (r.action === 'each') throw new Error('one decision expected');
  return r;
};
const attrs = (d: RouteDecision) =>
  'searchAttributes' in d ? Object.fromEntries(d.searchAttributes.filter((p) => [FleetopsAccount.name, FleetopsRegion.name].includes(p.key.name)).map((p) => [p.key.name, p.value])) : {};
const warning = (account: string, region: string, instanceId: string) => one(from('spot-interruption-warning', account, region, (e) => (e.detail['instance-id'] = instanceId)));

describe('routing by account and region', () => {
  it('starts a member account drain under an id that carries the account, with its placement and search attributes', () => {
    const id = newInstanceId();
    const d = warning(A, 'eu-west-1', id);
    expect(d).toMatchObject({ action: 'signalWithStart', workflowId: `drain-${A}-${id}`, args: [{ instanceId: id, placement: { account: A, region: 'eu-west-1', member: true } }] });
    expect(attrs(d)).toEqual({ FleetopsAccount: A, FleetopsRegion: 'eu-west-1' });
  });

  it('keeps the single-account id for the worker account', () => {
    const id = newInstanceId();
    const d = warning(HOME, 'us-east-1', id);
    expect(d).toMatchObject({ action: 'signalWithStart', workflowId: `drain-${id}`, args: [{ instanceId: id, placement: { account: HOME, region: 'us-east-1' } }] });
    expect(attrs(d)).toEqual({ FleetopsAccount: HOME, FleetopsRegion: 'us-east-1' });
  });

  it('never lets one account join another account drain of the same instance id', () => {
    const id = newInstanceId();
    const ids = [warning(A, 'eu-west-1', id), warning(B, 'us-east-1', id), warning(HOME, 'us-east-1', id)].map((d) => ('workflowId' in d ? d.workflowId : null));
    expect(new Set(ids).size).toBe(3);
    const gone = one(from('instance-state-change', A, 'eu-west-1', (e) => Object.assign(e.detail, { 'instance-id': id, state: 'terminated' })));
    expect(gone).toMatchObject({ action: 'signal', workflowId: `drain-${A}-${id}` });
  });

  it('signals a member instance running again to the drain of its own account, which waits for it', () => {
    const id = newInstanceId();
    const stateOf = (account: string, region: string, state: string) => one(from('instance-state-change', account, region, (e) => Object.assign(e.detail, { 'instance-id': id, state })));
    expect(stateOf(A, 'eu-west-1', 'stopping')).toMatchObject({ action: 'signalWithStart', workflowId: `drain-${A}-${id}` });
    expect(stateOf(A, 'eu-west-1', 'running')).toMatchObject({ action: 'signal', workflowId: `drain-${A}-${id}`, signal: { arg: { kind: 'instance-running', instanceId: id } } });
    // The worker's own account keeps the single-account id.
    expect(stateOf(HOME, 'us-east-1', 'running')).toMatchObject({ action: 'signal', workflowId: `drain-${id}` });
  });

  it('ignores, with the reason, an event from an account no cluster is in', () => {
    const d = warning('999999999999', 'us-east-1', newInstanceId());
    expect(d).toMatchObject({ action: 'ignore', reason: 'event from account 999999999999, which no cluster in the config is in' });
    const alarm = one(from('alarm-state-change', '999999999999', 'us-east-1', (e) => (e.detail.alarmName = 'five-xx-api')));
    expect(alarm.action).toBe('ignore');
  });

  it('ignores an event from a known account in a region where none of its clusters is', () => {
    expect(warning(A, 'us-east-1', newInstanceId())).toMatchObject({ action: 'ignore', reason: `no cluster in the config is in account ${A}, region us-east-1` });
  });

  it('scales a member cluster only from its own account and region', () => {
    const alarm = (account: string, region: string) => one(from('alarm-state-change', account, region, (e) => (e.detail.alarmName = 'a-scale-out')));
    const d = alarm(A, 'eu-west-1');
    expect(d).toMatchObject({ action: 'signalWithStart', workflowId: 'capacity-client-a', args: [{ cluster: 'client-a', placement: { account: A, region: 'eu-west-1', member: true } }] });
    expect(attrs(d)).toEqual({ FleetopsAccount: A, FleetopsRegion: 'eu-west-1' });
    expect(alarm(HOME, 'us-east-1')).toMatchObject({ action: 'ignore', reason: expect.stringContaining(`its route's cluster client-a is in account ${A}, region eu-west-1`) });
  });

  it('opens one incident per account for alarms of the same name', () => {
    const alarm = (account: string, region: string) => one(from('alarm-state-change', account, region, (e) => (e.detail.alarmName = 'five-xx-api')));
    expect(alarm(A, 'eu-west-1')).toMatchObject({ workflowId: `incident-alarm-${A}-five-xx-api` });
    expect(alarm(HOME, 'us-east-1')).toMatchObject({ workflowId: 'incident-alarm-five-xx-api' });
  });

  it('gives an ASG launch to the cluster of the event account when two accounts name the group alike', () => {
    const id = newInstanceId();
    const launch = (account: string) =>
      one(from('lifecycle-launch', account, 'us-east-1', (e) => Object.assign(e.detail, { EC2InstanceId: id, AutoScalingGroupName: 'shared-asg' })));
    expect(launch(B)).toMatchObject({ action: 'start', workflowId: `launch-${B}-${id}`, args: [{ cluster: 'client-b' }] });
    expect(launch(HOME)).toMatchObject({ action: 'start', workflowId: `launch-${id}`, args: [{ cluster: 'home' }] });
  });

  it('does not signal a deploy from an ECS event of another account', () => {
    const ecs = (account: string, region: string) =>
      one(from('ecs-service-action', account, region, (e) => (e.resources = [`arn:aws:ecs:${region}:${account}:service/client-a/web`])));
    expect(ecs(A, 'eu-west-1')).toMatchObject({ action: 'signal', workflowId: 'deploy-client-a-web' });
    expect(ecs(B, 'us-east-1')).toMatchObject({ action: 'ignore', reason: expect.stringContaining(`the configured client-a is in account ${A}, region eu-west-1`) });
  });

  it('tells two accounts\' ECS clusters of the same name apart by where the event comes from', () => {
    const ecs = (account: string) =>
      one(from('ecs-service-action', account, 'us-east-1', (e) => (e.resources = [`arn:aws:ecs:us-east-1:${account}:service/prod/web`])));
    expect(ecs(HOME)).toMatchObject({ action: 'signal', workflowId: 'deploy-home-prod-web' });
    expect(ecs(B)).toMatchObject({ action: 'signal', workflowId: 'deploy-client-b-prod-web' });
    expect(ecs(A)).toMatchObject({ action: 'ignore' });
  });
});
