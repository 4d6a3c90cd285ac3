import { AWS_APP_IDS } from '../../common/aws-app-ids';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../config/load';
import { deadLetterQueueOf, peekMessages } from '../../common/dead-letter-queue';
import { parseEvent } from '../../router/events';
import { accountOfQueue, asgNotificationToEnvelope, isAsgNotification } from '../../router/events/asg-notification';
import type { CommandContext } from '../context';
import { redrive } from './dlq-redrive';
import { failedError, usageError } from '../errors';
import type { CommandRunner } from '../program';

/**
 * `fleetops events dlq`: what is in the events queue's dead-letter queue, and why each message is
 * there (it is validated again, as the router would); `--replay` moves the messages back to the events
 * queue with SQS's own message move (cli/commands/dlq-redrive.ts), the router consuming them as usual.
 * `--replay --through-router` instead sends each message through the router's HTTP API and deletes it
 * from the dead-letter queue once the router accepted it (202); a message the router still refuses
 * (400) stays, with the router's error.
 *
 * Where things are, first match wins: `--dlq-url`, else the redrive policy of `--queue-url` or
 * FLEETOPS_EVENTS_QUEUE_URL, else the local stack's .run/stack.json. AWS region and endpoint come from
 * the config (--config / FLEETOPS_CONFIG) or the stack file, FLEETOPS_AWS_ENDPOINT overriding; the
 * router from --router-url / FLEETOPS_ROUTER_URL with FLEETOPS_ROUTER_TOKEN, or the stack file.
 * What the dead-letter queue holds is mostly AWS events: the token must have the router's aws-events
 * scope (the local stack's router.awsEventsToken; FLEETOPS_ROUTER_TOKEN's `default` token has not).
 */
export function registerEventsCommands(program: Command, run: CommandRunner): void {
  const events = program.command('events').description('the events path: dead-letter queue');
  events
    .command('dlq')
    .description("list the events queue's dead-letter queue; --replay sends its messages through the router")
    .option('--dlq-url <url>', 'the dead-letter queue (default: from the events queue\'s redrive policy)')
    .option('--queue-url <url>', 'the events queue (default: FLEETOPS_EVENTS_QUEUE_URL or .run/stack.json)')
    .option('--replay', 'move the messages back to the events queue (SQS StartMessageMoveTask) and wait until the move is over')
    .option('--rate <n>', 'with --replay: messages moved per second, 1-500 (default: SQS decides)')
    .option('--through-router', 'with --replay: POST each message to the router instead, and delete the ones it accepts')
    .option('--router-url <url>', 'with --through-router: the router (default: FLEETOPS_ROUTER_URL or .run/stack.json); token from FLEETOPS_ROUTER_TOKEN (a token with the aws-events scope)')
    .action(run(dlqCommand));
}

interface DlqOptions {
  dlqUrl?: string;
  queueUrl?: string;
  replay?: boolean;
  rate?: string;
  throughRouter?: boolean;
  routerUrl?: string;
}

const stackFileSchema = z.looseObject({
  aws: z.looseObject({ endpoint: z.string().optional(), region: z.string().optional(), eventsQueueUrl: z.string().optional(), deadLetterQueueUrl: z.string().optional() }).optional(),
  router: z.looseObject({ url: z.string().optional(), token: z.string().optional(), awsEventsToken: z.string().optional() }).optional(),
});
type StackFacts = z.infer<typeof stackFileSchema>;

function stackFacts(cwd: string): StackFacts {
  const path = join(cwd, '.run', 'stack.json');
  if (!existsSync(path)) return {};
  const parsed = stackFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  return parsed.success ? parsed.data : {};
}

function awsSettings(ctx: CommandContext, stack: StackFacts): { region: string; endpoint?: string } {
  const env = ctx.io.env;
  const configPath = ctx.options.config ?? env.FLEETOPS_CONFIG;
  let region = env.AWS_REGION ?? stack.aws?.region;
  let endpoint = stack.aws?.endpoint;
  if (configPath) {
    try {
      const config = loadConfig(isAbsolute(configPath) ? configPath : resolve(ctx.io.cwd, configPath));
      region = config.aws.region;
      endpoint = config.aws.endpoint;
    } catch (err) {
      if (err instanceof ConfigError) throw usageError(err.message);
      throw err;
    }
  }
  return { region: region ?? 'us-east-1', endpoint: env.FLEETOPS_AWS_ENDPOINT ?? endpoint };
}

