const { relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

/**
 * Longest files first, also on a fresh clone. Jest orders files by the durations it cached from the
 * last run of the same checkout, and without them (a fresh clone, CI) by file size, which puts short
 * files with long real-time waits (the local stack's e2e, the deploy activities' ECS and ELB
 * timelines) near the end, where one of the two workers then runs alone for minutes. The seconds
 * below were measured by `make test` on two cores (jest's per-file figures); they are used only for
 * files jest has no duration for, and only to order files. Files that failed last time go first, as
 * in jest's own order.
 */
const MEASURED_SECONDS = {
  'e2e/stack-e2e.test.ts': 236,
  'e2e/drain-e2e.test.ts': 151,
  // Measured on its own (jest's per-file figure, 28-50 s on the shared 2-core machine), not yet by make test.
  'e2e/release-e2e.test.ts': 50,
  // Likewise (41-50 s on its own): its stack runs two workers and two routers.
  'e2e/drain-budget-e2e.test.ts': 50,
  'capacity/capacity-emulator.test.ts': 57,
  'capacity/capacity.test.ts': 52,
  // slack/deploy and deploy/activities run their tests side by side (test.concurrent); measured on
  // their own (jest's per-file figures, three runs each on the shared 2-core machine: 47-52 s and
  // 35-41 s), not yet by make test.
  'slack/deploy.test.ts': 50,
  'incident/github.test.ts': 42,
  'deploy/activities.test.ts': 40,
  'first-task/release.first-task.test.ts': 36,
  'tracing/tracing.test.ts': 36,
  'drain/drain-activities.test.ts': 36,
  'router/sqs.test.ts': 34,
  'first-task/incident.first-task.test.ts': 33,
  'stack/stack-accounts.test.ts': 33,
  'accounts/accounts-e2e.test.ts': 25,
  'drain/spot-drain.test.ts': 24,
  'simulator/ecs-scheduler.test.ts': 20,
};

class LongestFirst extends Sequencer {
  sort(tests) {
    const key = (test) => {
      const cached = this.time(test);
      // As jest's own sort does: the runner reads it.
      test.duration = cached;
      const measured = MEASURED_SECONDS[relative(`${test.context.config.rootDir}/test`, test.path)];
      return {
        failed: this.hasFailed(test) ? 1 : 0,
        seconds: cached != null ? cached / 1000 : (measured ?? -1),
        size: test.context.hasteFS.getSize(test.path) ?? 0,
      };
    };
    const keys = new Map(tests.map((t) => [t, key(t)]));
    return [...tests].sort((a, b) => {
      const ka = keys.get(a);
      const kb = keys.get(b);
      return kb.failed - ka.failed || kb.seconds - ka.seconds || kb.size - ka.size;
    });
  }
}

module.exports = LongestFirst;
