import { build, CLUSTER, dashboard, eventsIn, row, stat, timeseries } from './lib';

const SECONDS_LEFT = `fleetops_drain_seconds_left_bucket{${CLUSTER}}`;
/** The notices that start or move a spot drain (router/events/). */
const DRAIN_NOTICES = 'spot-interruption-warning|rebalance-recommendation|instance-state-change|instance-stopping|health-event|lifecycle-terminate';

/** Spot drains: how many, how they ended, how much time they had left, and the queue that runs them. */
export const drainsDashboard = () =>
  build(
    dashboard({
      uid: 'fleetops-drains',
      title: 'fleetops / Drains',
      description: 'Spot drains: notices received, drains finished by outcome, the time left before the deadline when they ended, and the workers polling fleetops-critical.',
      clusterFrom: 'fleetops_drains_finished_total',
    })
      .withRow(row('Over the range'))
      .withPanel(stat('Drains finished', 'Drains that ended in the range, every outcome.', 'short', { expr: `sum(${eventsIn(`fleetops_drains_finished_total{${CLUSTER}}`)}) or vector(0)` }))
      .withPanel(
        stat('Deadlines missed', 'Drains that ran out of time: the instance was reclaimed with tasks on it. Any is worth a look.', 'short', {
          expr: `sum(${eventsIn(`fleetops_drains_finished_total{${CLUSTER}, outcome="deadline-missed"}`)}) or vector(0)`,
        }),
      )
      .withPanel(stat('Median time left', 'Median seconds left before the deadline when a drain ended.', 's', { expr: `histogram_quantile(0.5, sum by (le) (increase(${SECONDS_LEFT}[$__range])))` }))
      .withPanel(
        stat('Workers polling fleetops-critical', 'Worker processes with a workflow poller on the queue drains run on. 0 pages (FleetopsNoCriticalPoller).', 'short', {
          expr: 'count(temporal_num_pollers{task_queue="fleetops-critical", poller_type="workflow_task"} > 0) or vector(0)',
        }),
      )
      .withRow(row('Over time'))
      .withPanel(timeseries('Drains finished by outcome', 'Drains ended per interval: drained, not-in-cluster, deadline-missed, aborted.', 'short', [{ expr: `sum by (outcome) (increase(fleetops_drains_finished_total{${CLUSTER}}[$__rate_interval]))`, legend: '{{outcome}}' }]))
      .withPanel(
        timeseries('Time left when a drain ended', 'Seconds left before the deadline: the 10th, 50th and 90th percentile of the drains that ended per interval.', 's', [
          { expr: `histogram_quantile(0.1, sum by (le) (rate(${SECONDS_LEFT}[$__rate_interval])))`, legend: 'p10' },
          { expr: `histogram_quantile(0.5, sum by (le) (rate(${SECONDS_LEFT}[$__rate_interval])))`, legend: 'p50' },
          { expr: `histogram_quantile(0.9, sum by (le) (rate(${SECONDS_LEFT}[$__rate_interval])))`, legend: 'p90' },
        ]),
      )
      .withPanel(
        timeseries('Drain notices received', 'Interruption warnings, rebalance recommendations, state changes, health events and lifecycle actions the router received (all clusters).', 'ops', [
          { expr: `sum by (kind, transport) (rate(fleetops_router_events_received_total{kind=~"${DRAIN_NOTICES}"}[$__rate_interval]))`, legend: '{{kind}} ({{transport}})' },
        ]),
      )
      .withPanel(
        timeseries('fleetops-critical: workflow task wait (p95)', 'From a workflow task scheduled on the critical queue to a worker picking it up: a drain waiting for a worker.', 'ms', [
          { expr: 'histogram_quantile(0.95, sum by (le) (rate(temporal_workflow_task_schedule_to_start_latency_bucket{task_queue="fleetops-critical"}[$__rate_interval])))', legend: 'p95' },
        ]),
      )
      .withPanel(
        timeseries('fleetops-critical: task slots in use', 'Workflow and activity slots busy on the queue drains and scale-outs run on, per worker kind.', 'short', [
          { expr: 'sum by (worker_type) (temporal_worker_task_slots_used{task_queue="fleetops-critical"})', legend: '{{worker_type}}' },
        ]),
      ),
  );
