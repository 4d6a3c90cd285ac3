import { z } from 'zod';
import { routerSchema } from '../router';
import { alarmRouteSchema } from './alarm-routes';
import { awsSchema, temporalSchema } from './aws';
import { clusterSchema } from './clusters';
import { name } from './fields';
import { incidentsSchema } from './incidents';
import { webhookSchema } from './notifications';
import { personSchema } from './people';
import { metricsSchema, pricingSchema } from './pricing';
import { serviceSchema } from './services';
import { slackSchema } from './slack';

/**
 * `fleetops.yaml`, validated once at start (docs/contract.md, Config). Every process and workflow input
 * that depends on config reads these types; a field added here is documented in
 * config/demo.fleetops.yaml, which the local stack runs.
 *
 * One file per section (aws and temporal, pools, clusters, services, alarm routes, incidents,
 * notifications, slack, people, pricing and metrics; the router's tokens are config/router.ts), and here the whole file with
 * the checks across sections. Everything is exported from here, so importers name config/schema.
 */

export { ROLE_ARN, isLoopback } from './fields';
export { awsSchema, temporalSchema } from './aws';
export { ec2FleetPoolSchema, spotFleetPoolSchema, asgPoolSchema, poolSchema, type PoolConfig, type PoolKind } from './pools';
export { clusterSchema, type ClusterConfig } from './clusters';
export { serviceSchema, type ServiceConfig, type CanaryPlan, type CanaryStep, type MetricCheck, type ListenerRuleConfig } from './services';
export { alarmRouteSchema, type AlarmRoute } from './alarm-routes';
export { severitySchema, incidentsSchema, type SeverityConfig, type Severity } from './incidents';
export { webhookSchema } from './notifications';
export { SLACK_SIGNING_SECRET_ENV, SLACK_BOT_TOKEN_ENV, slackApproversSchema, slackRespondersSchema, slackSchema, type SlackConfig } from './slack';
export { personSchema, type PersonConfig } from './people';
export { pricingSchema, metricsSchema } from './pricing';
export { clusterReadinessSchema, readinessLevelSchema, readinessFloorSchema, type ClusterReadinessConfig, type ReadinessLevelConfig, type ReadinessFloorConfig } from './readiness';

export const configSchema = z
  .object({
    aws: awsSchema,
    temporal: temporalSchema.prefault({}),
    clusters: z.record(name, clusterSchema).default({}),
    services: z.array(serviceSchema).default([]),
    alarmRoutes: z.array(alarmRouteSchema).default([]),
    incidents: incidentsSchema,
    notifications: z.object({ webhooks: z.array(webhookSchema).default([]) }).strict().prefault({}),
    slack: slackSchema.optional(),
    /** The router's HTTP tokens beyond FLEETOPS_ROUTER_TOKEN, with their scopes (config/router.ts). */
    router: routerSchema.prefault({}),
    /** name → identities (config/people.ts). */
    /** On-demand prices for the savings estimate (config/schema/pricing.ts). */
    pricing: pricingSchema.prefault({}),
    /** The worker's fleet gauges. */
    metrics: metricsSchema.prefault({}),
    people: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a person is named with letters, digits, dot, dash or underscore'), personSchema).default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const owner = new Map<string, string>();
    for (const [person, p] of Object.entries(cfg.people)) {
      for (const id of [...p.slack.map((u) => `slack:${u}`), ...p.cli.map((u) => `cli:${u}`)]) {
        const other = owner.get(id);
        if (other) ctx.addIssue({ code: 'custom', path: ['people', person], message: `${id} is already ${other}'s: an identity belongs to one person` });
        owner.set(id, person);
      }
    }
    cfg.services.forEach((s, i) => {
      if (!cfg.clusters[s.cluster]) {
        ctx.addIssue({ code: 'custom', path: ['services', i, 'cluster'], message: `unknown cluster "${s.cluster}"` });
      }
    });
    for (const list of ['approvers', 'deployers'] as const) {
      for (const key of Object.keys(cfg.slack?.[list] ?? {})) {
        const [cluster, service] = key.split('/');
        if (!cfg.services.some((s) => s.cluster === cluster && s.name === service)) {
          ctx.addIssue({ code: 'custom', path: ['slack', list, key], message: `no service "${service}" in cluster "${cluster}" under services` });
        }
      }
    }
    cfg.alarmRoutes.forEach((r, i) => {
      if (r.cluster && !cfg.clusters[r.cluster]) {
        ctx.addIssue({ code: 'custom', path: ['alarmRoutes', i, 'cluster'], message: `unknown cluster "${r.cluster}"` });
      }
    });
    const multiAccount = Object.values(cfg.clusters).some((c) => c.roleArn !== undefined);
    if (multiAccount && cfg.aws.account === undefined) {
      ctx.addIssue({ code: 'custom', path: ['aws', 'account'], message: 'a cluster names a roleArn: set the worker\'s own account id, so events are routed by account' });
    }
    for (const [clusterName, cluster] of Object.entries(cfg.clusters)) {
      if (cluster.externalId !== undefined && cluster.roleArn === undefined) {
        ctx.addIssue({ code: 'custom', path: ['clusters', clusterName, 'externalId'], message: 'an externalId needs a roleArn' });
      }
      const seen = new Set<string>();
      cluster.pools.forEach((p, i) => {
        if (seen.has(p.name)) {
          ctx.addIssue({ code: 'custom', path: ['clusters', clusterName, 'pools', i, 'name'], message: `duplicate pool name "${p.name}"` });
        }
        seen.add(p.name);
      });
      if (cluster.capacity.minUnits > cluster.capacity.maxUnits) {
        ctx.addIssue({ code: 'custom', path: ['clusters', clusterName, 'capacity', 'minUnits'], message: 'must not exceed maxUnits' });
      }
    }
  });

export type FleetopsConfig = z.infer<typeof configSchema>;
