import { describeFailures, installFailureCollectingRuntime, takeUnexpectedFailures } from './workflow-task-failures';
import { shutDownWorkers } from './workers';

/**
 * Runs in every test file of the projects that start Temporal workers (jest.config.js), before the
 * file's own code: the Runtime is installed with the workflow-task-failure collector before any
 * connection exists, and after each test its workers are stopped and awaited, then any "Failing
 * workflow task" it caused fails it. With `test.concurrent` tests, each test's afterEach stops only
 * the workers that test created (workers.ts); a workflow task failure fails the first test to end
 * after it was seen, which may be another one running at the time (the run is stuck either way).
 */
installFailureCollectingRuntime();

afterEach(async () => {
  await shutDownWorkers();
  const failures = takeUnexpectedFailures();
  if (failures.length > 0) {
    throw new Error(`${failures.length} workflow task failure(s) during this test (a workflow bug: the run is stuck until it is fixed):\n${describeFailures(failures)}`);
  }
});

// Failures from beforeAll, afterAll or a file-level worker between tests.
afterAll(() => {
  const failures = takeUnexpectedFailures();
  if (failures.length > 0) throw new Error(`${failures.length} workflow task failure(s) outside a test:\n${describeFailures(failures)}`);
});
