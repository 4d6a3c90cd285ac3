import { build, CLUSTER, oneCopy, dashboard, eventsIn, row, stat, timeseries } from './lib';

/** Capacity: what is asked for and not there, how long, the pools that could not deliver, time on on-demand. */
export const capacityDashboard = () =>
  build(
    dashboard({
      uid: 'fleetops-capacity',
      title: 'fleetops / Capacity',
      description: 'Scale-outs: units asked for and not running yet and for how long, pools that could not deliver, and the time spent on the on-demand fallback.',
      clusterFrom: 'fleetops_fleet_units',
    })
      .withRow(row('Now'))
      .withPanel(stat('Units unmet', 'Units asked for and not running yet, per cluster.', 'short', { expr: `fleetops_capacity_unmet_units{${CLUSTER}}`, legend: '{{cluster}}' }))
      .withPanel(stat('Unmet for', 'How long the oldest unmet request has waited; over 10 minutes pages (FleetopsCapacityUnmet).', 's', { expr: `fleetops_capacity_unmet_age_seconds{${CLUSTER}}`, legend: '{{cluster}}' }))
      .withPanel(stat('Pool fallbacks', 'Scale-outs that moved on from a pool to the next one in the range.', 'short', { expr: `sum(${eventsIn(`fleetops_capacity_pool_fallbacks_total{${CLUSTER}}`)}) or vector(0)` }))
      .withPanel(
        stat('On the on-demand fallback', 'Share of the range the clusters spent on the on-demand fallback.', 'percentunit', {
          expr: `max by (cluster) (rate(fleetops_capacity_on_demand_fallback_seconds_total{${CLUSTER}}[$__range]))`,
          legend: '{{cluster}}',
        }),
      )
      .withRow(row('Over time'))
      .withPanel(
        timeseries('Units unmet', 'Units asked for and not running yet, per cluster.', 'short', [{ expr: `fleetops_capacity_unmet_units{${CLUSTER}}`, legend: '{{cluster}}' }]),
      )
      .withPanel(timeseries('Unmet for', 'Age of the oldest unmet request, per cluster.', 's', [{ expr: `fleetops_capacity_unmet_age_seconds{${CLUSTER}}`, legend: '{{cluster}}' }]))
      .withPanel(
        timeseries('Pool fallbacks by pool and reason', 'A pool that could not deliver (capacity error, fulfilment timeout) and was skipped for the next one, per interval.', 'short', [
          { expr: `sum by (pool, reason) (increase(fleetops_capacity_pool_fallbacks_total{${CLUSTER}}[$__rate_interval]))`, legend: '{{pool}} {{reason}}' },
        ]),
      )
      .withPanel(
        timeseries('Units by market', 'Units wanted and ACTIVE, spot and on-demand: a fallback shows as on-demand units.', 'short', [
          { expr: `sum by (market, state) (${oneCopy('fleetops_fleet_units', CLUSTER)})`, legend: '{{market}} {{state}}' },
        ]),
      )
      .withPanel(
        timeseries('Time on the on-demand fallback', 'Share of each interval spent on the on-demand fallback, per cluster.', 'percentunit', [
          { expr: `max by (cluster) (rate(fleetops_capacity_on_demand_fallback_seconds_total{${CLUSTER}}[$__rate_interval]))`, legend: '{{cluster}}' },
        ]),
      ),
  );
