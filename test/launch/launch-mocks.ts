import type { LaunchActivities } from '../../activities/launch';

/**
 * Mocked launch activities for workflow tests of `launch`: the instance is an ACTIVE container
 * instance at the first look, its hook has the default timeouts, heartbeats and the completion go through. Each call is recorded;
 * `over` replaces single activities. Shared by test/launch/launch.test.ts and test/first-task/.
 */

export type Calls = Record<string, unknown[][]>;

export function mockActivities(over: Partial<LaunchActivities> = {}): { activities: LaunchActivities; calls: Calls } {
  const calls: Calls = {};
  const base: LaunchActivities = {
    async waitForContainerInstance() {
      return { status: 'ACTIVE', containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/demo/abc', agentConnected: true };
    },
    // The hook's defaults (DescribeLifecycleHooks): an hour between heartbeats, so the configured interval holds.
    async describeLaunchLifecycleHook() {
      return { found: true, heartbeatTimeoutSeconds: 3600, globalTimeoutSeconds: 172_800, defaultResult: 'ABANDON' };
    },
    async recordLaunchLifecycleHeartbeat() {
      return { dryRunCalls: [] };
    },
    async completeLaunchLifecycleAction(input) {
      return { dryRunCalls: input.dryRun ? [{ action: 'autoscaling:CompleteLifecycleAction', params: { LifecycleActionResult: input.result } }] : [] };
    },
  };
  const merged = { ...base, ...over } as LaunchActivities;
  const activities = Object.fromEntries(
    Object.entries(merged).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        (calls[name] ??= []).push(args);
        return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as LaunchActivities;
  return { activities, calls };
}
