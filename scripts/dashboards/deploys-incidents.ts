import { build, CLUSTER, dashboard, eventsIn, row, stat, timeseries } from './lib';

const DEPLOYS = `fleetops_deploys_finished_total{${CLUSTER}}`;

/** Canary deploys by outcome, and incidents by severity (incidents carry no cluster label: every cluster's). */
export const deploysIncidentsDashboard = () =>
  build(
    dashboard({
      uid: 'fleetops-deploys-incidents',
      title: 'fleetops / Deploys and incidents',
      description: 'Canary deploys finished by outcome (promoted, rolled back, refused) and incidents opened, open and closed by severity.',
      clusterFrom: 'fleetops_deploys_finished_total',
    })
      .withRow(row('Over the range'))
      .withPanel(stat('Deploys finished', 'Canary deploys that ended in the range, every outcome.', 'short', { expr: `sum(${eventsIn(DEPLOYS)}) or vector(0)` }))
      .withPanel(
        stat('Rolled back', 'Deploys rolled back (or whose rollback failed) in the range.', 'short', {
          expr: `sum(${eventsIn(`fleetops_deploys_finished_total{${CLUSTER}, outcome=~"rolled-back|rollback-failed"}`)}) or vector(0)`,
        }),
      )
      .withPanel(stat('Incidents open', 'Incidents not yet resolved, by severity (every cluster).', 'short', { expr: 'max by (severity) (fleetops_incidents_open)', legend: '{{severity}}' }))
      .withPanel(stat('Incidents opened', 'Incidents opened in the range (every cluster).', 'short', { expr: `sum(${eventsIn('fleetops_incidents_opened_total')}) or vector(0)` }))
      .withRow(row('Over time'))
      .withPanel(timeseries('Deploys finished by outcome', 'Deploys ended per interval, by outcome.', 'short', [{ expr: `sum by (outcome) (increase(${DEPLOYS}[$__rate_interval]))`, legend: '{{outcome}}' }]))
      .withPanel(
        timeseries('Deploy requests received', 'Deploy Requested events the router carried out, by what it did with them (all clusters).', 'ops', [
          { expr: 'sum by (action) (rate(fleetops_router_events_routed_total{kind="deploy-requested"}[$__rate_interval]))', legend: '{{action}}' },
        ]),
      )
      .withPanel(timeseries('Incidents open by severity', 'Incidents not yet resolved (the worker counts them from Temporal visibility).', 'short', [{ expr: 'max by (severity) (fleetops_incidents_open)', legend: '{{severity}}' }]))
      .withPanel(
        timeseries('Incidents opened and closed', 'Incidents opened, and closed or aborted, per interval, by severity.', 'short', [
          { expr: 'sum by (severity) (increase(fleetops_incidents_opened_total[$__rate_interval]))', legend: 'opened {{severity}}' },
          { expr: 'sum by (severity, how) (increase(fleetops_incidents_closed_total[$__rate_interval]))', legend: '{{how}} {{severity}}' },
        ]),
      ),
  );
