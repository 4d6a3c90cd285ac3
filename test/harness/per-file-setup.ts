import { closeLeftoverRuns, noteOpenRuns, terminateTestRunsSoon } from './leftover-runs';
import { describeFailures, installFailureCollectingRuntime, onRefusedCompletion, REFUSED_COMPLETION_REASON, takeUnexpectedFailures } from './workflow-task-failures';
import { shutDownAllWorkers, shutDownWorkers } from './workers';

/**
 * Runs in every test file of the projects that start Temporal workers (jest.config.js), before the
 * file's own code: the Runtime is installed with the workflow-task-failure collector before any
 * connection exists, and after each test its workers are stopped and awaited, the workflow runs it
 * left open on the file's time-skipping server are terminated (leftover-runs.ts), then any "Failing
 * workflow task" it caused fails it.
 *
 * Jest runs `test.concurrent` tests without beforeEach/afterEach hooks: their workers are stopped
 * after the file (before the file's own afterAll, declared later, closes its connections), and a
 * workflow task failure they cause fails the next test to end, or the file.
 */
installFailureCollectingRuntime();
// A run whose task completion the time-skipping server refused can never continue: the test fails
// now, with the reason, instead of at its time limit.
onRefusedCompletion(() => terminateTestRunsSoon(REFUSED_COMPLETION_REASON));

beforeEach(noteOpenRuns);

afterEach(async () => {
  await shutDownWorkers();
  const test = expect.getState().currentTestName;
  let leftover: unknown;
  try {
    const { closed, replaced } = await closeLeftoverRuns(test);
    if (closed.length > 0) process.stderr.write(`[harness] terminated ${closed.length} run(s) "${test}" left open on its time-skipping server: ${closed.join(', ')}\n`);
    if (replaced) process.stderr.write(`[harness] replaced the time-skipping server after "${test}": its clock stayed held (a task outstanding as its runs closed, or a refused task completion)\n`);
  } catch (err) {
    leftover = err;
  }
  const failures = takeUnexpectedFailures();
  if (failures.length > 0) {
    throw new Error(`${failures.length} workflow task failure(s) during this test (the run is stuck until the cause is fixed):\n${describeFailures(failures)}`);
  }
  if (leftover) throw leftover;
});

// Failures from beforeAll, afterAll, a file-level worker between tests, or concurrent tests.
afterAll(async () => {
  await shutDownAllWorkers();
  const failures = takeUnexpectedFailures();
  if (failures.length > 0) throw new Error(`${failures.length} workflow task failure(s) outside a test's afterEach (beforeAll, afterAll, a file-level worker, or concurrent tests):\n${describeFailures(failures)}`);
});
