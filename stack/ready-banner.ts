import { join } from 'node:path';
import { print, seconds } from './console';
import type { StackSettings } from './settings';
import type { StackFile } from './stack-file';

/** The line every caller of `make up` waits for (testkit/local-stack.ts, bench/stack-up.ts). */
export const READY_MARKER = 'fleetops stack ready';

/** What `make up` prints once every part answers: the ready line, then where each part is. */
export function printReadyBanner(opts: { stack: StackFile; settings: StackSettings; stackPath: string; configPath: string; startedAt: number }): void {
  const { temporal, aws, router, slack, demo } = opts.stack;
  const s = opts.settings;
  print('');
  print(`${READY_MARKER} in ${seconds(Date.now() - opts.startedAt)}`);
  print(`  Temporal Web UI  ${temporal.ui}   (gRPC ${temporal.address}, namespace ${temporal.namespace})`);
  print(`  AWS endpoint     ${aws.endpoint}   (${aws.region}; cluster ${demo.cluster}, service ${demo.service})`);
  const more = router.urls.length > 1 ? ` and ${router.urls.slice(1).join(', ')}` : '';
  print(`  router           ${router.url}${more}   (tokens in ${opts.stackPath}); consumes ${aws.eventsQueueUrl} and ${aws.lifecycleQueueUrl}`);
  if (s.workers > 1) print(`  workers          ${s.workers} processes (logs worker.log, worker-2.log, …)`);
  if (s.coordinatorWorker) print('  coordinator      worker-coordinator polls fleetops-drain-coordinator alone (log worker-coordinator.log)');
  print(`  slack app        ${slack.url}/slack/events   (its own listener; signing secret in stack.json; Web API stand-in's record: ${slack.messagesUrl})`);
  if (opts.stack.prometheus) print(`  prometheus       ${opts.stack.prometheus.url}   (scrapes the worker and router; dashboards in deploy/grafana/)`);
  print(`  config           ${opts.configPath}`);
  print(`  logs             ${s.logDir}/<name>.log; notifications in ${join(s.runDir, 'notifications.log')}`);
  print('  Ctrl-C stops everything.');
  print('');
}
