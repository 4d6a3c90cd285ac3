import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import type { ActivityDeps } from '../deps';
import { createAnalysisActivities } from './analysis';
import { createDeployIncidentActivities } from './incidents';
import { createReadinessFreezeActivities } from './readiness-freeze';
import { createRevisionActivities } from './revision';
import { createServiceActivities } from './services';
import { createTargetActivities } from './targets';
import { createTrafficActivities } from './traffic';
import type { ResolvedPlan } from './types';

/** Activities of the canary deploy (workflows/canary-deploy/). */
export function createDeployActivities(deps: ActivityDeps) {
  return {
    /** The service's canary plan from config; an unknown service is refused, not retried. */
    async resolveDeployPlan(input: { cluster: string; service: string }): Promise<ResolvedPlan> {
      const svc = deps.config.services.find((s) => s.cluster === input.cluster && s.name === input.service);
      if (!svc) {
        throw ApplicationFailure.nonRetryable(`service ${input.cluster}/${input.service} is not in the config's services`, FailureType.InvalidRequest);
      }
      return { plan: svc.canary, canaryService: `${input.service}-canary`, images: svc.images ?? [] };
    },
    ...createServiceActivities(deps),
    ...createRevisionActivities(deps),
    ...createTrafficActivities(deps),
    ...createTargetActivities(deps),
    ...createAnalysisActivities(deps),
    ...createDeployIncidentActivities(deps),
    ...createReadinessFreezeActivities(deps),
  };
}

export type DeployActivities = ReturnType<typeof createDeployActivities>;
