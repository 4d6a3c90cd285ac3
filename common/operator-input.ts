import { z } from 'zod';
import { WORKFLOW_KINDS } from './workflow-kinds';
import { INCIDENT_SEVERITIES } from './incident/severity';

/**
 * What an operator may type, for every edge that takes it (the CLI's arguments, the Slack app's slash
 * commands and mentions), checked before anything reaches Temporal, so a value one refuses the other
 * refuses too. Values that go into a visibility query (kind, phase, cluster) are restricted to
 * characters that need no quoting.
 */

/** ECS cluster and service names: up to 255 letters, digits, hyphens and underscores. */
const ecsName = (what: string) =>
  z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, `${what} names are 1-255 letters, digits, hyphens or underscores`);

export const clusterNameSchema = ecsName('cluster');
export const serviceNameSchema = ecsName('service');

/** A container image reference: [registry[:port]/]repository[:tag][@sha256:digest]. */
export const imageSchema = z
  .string()
  .max(1024)
  .regex(
    /^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
    'must be an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2',
  );

export const taskDefinitionArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]+:\d+$/,
    'must be a task definition ARN such as arn:aws:ecs:us-east-1:123456789012:task-definition/web:42',
  );

export const severitySchema = z.enum(INCIDENT_SEVERITIES, { error: `must be one of ${INCIDENT_SEVERITIES.join(', ')}` });

export const kindSchema = z.enum(WORKFLOW_KINDS, { error: `must be one of ${WORKFLOW_KINDS.join(', ')}` });

export const phaseSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'phases are 1-64 letters, digits and _ . : -');

export const workflowIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(1000)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

/** Free text an operator types (a reason, a note, a title): not blank, one paragraph-sized. */
export const textSchema = (max = 2000) =>
  z
    .string()
    .trim()
    .min(1, 'must not be blank')
    .max(max, `must be at most ${max} characters`);

/** A person or team handle as incidents record it (e.g. "alice", "@sre-oncall", "alice@example.com"). */
export const personSchema = z
  .string()
  .regex(/^@?[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/, 'must be a handle such as alice, @sre-oncall or alice@example.com');

export const limitSchema = z.coerce.number().int().min(1).max(1000);
