import { build, CLUSTER, oneCopy, dashboard, row, stat, timeseries } from './lib';

/** The fleet as it runs: units and instances by market, pool, type and zone; spot share, cost, savings; interruptions. */
export const fleetDashboard = () =>
  build(
    dashboard({
      uid: 'fleetops-fleet',
      title: 'fleetops / Fleet',
      description: 'What each cluster runs on: units by market and pool, ACTIVE instances by type and zone, spot share, hourly cost against on-demand, and spot interruptions.',
      clusterFrom: 'fleetops_fleet_units',
    })
      .withRow(row('Now'))
      .withPanel(stat('Spot share', 'ACTIVE spot units over ACTIVE units, per cluster.', 'percentunit', { expr: oneCopy('fleetops_fleet_spot_share', CLUSTER), legend: '{{cluster}}' }))
      .withPanel(stat('Savings against on-demand', 'Share of the on-demand price of the same capacity that spot saves, per cluster.', 'percentunit', { expr: oneCopy('fleetops_fleet_savings_ratio', CLUSTER), legend: '{{cluster}}' }))
      .withPanel(stat('Hourly cost', 'What the ACTIVE capacity costs an hour at the prices it runs at.', 'currencyUSD', { expr: `sum(${oneCopy('fleetops_fleet_hourly_cost_dollars', `${CLUSTER}, basis="actual"`)})` }))
      .withPanel(stat('ACTIVE instances', 'Container instances ACTIVE in the clusters.', 'short', { expr: `sum(${oneCopy('fleetops_fleet_instances', CLUSTER)})` }))
      .withRow(row('Capacity'))
      .withPanel(timeseries('Units by market', 'Units wanted and ACTIVE, spot and on-demand.', 'short', [{ expr: `sum by (market, state) (${oneCopy('fleetops_fleet_units', CLUSTER)})`, legend: '{{market}} {{state}}' }]))
      .withPanel(timeseries('ACTIVE units by pool', 'Units ACTIVE in each capacity pool.', 'short', [{ expr: `sum by (pool, market) (${oneCopy('fleetops_fleet_units', `${CLUSTER}, state="active"`)})`, legend: '{{pool}} ({{market}})' }]))
      .withPanel(timeseries('ACTIVE instances by type and zone', 'Where the clusters run: instance type and availability zone.', 'short', [{ expr: `sum by (instance_type, zone) (${oneCopy('fleetops_fleet_instances', CLUSTER)})`, legend: '{{instance_type}} {{zone}}' }]))
      .withPanel(
        timeseries('Hourly cost: actual and on-demand', 'The hourly cost at the prices the capacity runs at, beside the same capacity on demand.', 'currencyUSD', [
          { expr: `sum by (basis) (${oneCopy('fleetops_fleet_hourly_cost_dollars', CLUSTER)})`, legend: '{{basis}}' },
        ]),
      )
      .withRow(row('Interruptions'))
      .withPanel(timeseries('Interruptions by kind', 'Interruption warnings, rebalance recommendations and other notices, per interval.', 'short', [{ expr: `sum by (kind) (increase(fleetops_interruptions_total{${CLUSTER}}[$__rate_interval]))`, legend: '{{kind}}' }]))
      .withPanel(
        timeseries('Interruptions by instance type and zone', 'Which spot capacity AWS takes back, per interval: candidates to leave out of a pool.', 'short', [
          { expr: `sum by (instance_type, zone) (increase(fleetops_interruptions_total{${CLUSTER}}[$__rate_interval]))`, legend: '{{instance_type}} {{zone}}' },
        ]),
      ),
  );
