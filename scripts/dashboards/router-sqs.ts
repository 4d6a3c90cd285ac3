import { build, dashboard, row, stat, timeseries } from './lib';

const p = (q: number, metric: string, by: string) => `histogram_quantile(${q}, sum by (le, ${by}) (rate(${metric}_bucket[$__rate_interval])))`;

/** The router: events in and what became of them, HTTP answers, Temporal and SQS latency, the dead-letter queue. */
export const routerSqsDashboard = () =>
  build(
    dashboard({
      uid: 'fleetops-router-sqs',
      title: 'fleetops / Router and SQS',
      description: 'The events path: events received and routed, HTTP answers by code, Temporal call and SQS latency, event age, the consumer paused, and the dead-letter queue.',
    })
      .withRow(row('Now'))
      .withPanel(stat('Dead-letter queue', "Messages in the events queue's dead-letter queue: events nothing acted on. Any pages (FleetopsEventsDeadLetters).", 'short', { expr: 'max(fleetops_router_dlq_messages)' }))
      .withPanel(stat('Oldest dead letter', 'Age of the oldest message seen in the dead-letter queue.', 's', { expr: 'max(fleetops_router_dlq_oldest_message_age_seconds)' }))
      .withPanel(stat('Consumer paused', '1 while a router has stopped receiving from SQS because Temporal does not answer it; events wait on the queue.', 'short', { expr: 'max(fleetops_router_sqs_receiving_paused)' }))
      .withPanel(
        stat('503s on /events', 'Share of POST /events answered 503 (Temporal unreachable, or the in-flight limit) over the last 5 minutes.', 'percentunit', {
          expr: 'sum(rate(fleetops_router_http_responses_total{route="/events", code="503"}[5m])) / sum(rate(fleetops_router_http_responses_total{route="/events"}[5m])) or vector(0)',
        }),
      )
      .withRow(row('Events'))
      .withPanel(timeseries('Events received', 'Valid events by kind and transport (HTTP, SQS).', 'ops', [{ expr: 'sum by (kind, transport) (rate(fleetops_router_events_received_total[$__rate_interval]))', legend: '{{kind}} ({{transport}})' }]))
      .withPanel(timeseries('Events routed', 'What became of the events: started, signaled, duplicate, ignored.', 'ops', [{ expr: 'sum by (action) (rate(fleetops_router_events_routed_total[$__rate_interval]))', legend: '{{action}}' }]))
      .withPanel(
        timeseries('Events rejected or failed', 'Rejected before routing (by reason) and not carried out because a Temporal call failed (the sender retries).', 'ops', [
          { expr: 'sum by (reason) (rate(fleetops_router_events_invalid_total[$__rate_interval]))', legend: 'invalid: {{reason}}' },
          { expr: 'sum by (reason) (rate(fleetops_router_events_failed_total[$__rate_interval]))', legend: 'failed: {{reason}}' },
        ]),
      )
      .withPanel(timeseries('Event age (p95)', "From the event's time to its workflow started or signaled, by kind.", 's', [{ expr: p(0.95, 'fleetops_router_event_age_seconds', 'kind'), legend: '{{kind}}' }]))
      .withRow(row('HTTP and Temporal'))
      .withPanel(timeseries('HTTP answers', 'Answers of both listeners by route and status code.', 'reqps', [{ expr: 'sum by (route, code) (rate(fleetops_router_http_responses_total[$__rate_interval]))', legend: '{{route}} {{code}}' }]))
      .withPanel(timeseries('Temporal call latency (p99)', 'Start, signal-with-start and signal calls, by operation and outcome.', 's', [{ expr: p(0.99, 'fleetops_router_temporal_call_seconds', 'operation, outcome'), legend: '{{operation}} {{outcome}}' }]))
      .withRow(row('SQS'))
      .withPanel(timeseries('SQS messages', 'Messages by what became of them: received, deleted, poison, retry.', 'ops', [{ expr: 'sum by (outcome) (rate(fleetops_router_sqs_messages_total[$__rate_interval]))', legend: '{{outcome}}' }]))
      .withPanel(timeseries('SQS call latency (p99)', 'By operation; ReceiveMessage includes its long-poll wait.', 's', [{ expr: p(0.99, 'fleetops_router_sqs_call_seconds', 'operation'), legend: '{{operation}}' }]))
      .withPanel(timeseries('Time on the queue (p95)', 'From SentTimestamp to the message deleted after its events were carried out.', 's', [{ expr: `histogram_quantile(0.95, sum by (le) (rate(fleetops_router_sqs_message_seconds_bucket[$__rate_interval])))`, legend: 'p95' }]))
      .withPanel(
        timeseries('Dead-letter queue and pauses', 'Messages in the dead-letter queue, and routers whose consumer is paused.', 'short', [
          { expr: 'max(fleetops_router_dlq_messages)', legend: 'dead letters' },
          { expr: 'sum(fleetops_router_sqs_receiving_paused)', legend: 'consumers paused' },
        ]),
      ),
  );