/** A queue URL that does not say its account (not SQS's own form): the envelope's account fails validation, naming it. */
const UNKNOWN_ACCOUNT = 'unknown';

/** Why the router would refuse the message now, or undefined when it would take it (it validates the same way). */
function problemOf(body: string | undefined, account: string): { envelope?: { id: string; source: string; detailType: string }; event?: unknown; error?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(body ?? '');
  } catch (err) {
    return { error: `body: not valid JSON (${(err as Error).message.slice(0, 200)})` };
  }
  if (isAsgNotification(raw)) {
    // From the lifecycle queue, whose account (the dead-letter queue's) is the events' account.
    const converted = asgNotificationToEnvelope(raw, { account, region: 'us-east-1' });
    if (!converted.ok) return { error: `Auto Scaling notification: ${converted.error}` };
    raw = converted.envelope;
  }
  const items = Array.isArray(raw) ? raw : [raw];
  const first = items[0] as Record<string, unknown> | undefined;
  const envelope = first && typeof first === 'object' ? { id: String(first.id ?? ''), source: String(first.source ?? ''), detailType: String(first['detail-type'] ?? '') } : undefined;
  for (const [i, item] of items.entries()) {
    const parsed = parseEvent(item, Array.isArray(raw) ? ['events', i] : []);
    if (!parsed.ok) return { envelope, event: raw, error: parsed.error };
  }
  return { envelope, event: raw };
}

interface Listed {
  messageId: string;
  sentAt: string | null;
  receiveCount: number;
  event: { id: string; source: string; detailType: string } | null;
  error: string | null;
}

const listed = (account: string) => (m: Message): Listed => {
  const p = problemOf(m.Body, account);
  const sent = Number(m.Attributes?.SentTimestamp ?? NaN);
  return {
    messageId: m.MessageId ?? '',
    sentAt: Number.isFinite(sent) ? new Date(sent).toISOString() : null,
    receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
    event: p.envelope ?? null,
    error: p.error ?? null,
  };
};

async function dlqCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const opts = cmd.opts<DlqOptions>();
  const env = ctx.io.env;
  const stack = stackFacts(ctx.io.cwd);
  const rate = opts.rate === undefined ? undefined : Number(opts.rate);
  if (rate !== undefined && (!Number.isInteger(rate) || rate < 1 || rate > 500)) throw usageError(`--rate: a whole number of messages per second from 1 to 500 (got ${opts.rate})`);
  if ((rate !== undefined || opts.throughRouter) && !opts.replay) throw usageError(`${opts.throughRouter ? '--through-router' : '--rate'} goes with --replay`);
  const sqs = new SQSClient({ ...awsSettings(ctx, stack), maxAttempts: 3, userAgentAppId: AWS_APP_IDS.cli });
  try {
    const queueUrl = opts.queueUrl ?? env.FLEETOPS_EVENTS_QUEUE_URL;
    let dlqUrl = opts.dlqUrl;
    if (!dlqUrl) {
      if (queueUrl) {
        const dlq = await deadLetterQueueOf(sqs, queueUrl).catch((err: unknown) => {
          throw failedError(`cannot read the redrive policy of ${queueUrl}: ${(err as Error).message}`);
        });
        if (!dlq) throw failedError(`${queueUrl} has no redrive policy, so no dead-letter queue`);
        dlqUrl = dlq.url;
      } else dlqUrl = stack.aws?.deadLetterQueueUrl;
    }
    if (!dlqUrl) throw usageError('no dead-letter queue: pass --dlq-url or --queue-url, set FLEETOPS_EVENTS_QUEUE_URL, or run in a checkout with a local stack (.run/stack.json)');

    if (!opts.replay) {
      const messages = (await peekMessages(sqs, dlqUrl)).map(listed(accountOfQueue(dlqUrl) ?? UNKNOWN_ACCOUNT)).sort((a, b) => (a.sentAt ?? '').localeCompare(b.sentAt ?? ''));
      ctx.print({ dlqUrl, messages }, [
        `${messages.length} message(s) in ${dlqUrl}`,
        ...messages.map(
          (m) =>
            `  ${m.messageId}  sent ${m.sentAt ?? '?'}  received ${m.receiveCount}×  ${m.event ? `${m.event.source} / ${m.event.detailType} ${m.event.id}` : '(not an event)'}` +
            `\n      ${m.error ?? 'valid now: --replay moves it back to the events queue'}`,
        ),
      ]);
      return;
    }
    if (opts.throughRouter) await replay(ctx, sqs, dlqUrl, opts, stack);
    else await redrive(ctx, sqs, { dlqUrl, queueUrl: queueUrl ?? stack.aws?.eventsQueueUrl, rate });
  } finally {
    sqs.destroy();
  }
}

