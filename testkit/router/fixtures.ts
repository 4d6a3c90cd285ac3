import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import type { EventKindName } from '../../router/events';
import { ROOT } from '../paths';

/**
 * Router test inputs: the AWS-documentation example events (router/events/examples) with fresh ids,
 * and a config whose cluster and alarm names are unique per suite, so suites sharing the dev server
 * never meet each other's workflows.
 */
export type Envelope = Record<string, unknown> & { id: string; time: string; detail: Record<string, unknown>; resources: string[] };

export const ALL_KINDS: EventKindName[] = [
  'spot-interruption-warning',
  'rebalance-recommendation',
  'instance-state-change',
  'health-event',
  'lifecycle-test-notification',
  'lifecycle-terminate',
  'lifecycle-launch',
  'alarm-state-change',
  'ecs-deployment-state-change',
  'ecs-service-action',
  'deploy-requested',
  'incident-declared',
];

export function example(kind: EventKindName): Envelope {
  return JSON.parse(readFileSync(join(ROOT, 'router', 'events', 'examples', `${kind}.json`), 'utf8')) as Envelope;
}

export const newInstanceId = (): string => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

export interface TestWorld {
  config: FleetopsConfig;
  cluster: string;
  service: string;
  /** `scopedIncidentPrefix` routes to a sev1 incident scoped to `cluster` (its deploys freeze). */
  alarms: { scaleOut: string; scaleIn: string; incidentPrefix: string; scopedIncidentPrefix: string };
  /** Events of every kind, fresh ids, pointed at this world's cluster, service, alarms. */
  event(kind: EventKindName, overrides?: { instanceId?: string; alarmName?: string; state?: string; title?: string }): Envelope;
}

export function createTestWorld(): TestWorld {
  const tag = randomBytes(4).toString('hex');
  const cluster = `rt${tag}`;
  const service = 'web';
  const alarms = {
    scaleOut: `${cluster}-scale-out`,
    scaleIn: `${cluster}-scale-in`,
    incidentPrefix: `${cluster}-incident`,
    scopedIncidentPrefix: `${cluster}-web-down`,
  };
  const doc = parse(readFileSync(join(ROOT, 'config', 'demo.fleetops.yaml'), 'utf8')) as Record<string, any>;
  doc.clusters = { [cluster]: doc.clusters.demo };
  doc.services = [{ ...doc.services[0], cluster, name: service }];
  doc.alarmRoutes = [
    { alarmName: alarms.scaleOut, action: 'scale-out', cluster },
    { alarmName: alarms.scaleIn, action: 'scale-in', cluster, units: 1 },
    { alarmPrefix: alarms.incidentPrefix, action: 'incident', severity: 'sev2' },
    { alarmPrefix: alarms.scopedIncidentPrefix, action: 'incident', severity: 'sev1', cluster },
  ];
  const config = parseConfig(doc, 'router-test');

  return {
    config,
    cluster,
    service,
    alarms,
    event(kind, o = {}) {
      const e = example(kind);
      e.id = randomUUID();
      e.time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const d = e.detail;
      switch (kind) {
        case 'spot-interruption-warning':
        case 'rebalance-recommendation':
          d['instance-id'] = o.instanceId ?? newInstanceId();
          break;
        case 'lifecycle-terminate':
          d.EC2InstanceId = o.instanceId ?? newInstanceId();
          break;
        case 'lifecycle-launch':
          d.EC2InstanceId = o.instanceId ?? newInstanceId();
          // The demo cluster's on-demand pool (config/demo.fleetops.yaml), so the launch is this world's.
          d.AutoScalingGroupName = 'demo-on-demand';
          break;
        case 'instance-state-change':
          d['instance-id'] = o.instanceId ?? newInstanceId();
          e.resources = [`arn:aws:ec2:us-east-1:123456789012:instance/${d['instance-id'] as string}`];
          if (o.state) d.state = o.state;
          break;
        case 'health-event': {
          const id = o.instanceId ?? newInstanceId();
          e.resources = [id];
          d.affectedEntities = [{ entityValue: id, status: 'IMPAIRED' }];
          d.startTime = new Date(Date.now() + 14 * 86_400_000).toUTCString();
          break;
        }
        case 'lifecycle-test-notification':
          break;
        case 'alarm-state-change':
          d.alarmName = o.alarmName ?? alarms.scaleOut;
          (d.state as Record<string, unknown>).value = o.state ?? 'ALARM';
          break;
        case 'ecs-deployment-state-change':
        case 'ecs-service-action':
          e.resources = [`arn:aws:ecs:us-east-1:111122223333:service/${cluster}/${service}`];
          break;
        case 'deploy-requested':
          d.cluster = cluster;
          d.service = service;
          break;
        case 'incident-declared':
          d.title = o.title ?? `Checkout latency ${tag}`;
          break;
      }
      return e;
    },
  };
}
