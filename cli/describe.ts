import type { Client, WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import { ALL_SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { workflowUiLink } from '../common/ui-links';
import type { WorkflowStatus } from '../contracts/controls';
import { statusQuery } from '../contracts/controls';
import type { CommandContext } from './context';
import { statusLines } from './status-lines';

/** One workflow as the CLI shows it: what Temporal knows about the execution plus its `status` answer. */
export interface WorkflowView {
  workflowId: string;
  runId: string;
  type: string;
  executionStatus: string;
  taskQueue: string;
  startTime: string;
  closeTime?: string;
  staticSummary?: string;
  searchAttributes: Record<string, string>;
  uiUrl: string;
  status?: WorkflowStatus;
  /** Why `status` could not be read (no worker, workflow failed to load, ...). */
  statusError?: string;
}

export function fleetopsSearchAttributes(info: Pick<WorkflowExecutionInfo, 'typedSearchAttributes'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ALL_SEARCH_ATTRIBUTES) {
    const value = info.typedSearchAttributes.get(key);
    if (value !== undefined) out[key.name] = value;
  }
  return out;
}

export async function describeWorkflow(ctx: CommandContext, client: Client, workflowId: string): Promise<WorkflowView> {
  const handle = client.workflow.getHandle(workflowId);
  const desc: WorkflowExecutionDescription = await ctx.withDeadline(() => handle.describe());
  const target = ctx.target();
  return {
    workflowId: desc.workflowId,
    runId: desc.runId,
    type: desc.type,
    executionStatus: desc.status.name,
    taskQueue: desc.taskQueue,
    startTime: desc.startTime.toISOString(),
    ...(desc.closeTime ? { closeTime: desc.closeTime.toISOString() } : {}),
    staticSummary: await desc.staticSummary(),
    searchAttributes: fleetopsSearchAttributes(desc),
    uiUrl: workflowUiLink(target.uiUrl, target.namespace, desc.workflowId),
  };
}

export async function readStatus(ctx: CommandContext, client: Client, workflowId: string): Promise<WorkflowStatus> {
  return ctx.withDeadline(() => client.workflow.getHandle(workflowId).query(statusQuery));
}

export { statusLines } from './status-lines';

export function viewLines(view: WorkflowView): string[] {
  const attrs = Object.entries(view.searchAttributes)
    .map(([k, v]) => `${k.replace(/^Fleetops/, '').toLowerCase()}=${v}`)
    .join(' ');
  return [
    `${view.workflowId}  ${view.type}  ${view.executionStatus}`,
    ...(view.staticSummary ? [`  ${view.staticSummary}`] : []),
    ...(attrs ? [`  ${attrs}`] : []),
    `  started:  ${view.startTime}${view.closeTime ? `, closed ${view.closeTime}` : ''}`,
    ...(view.status ? statusLines(view.status) : []),
    ...(view.statusError ? [`  status:   unavailable (${view.statusError})`] : []),
    `  web ui:   ${view.uiUrl}`,
  ];
}
