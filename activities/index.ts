import { createCapacityActivities } from './capacity';
import { createDeployActivities } from './deploy';
import { createScheduledDeployActivities } from './deploy/scheduled';
import type { ActivityDeps } from './deps';
import { createDrainActivities } from './drain';
import { createIncidentActivities } from './incident';
import { createLaunchActivities } from './launch';
import { createNotificationActivities } from './notifications';
import { createReadinessActivities } from './readiness';
import { createReadinessCalendarActivities } from './readiness-calendar';
import { createReleaseActivities } from './release';
import { createScheduledReleaseActivities } from './release/scheduled';

/**
 * All activities, built from injected clients. Each concern has its own factory; workflows import
 * the type of the group they call (`proxyActivities<NotificationActivities>`), never this module.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createNotificationActivities(deps),
    ...createCapacityActivities(deps),
    ...createDrainActivities(deps),
    ...createIncidentActivities(deps),
    ...createDeployActivities(deps),
    ...createScheduledDeployActivities(deps),
    ...createLaunchActivities(deps),
    ...createReadinessActivities(deps),
    ...createReadinessCalendarActivities(deps),
    ...createReleaseActivities(deps),
    ...createScheduledReleaseActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
