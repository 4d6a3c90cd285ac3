import { patched } from '@temporalio/workflow';
import type { CanaryPlan } from '../../config/schema';
import { readinessFreezeReason } from '../../contracts/readiness/freeze';
import { imageRefusal } from '../../common/images';
import { aws } from './activity-options';
import type { DeployContext } from './context';
import { DeployRefused, errorMessage } from './failures';

/**
 * The plan with a gate before its promote step (or at its end) when it has none. Only inputs with
 * `requireGate` (deploys from chat) come here, so runs without it issue the same commands as before.
 */
export function withGate(plan: CanaryPlan): CanaryPlan {
  if (plan.steps.some((s) => s.kind === 'gate')) return plan;
  const at = plan.steps.findIndex((s) => s.kind === 'promote');
  const steps = [...plan.steps];
  steps.splice(at === -1 ? steps.length : at, 0, { kind: 'gate' });
  return { ...plan, steps };
}

export const READINESS_FREEZE_PATCH = 'deploy-readiness-freeze';

/** A readiness window whose level freezes deploys refuses the deploy with its own reason (force skips it, as it skips incidents). */
async function refuseInFrozenWindow(cluster: string): Promise<void> {
  let windows;
  try {
    windows = await aws.findFreezingWindows({ cluster });
  } catch (err) {
    throw new DeployRefused(`cannot tell whether a readiness window freezes deploys (deploy with force to skip the check): ${errorMessage(err)}`);
  }
  if (windows.length > 0) throw new DeployRefused(`${readinessFreezeReason(cluster, windows)}; use force to override`);
}

/**
 * Before anything changes: the plan, the incident and readiness freezes (unless forced), and a healthy stable service
 * with no deployment in flight and no alarm firing. Any refusal throws DeployRefused.
 */
export async function preflight(ctx: DeployContext): Promise<CanaryPlan> {
  const { input, state } = ctx;
  if ((input.image === undefined) === (input.taskDefinition === undefined)) {
    throw new DeployRefused('set exactly one of image or taskDefinition');
  }
  let resolved;
  try {
    resolved = await aws.resolveDeployPlan({ cluster: input.cluster, service: input.service });
  } catch (err) {
    throw new DeployRefused(errorMessage(err));
  }
  // Again here, behind the starters' check (contracts/canary-deploy/request.ts), for a start that skipped
  // them (an SDK client): before any activity that changes AWS. A plan recorded before `images`
  // existed carries none, so those histories replay as they ran.
  if (resolved.images !== undefined && input.image !== undefined) {
    const why = imageRefusal(`${input.cluster}/${input.service}`, input.image, resolved.images);
    if (why) throw new DeployRefused(why);
  }
  const p = input.requireGate ? withGate(resolved.plan) : resolved.plan;
  if (p !== resolved.plan) state.decide('proceed', 'a gate before promotion added: this deploy must be approved by a person (requireGate)');
  state.plan = p;
  state.trafficMode = p.listenerRule ? 'listener-rule' : 'shared-target-group';

  if (input.force) {
    state.decide('skip', 'forced: open incidents not checked');
  } else {
    let incidents;
    try {
      incidents = await aws.findBlockingIncidents({ cluster: input.cluster });
    } catch (err) {
      throw new DeployRefused(`cannot tell whether an incident is open (deploy with force to skip the check): ${errorMessage(err)}`);
    }
    if (incidents.length > 0) {
      throw new DeployRefused(
        `deploys to ${input.cluster} are frozen while incidents are open: ${incidents.map((i) => `${i.workflowId} (${i.severity}, ${i.phase})`).join(', ')}; use force to override`,
      );
    }
    state.decide('proceed', `no sev1/sev2 incident open for ${input.cluster}`);
    // Runs recorded before readiness windows existed did not ask; they replay as they ran.
    if (patched(READINESS_FREEZE_PATCH)) await refuseInFrozenWindow(input.cluster);
  }

  const snap = await aws.describeDeployService({ cluster: input.cluster, service: input.service });
  if (!snap) throw new DeployRefused(`service ${input.service} not found in cluster ${input.cluster}`);
  if (snap.runningCount !== snap.desiredCount) {
    throw new DeployRefused(`stable ${input.service} is not healthy: ${snap.runningCount} running of ${snap.desiredCount} desired`);
  }
  const inFlight = snap.deployments.filter((d) => d.status !== 'INACTIVE');
  if (inFlight.length > 1 || inFlight.some((d) => d.rolloutState === 'IN_PROGRESS' || d.rolloutState === 'FAILED')) {
    throw new DeployRefused(
      `stable ${input.service} has a deployment that is not complete: ${inFlight.map((d) => `${d.id} ${d.status} ${d.rolloutState ?? ''}`).join(', ')}`,
    );
  }
  state.stable = snap;
  if (p.listenerRule) {
    const rule = p.listenerRule;
    const groups = snap.targetGroupArns;
    if (!groups.includes(rule.stableTargetGroupArn)) {
      throw new DeployRefused(`${input.service} is not in the plan's stable target group ${rule.stableTargetGroupArn} (it is in ${groups.join(', ') || 'none'})`);
    }
    if (groups.length > 1) {
      throw new DeployRefused(
        `${input.service} is in ${groups.length} target groups (${groups.join(', ')}) but the plan's listener rule weights only ${rule.stableTargetGroupArn}: ` +
          `the canary would have no target group behind the others; give ${input.service} one target group, or deploy it without listenerRule`,
      );
    }
    try {
      state.ruleSnapshot = await aws.readListenerRule({ cluster: input.cluster, listenerRule: p.listenerRule });
    } catch (err) {
      throw new DeployRefused(errorMessage(err));
    }
    state.decide('proceed', `listener rule ${p.listenerRule.ruleArn}: ${state.ruleSnapshot.actions.map((a) => a.Type).join(' → ')}`);
  }
  const alarms = await aws.describeAlarmStates({ cluster: input.cluster, alarmNames: p.alarms });
  const bad = alarms.filter((a) => a.state === 'ALARM' || a.state === 'MISSING');
  if (bad.length > 0) {
    throw new DeployRefused(`stable ${input.service} is not healthy: ${bad.map((a) => `alarm ${a.name} ${a.state}`).join(', ')}`);
  }
  state.decide(
    'proceed',
    `stable ${input.service} healthy: ${snap.runningCount}/${snap.desiredCount} running on ${snap.taskDefinition}; alarms ${alarms.map((a) => `${a.name}=${a.state}`).join(', ') || 'none configured'}`,
  );
  return p;
}
