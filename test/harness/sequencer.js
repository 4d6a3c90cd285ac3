const { relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

/**
 * Longest files first, also on a fresh clone. Jest orders files by the durations it cached from the
 * last run, and without them (a fresh clone, a CI runner with an empty cache) by file size, which puts
 * short files with long real-time waits (the 60 s throttle window of capacity-emulator, the drain e2e's
 * stack) near the end, where one of the two workers then runs alone. The seconds below are rough
 * figures from `make test` on two cores, used only for files jest has no duration for; files that
 * failed last time still go first, as in jest's own order.
 */
const ESTIMATED_SECONDS = {
  'e2e/stack-e2e.test.ts': 250,
  'capacity/capacity.test.ts': 126,
  'deploy/activities.test.ts': 110,
  'e2e/drain-e2e.test.ts': 94,
  'capacity/capacity-emulator.test.ts': 90,
  'slack/deploy.test.ts': 75,
  'tracing/tracing.test.ts': 40,
  'incident/github.test.ts': 42,
  'router/sqs.test.ts': 36,
  'drain/spot-drain.test.ts': 30,
  'incident/flapping-alarm.test.ts': 26,
  'accounts/accounts-e2e.test.ts': 24,
  'drain/drain-activities.test.ts': 24,
  'simulator/ecs-scheduler.test.ts': 21,
};

class LongestFirst extends Sequencer {
  sort(tests) {
    const key = (test) => {
      const cached = this.time(test);
      // As jest's own sort does: the runner reads it.
      test.duration = cached;
      const estimate = ESTIMATED_SECONDS[relative(`${test.context.config.rootDir}/test`, test.path)];
      return {
        failed: this.hasFailed(test) ? 1 : 0,
        seconds: cached != null ? cached / 1000 : (estimate ?? -1),
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
