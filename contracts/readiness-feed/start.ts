import { shownFeedUrl } from '../../common/calendar-feed';
import type { ScheduleOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsKind } from '../../common/search-attributes';
import { WORKFLOWS } from '../registry';
import type { ReadinessFeedInput } from './input';

/** The readiness feed's workflow type as registered (contracts/registry.ts). */
export const READINESS_FEED_WORKFLOW_TYPE = WORKFLOWS.readinessFeed.type;

/** Every feed's Schedule id starts so; `fleetops schedules` lists them by it. */
export const READINESS_FEED_PREFIX = 'readiness-feed-';

export const readinessFeedScheduleId = (name: string): string => `${READINESS_FEED_PREFIX}${name}`;

/**
 * The Schedule that polls a feed every `everyMinutes` (`client.schedule.create(…)`); its action starts
 * the readiness feed (workflows/readiness-feed/). Overlap SKIP: a poll still running makes the next
 * one pointless. A poll missed is not made up: the next one reads the same feed. `taskQueue` is for tests.
 */
export function readinessFeedScheduleOptions(input: ReadinessFeedInput, opts: { taskQueue?: string } = {}): ScheduleOptions {
  const typedSearchAttributes: SearchAttributePair[] = [{ key: FleetopsKind, value: WORKFLOWS.readinessFeed.kind }];
  const scheduleId = readinessFeedScheduleId(input.feed);
  const what = `readiness feed ${input.feed}: ${shownFeedUrl(input.url)} -> ${input.defaults.clusters.join(', ')} level ${input.defaults.level}`.slice(0, 200);
  return {
    scheduleId,
    spec: { intervals: [{ every: `${input.everyMinutes} minutes` }] },
    state: { note: what },
    policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
    memo: { feed: input.feed },
    typedSearchAttributes,
    action: {
      type: 'startWorkflow',
      workflowType: READINESS_FEED_WORKFLOW_TYPE,
      workflowId: scheduleId,
      taskQueue: opts.taskQueue ?? WORKFLOWS.readinessFeed.taskQueue,
      args: [input],
      typedSearchAttributes,
      staticSummary: what,
    },
  };
}
