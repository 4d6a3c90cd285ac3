import { z } from 'zod';
import { capacityStartOptions } from '../../contracts/capacity/start';
import { incidentStartOptions } from '../../contracts/incident/start';
import { alarmEventSignal } from '../../contracts/incident/messages';
import { capacityRequestSignal } from '../../contracts/capacity/messages';
import { alarmIncidentWorkflowId, memberAccountOf } from '../../common/workflow-ids';
import { clusterWorkflowPlacement, placementOf, workflowPlacement } from '../../config/placement';
import type { AlarmRoute } from '../../config/schema';
import { dryRunOf, ignore, targetOf, type SignalPayload } from '../routing/decision';
import { defineEventKind } from './kind';

const alarmState = z.looseObject({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string().max(4096).default(''),
  timestamp: z.string().max(64).optional(),
});

/** `aws.cloudwatch` / `CloudWatch Alarm State Change`: sent on every transition, not while a state lasts. */
export const alarmStateChange = defineEventKind({
  kind: 'alarm-state-change',
  source: 'aws.cloudwatch',
  detailType: 'CloudWatch Alarm State Change',
  detail: z.looseObject({
    alarmName: z.string().min(1).max(255),
    state: alarmState,
    previousState: alarmState.optional(),
  }),
  rule: { id: 'AlarmStateChangeRule', does: 'capacity or incident, by the config\'s alarm routes', bus: 'default' },
  route: (event, config, opts) => {
    const { alarmName, state } = event.detail;
    const route = matchAlarmRoute(config.alarmRoutes, alarmName);
    if (!route) return ignore(`no alarm route matches ${alarmName}`);
    const { account, region } = event.envelope;
    const placement = workflowPlacement(config, { account, region });
    if (placement && route.cluster) {
      // An alarm scales (or scopes an incident to) its route's cluster only from where that cluster lives.
      const p = placementOf(config, route.cluster);
      if (p.account !== account || p.region !== region) {
        return ignore(`alarm ${alarmName} is from account ${account}, region ${region}; its route's cluster ${route.cluster} is in account ${p.account ?? '?'}, region ${p.region}`);
      }
    }

    if (route.action === 'incident') {
      const workflowId = alarmIncidentWorkflowId(alarmName, memberAccountOf(placement));
      const signal: SignalPayload = {
        name: alarmEventSignal.name,
        arg: { alarmName, state: state.value, reason: state.reason, time: event.envelope.time, eventId: event.envelope.id },
      };
      // Recovery (OK) and missing data join an open incident but never open one.
      if (state.value !== 'ALARM') return { action: 'signal', workflowId, signal };
      const severity = route.severity ?? 'sev3';
      const start = incidentStartOptions(
        workflowId,
        {
          title: `Alarm ${alarmName}`,
          severity,
          summary: state.reason || undefined,
          source: { kind: 'alarm', alarmName, eventId: event.envelope.id },
          ...dryRunOf(opts),
        },
        {
          // A route that names a cluster scopes the incident to it, so a sev1/sev2 one freezes its deploys.
          cluster: route.cluster,
          ...(placement ? { placement } : {}),
          staticSummary: `${severity} incident from alarm ${alarmName}${route.cluster ? ` (cluster ${route.cluster})` : ''}`,
          // A resolved incident is closed; the next alarm opens a new one under the same id.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        },
      );
      return { action: 'signalWithStart', ...targetOf(start), signal };
    }

    const cluster = route.cluster as string; // the schema requires a cluster on scale routes
    const start = capacityStartOptions(cluster, { ...dryRunOf(opts), ...(placement ? { placement: clusterWorkflowPlacement(config, cluster) } : {}) });
    if (state.value !== 'ALARM') return { action: 'ignore', reason: `alarm ${alarmName} is ${state.value}; only ALARM scales`, workflowId: start.workflowId };
    const direction = route.action === 'scale-out' ? 'out' : 'in';
    const units = route.units ?? config.clusters[cluster]?.capacity.stepUnits ?? 1;
    return {
      action: 'signalWithStart',
      ...targetOf(start),
      signal: {
        name: capacityRequestSignal.name,
        arg: {
          direction,
          units,
          reason: `alarm ${alarmName}: ${state.reason}`.slice(0, 1000),
          source: { kind: 'alarm', alarmName, eventId: event.envelope.id },
        },
      },
    };
  },
});

/** Exact alarm names win over prefixes; among prefixes the longest (most specific) wins. */
export function matchAlarmRoute(routes: readonly AlarmRoute[], alarmName: string): AlarmRoute | undefined {
  const exact = routes.find((r) => r.alarmName === alarmName);
  if (exact) return exact;
  let best: AlarmRoute | undefined;
  for (const r of routes) {
    if (r.alarmPrefix && alarmName.startsWith(r.alarmPrefix) && (!best || r.alarmPrefix.length > (best.alarmPrefix ?? '').length)) {
      best = r;
    }
  }
  return best;
}
