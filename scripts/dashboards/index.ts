import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { capacityDashboard } from './capacity';
import { deploysIncidentsDashboard } from './deploys-incidents';
import { drainsDashboard } from './drains';
import { fleetDashboard } from './fleet';
import { routerSqsDashboard } from './router-sqs';

/** Every dashboard, by the file it is committed as under deploy/grafana/. */
export const DASHBOARDS: Record<string, () => Dashboard> = {
  'fleet.json': fleetDashboard,
  'drains.json': drainsDashboard,
  'capacity.json': capacityDashboard,
  'deploys-incidents.json': deploysIncidentsDashboard,
  'router-sqs.json': routerSqsDashboard,
};
