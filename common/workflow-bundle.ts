import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';

/**
 * How fleetops bundles its workflows for a worker: the workflow code plus the OpenTelemetry
 * workflow interceptors (spans for workflow runs, signals, activities; the worker supplies the sink
 * that exports them, common/worker-tracing.ts). One place for the Dockerfile, `make up`'s cached
 * bundle and the worker when it bundles itself. The interceptors add no commands, and histories
 * recorded without them replay with them (their new behaviour is gated by SDK flags).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

export function workflowBundleOptions(workflowsPath: string, logger?: BundleOptions['logger']): BundleOptions {
  return { workflowsPath, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, ...(logger ? { logger } : {}) };
}

export async function buildWorkflowBundle(workflowsPath: string, logger?: BundleOptions['logger']): Promise<string> {
  return (await bundleWorkflowCode(workflowBundleOptions(workflowsPath, logger))).code;
}

/** For the Dockerfile: bundle once at image build time. */
export async function writeWorkflowBundle(workflowsPath: string, outPath: string): Promise<void> {
  writeFileSync(outPath, await buildWorkflowBundle(workflowsPath));
}
