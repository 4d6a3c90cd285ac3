import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as autoScaling from '@aws-sdk/client-auto-scaling';
import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import * as ec2 from '@aws-sdk/client-ec2';
import * as ecs from '@aws-sdk/client-ecs';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import * as pricing from '@aws-sdk/client-pricing';
import * as s3 from '@aws-sdk/client-s3';
import * as sqs from '@aws-sdk/client-sqs';
import { ROOT } from '../../testkit/paths';

/** Every .ts file under the given paths (directories or files, relative to the repository). */
export function sources(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
    else if (p.endsWith('.ts')) out.push(p);
  };
  for (const p of paths) if (existsSync(join(ROOT, p))) walk(join(ROOT, p));
  return out;
}

const CLIENTS: [prefix: string, pkg: string, mod: Record<string, unknown>][] = [
  ['ecs', 'client-ecs', ecs],
  ['ec2', 'client-ec2', ec2],
  ['autoscaling', 'client-auto-scaling', autoScaling],
  ['elasticloadbalancing', 'client-elastic-load-balancing-v2', elbv2],
  ['cloudwatch', 'client-cloudwatch', cloudwatch],
  ['sqs', 'client-sqs', sqs],
  ['s3', 'client-s3', s3],
  ['pricing', 'client-pricing', pricing],
];

/**
 * API calls IAM authorises under another action's name: SQS's batch calls need the permission of the
 * single call (Amazon SQS Developer Guide, "Amazon SQS API permissions: Actions and resource
 * reference": there is no sqs:DeleteMessageBatch action; cfn-lint's W3037 refuses it).
 */
const AUTHORISED_AS: Record<string, string> = {
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
};

/** `ecs:UpdateService` for every `new UpdateServiceCommand(` in the given sources, by the client that exports it. */
export function iamActionsCalledIn(paths: string[]): string[] {
  const actions = new Set<string>();
  for (const file of sources(paths)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new ([A-Z][A-Za-z0-9]+)Command\(/g)) {
      // A command name several clients export is resolved by which clients the file imports.
      const owners = CLIENTS.filter(([, pkg, mod]) => typeof mod[`${m[1]}Command`] === 'function' && text.includes(`@aws-sdk/${pkg}'`));
      if (owners.length !== 1) throw new Error(`${relative(ROOT, file)}: cannot tell which AWS client ${m[1]}Command belongs to`);
      const action = `${owners[0]![0]}:${m[1]}`;
      actions.add(AUTHORISED_AS[action] ?? action);
    }
  }
  return [...actions].sort();
}
