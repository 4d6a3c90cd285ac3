import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
/** Output of processes the test started: the text so far, and how much of it was read. */
const watched: { name: string; read: () => string; offset: number }[] = [];
/** Log folders of processes the test started (a stack's workers), with how far each file was read. */
const watchedDirs: { name: string; dir: string; offsets: Map<string, number> }[] = [];
let allowed: { test: string | undefined; pattern: RegExp } | undefined;

const isTaskFailure = (message: string): boolean => /Failing workflow task/i.test(message);

/**
 * The time-skipping test server refuses a workflow task completion that cancels a timer which fired
 * while the task ran ("invalid history builder state for action"; the real server drops the fired
 * timer and records the cancel). Its clock runs at wall speed while a task is out, so a task that is
 * slow on a loaded machine can see a timer due a few seconds later fire: the drain cancels its
 * lifecycle heartbeat timer when it ends. The refusal leaves the task completed in the server's
 * memory but not in the history: the run never gets another task, and the server no longer skips
 * time until the run is closed.
 */
const REFUSED_COMPLETION = /invalid history builder state for action/;
export const REFUSED_COMPLETION_REASON =
  'the time-skipping test server refused a workflow task completion ("invalid history builder state for action": a timer was cancelled in the task during which it fired); ' +
  'the run could never get another task, and it held the server\'s clock';
let onRefused: (() => void) | undefined;

/** Called when the server refused a task completion of one of this file's runs (leftover-runs.ts terminates the test's runs). */
export function onRefusedCompletion(listener: () => void): void {
  onRefused = listener;
}

function currentTest(): string | undefined {
  return (globalThis as { expect?: { getState(): { currentTestName?: string } } }).expect?.getState().currentTestName;
}

/** Installs the process's Temporal Runtime with core logs forwarded here; call before any connection or worker. */
export function installFailureCollectingRuntime(): void {
  // Warnings and errors still reach the console, as with the default runtime.
  const console = new DefaultLogger('WARN');
  const logger = new DefaultLogger('WARN', (entry: LogEntry) => {
    if (isTaskFailure(entry.message)) seen.push({ test: currentTest(), message: entry.message, meta: entry.meta ?? {} });
    if (REFUSED_COMPLETION.test(`${entry.message} ${String(entry.meta?.error ?? '')}`)) {
      seen.push({ test: currentTest(), message: REFUSED_COMPLETION_REASON, meta: entry.meta ?? {} });
      onRefused?.();
    }
    console.log(entry.level, entry.message, entry.meta);
  });
  Runtime.install({ logger, telemetryOptions: { logging: { forward: {} } } });
}

/**
 * Also collect the warnings a worker process prints (workers/main.ts logs them as JSON lines): the
 * local stack and the suites that spawn a worker register the process's output here.
 */
export function watchProcessOutput(name: string, read: () => string): () => void {
  const entry = { name, read, offset: 0 };
  watched.push(entry);
  return () => void watched.splice(watched.indexOf(entry), 1);
}

/** The same for every `*.log` file in a folder (the local stack's logs), read from where the last scan stopped. */
export function watchLogFolder(name: string, dir: string): () => void {
  const entry = { name, dir, offsets: new Map<string, number>() };
  watchedDirs.push(entry);
  return () => void watchedDirs.splice(watchedDirs.indexOf(entry), 1);
}

function newText(file: string, from: number): { text: string; size: number } {
  const size = statSync(file).size;
  if (size <= from) return { text: '', size };
  const buf = Buffer.alloc(size - from);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return { text: buf.toString('utf8'), size };
}

function collectLines(name: string, text: string): void {
  for (const line of text.split('\n')) {
    if (isTaskFailure(line)) seen.push({ test: currentTest(), message: `[${name}] Failing workflow task`, meta: { line: line.slice(0, 2000) } });
  }
}

function scanProcessOutput(): void {
  for (const d of watchedDirs) {
    let files: string[];
    try {
      files = readdirSync(d.dir).filter((f) => f.endsWith('.log'));
    } catch {
      continue; // the stack is gone
    }
    for (const f of files) {
      const { text, size } = newText(join(d.dir, f), d.offsets.get(f) ?? 0);
      d.offsets.set(f, size);
      collectLines(`${d.name} ${f}`, text);
    }
  }
  for (const w of watched) {
    let text: string;
    try {
      text = w.read();
    } catch {
      continue; // the process or its log is gone
    }
    collectLines(w.name, text.slice(w.offset));
    w.offset = text.length;
  }
}

/** The current test expects workflow task failures (whose text matches `pattern`, if given). */
export function expectWorkflowTaskFailures(pattern: RegExp = /./): void {
  allowed = { test: currentTest(), pattern };
}

/** The failures seen since the last call, less those the test expected; clears both. */
export function takeUnexpectedFailures(): WorkflowTaskFailure[] {
  Runtime.instance().flushLogs();
  scanProcessOutput();
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
