import { describeFailures, installFailureCollectingRuntime, takeUnexpectedFailures } from './workflow-task-failures';
import { shutDownAllWorkers, shutDownWorkers } from './workers';

/**
 * Runs in every test file of the projects that start Temporal workers (jest.config.js), before the
 * file's own code: the Runtime is installed with the workflow-task-failure collector before any
 * connection exists, and after each test its workers are stopped and awaited, then any "Failing
 * workflow task" it caused fails it.
 *
 * Jest runs `test.concurrent` tests without beforeEach/afterEach hooks: their workers are stopped
 * after the file (before the file's own afterAll, declared later, closes its connections), and a
 * workflow task failure they cause fails the next test to end, or the file.
 */
installFailureCollectingRuntime();

afterEach(async () => {
  await shutDownWorkers();
  const failures = takeUnexpectedFailures();
  if (failures.length > 0) {
    throw new Error(`${failures.length} workflow task failure(s) during this test (a workflow bug: the run is stuck until it is fixed):\n${describeFailures(failures)}`);
  }
});

// Failures from beforeAll, afterAll, a file-level worker between tests, or concurrent tests.
afterAll(async () => {
  await shutDownAllWorkers();
  const failures = takeUnexpectedFailures();
  if (failures.length > 0) throw new Error(`${failures.length} workflow task failure(s) outside a test's afterEach (beforeAll, afterAll, a file-level worker, or concurrent tests):\n${describeFailures(failures)}`);
});