async function replay(ctx: CommandContext, sqs: SQSClient, dlqUrl: string, opts: DlqOptions, stack: StackFacts): Promise<void> {
  const env = ctx.io.env;
  const routerUrl = (opts.routerUrl ?? env.FLEETOPS_ROUTER_URL ?? stack.router?.url)?.replace(/\/$/, '');
  // AWS events need a token with the aws-events scope: the stack's, not its default token.
  const token = env.FLEETOPS_ROUTER_TOKEN ?? stack.router?.awsEventsToken ?? stack.router?.token;
  if (!routerUrl || !token) throw usageError('--replay --through-router needs the router: --router-url (or FLEETOPS_ROUTER_URL) and FLEETOPS_ROUTER_TOKEN (with the aws-events scope), or a local stack (.run/stack.json)');
  const replayed: { messageId: string; results: unknown }[] = [];
  const left: { messageId: string; status: number; error: string }[] = [];
  const handled = new Set<string>();
  // Refused messages stay taken until the end (so the next receive brings new ones), then are visible again:
  // they stay in the dead-letter queue for a fix and another replay.
  const refused: string[] = [];
  const release = (handles: string[]) =>
    Promise.all(handles.splice(0).map((h) => sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlqUrl, ReceiptHandle: h, VisibilityTimeout: 0 }))));
  for (;;) {
    // Taken for a minute, so a second replay running at the same time does not send them twice.
    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['SentTimestamp'] }),
    );
    const batch = (res.Messages ?? []).filter((m) => !handled.has(m.MessageId ?? ''));
    if (batch.length === 0) break;
    for (const m of batch) {
      handled.add(m.MessageId ?? '');
      const p = problemOf(m.Body, accountOfQueue(dlqUrl) ?? UNKNOWN_ACCOUNT);
      const body = p.event !== undefined ? JSON.stringify(p.event) : (m.Body ?? '');
      let status: number;
      let answer: { results?: unknown; error?: string };
      try {
        const r = await fetch(`${routerUrl}/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        status = r.status;
        answer = (await r.json().catch(() => ({}))) as typeof answer;
      } catch (err) {
        await release(refused);
        throw failedError(`cannot reach the router at ${routerUrl}: ${(err as Error).message}; ${replayed.length} message(s) replayed so far`, { replayed });
      }
      if (status === 202) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle }));
        replayed.push({ messageId: m.MessageId ?? '', results: answer.results });
        continue;
      }
      refused.push(m.ReceiptHandle ?? '');
      if (status === 400) {
        left.push({ messageId: m.MessageId ?? '', status, error: answer.error ?? 'refused' });
        continue;
      }
      await release(refused);
      throw failedError(`the router answered ${status}${answer.error ? `: ${answer.error}` : ''}; ${replayed.length} message(s) replayed so far`, { replayed, status });
    }
  }
  await release(refused);
  ctx.print({ dlqUrl, routerUrl, replayed, left }, [
    `replayed ${replayed.length} message(s) from ${dlqUrl} through ${routerUrl}`,
    ...left.map((l) => `  left ${l.messageId}: ${l.error}`),
  ]);
  if (left.length > 0) throw failedError(`${left.length} message(s) the router still refuses stay in the dead-letter queue`, { replayed: replayed.length, left });
}
