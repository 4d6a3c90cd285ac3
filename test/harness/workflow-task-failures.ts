import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

/**
 * "Failing workflow task" is how a workflow bug shows: the SDK logs it, the server retries the task,
 * and the run is stuck for good while the test that caused it waits out its time limit. Every test
 * file that runs a worker installs the Runtime with this collector (per-file-setup.ts), so the warning
 * fails the test it appeared in, at once and with the workflow's own error. A test that means to
 * cause one (a nondeterminism check) says so with `expectWorkflowTaskFailures()`.
 */
export interface WorkflowTaskFailure {
  test: string | undefined;
  message: string;
  meta: Record<string, unknown>;
}

const seen: WorkflowTaskFailure[] = [];
let allowed: { test: string | undefined; pattern: RegExp } | undefined;

const isTaskFailure = (message: string): boolean => /Failing workflow task/i.test(message);

function currentTest(): string | undefined {
  return (globalThis as { expect?: { getState(): { currentTestName?: string } } }).expect?.getState().currentTestName;
}

/** Installs the process's Temporal Runtime with core logs forwarded here; call before any connection or worker. */
export function installFailureCollectingRuntime(): void {
  // Warnings and errors still reach the console, as with the default runtime.
  const console = new DefaultLogger('WARN');
  const logger = new DefaultLogger('WARN', (entry: LogEntry) => {
    if (isTaskFailure(entry.message)) seen.push({ test: currentTest(), message: entry.message, meta: entry.meta ?? {} });
    console.log(entry.level, entry.message, entry.meta);
  });
  Runtime.install({ logger, telemetryOptions: { logging: { forward: {} } } });
}

/** The current test expects workflow task failures (whose text matches `pattern`, if given). */
export function expectWorkflowTaskFailures(pattern: RegExp = /./): void {
  allowed = { test: currentTest(), pattern };
}

/** The failures seen since the last call, less those the test expected; clears both. */
export function takeUnexpectedFailures(): WorkflowTaskFailure[] {
  Runtime.instance().flushLogs();
  const taken = seen.splice(0);
  const allow = allowed;
  allowed = undefined;
  return taken.filter((f) => !(allow && allow.test === f.test && allow.pattern.test(`${f.message} ${JSON.stringify(f.meta)}`)));
}

export function describeFailures(failures: WorkflowTaskFailure[]): string {
  return failures
    .map((f) => {
      const { failure, workflowId, workflow_id, runId, run_id } = f.meta as Record<string, unknown>;
      const where = workflowId ?? workflow_id ?? '';
      const run = runId ?? run_id ?? '';
      return `${f.message} ${where} ${run}: ${typeof failure === 'string' ? failure : JSON.stringify(f.meta)}`.slice(0, 2000);
    })
    .join('\n');
}
