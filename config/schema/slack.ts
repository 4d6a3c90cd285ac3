import { z } from 'zod';
import { resolveSecret, secretEnv, secretFile, secretValue } from '../secrets';
import { isLoopback } from './fields';

/** Where the Slack secrets are read from when the config names neither the value nor a file. */
export const SLACK_SIGNING_SECRET_ENV = 'FLEETOPS_SLACK_SIGNING_SECRET';
export const SLACK_BOT_TOKEN_ENV = 'FLEETOPS_SLACK_BOT_TOKEN';

const slackChannelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123ABCDE');
export const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U0123ABCDE');
const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id such as S0123ABCDE');
const slackTeamId = z.string().regex(/^T[A-Z0-9]{2,}$/, 'must be a Slack workspace (team) id such as T0123ABCDE');
const slackEnterpriseId = z.string().regex(/^E[A-Z0-9]{2,}$/, 'must be a Slack Enterprise Grid id such as E0123ABCDE');

/** Who may press Approve on a service's deploy gate (`approvers`), or start its deploys (`deployers`), in Slack: members by user id, or of a user group. */
export const slackApproversSchema = z
  .object({ users: z.array(slackUserId).default([]), groups: z.array(slackGroupId).default([]) })
  .strict()
  .refine((a) => a.users.length + a.groups.length > 0, { message: 'name at least one user or group' });

/** Who may change incidents from Slack besides each incident's own roles; may be empty (roles only). */
export const slackRespondersSchema = z
  .object({ users: z.array(slackUserId).default([]), groups: z.array(slackGroupId).default([]) })
  .strict()
  .prefault({});

const serviceKey = z.string().regex(/^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/, 'keys are <cluster>/<service>');

/**
 * Slack app settings (the chat front end, router/slack/ and activities/chat/). Secrets as `${ENV_VAR}`
 * or a `…File` path: the signing secret (required: the router verifies every request with it) and the
 * bot token (without it nothing is posted; slash commands still answer through their response_url).
 */
export const slackSchema = z
  .object({
    signingSecret: secretValue.optional(),
    signingSecretFile: secretFile.optional(),
    botToken: secretValue.optional(),
    botTokenFile: secretFile.optional(),
    /**
     * The workspace the app serves (team id, `T…`): a request from any other workspace is refused and
     * does nothing. Required: a signing secret proves a request came from Slack, not from which workspace.
     */
    teamId: slackTeamId,
    /** With Enterprise Grid: the organisation (`E…`); requests must carry it too. */
    enterpriseId: slackEnterpriseId.optional(),
    /** The Web API's base URL (the Web API client's slackApiUrl); https, or http to a loopback stand-in only. */
    apiUrl: z.url({ protocol: /^https?$/ }).default('https://slack.com/api/'),
    /** Where deploys (phases, approval gates) and incidents (declaration, thread per incident) are posted. */
    channels: z.object({ deploys: slackChannelId.optional(), incidents: slackChannelId.optional() }).strict().prefault({}),
    /** `<cluster>/<service>` → who may approve its deploys from Slack; a service not listed cannot be approved there. */
    approvers: z.record(serviceKey, slackApproversSchema).default({}),
    /** `<cluster>/<service>` → who may start its deploys with `/fleetops deploy`; a service not listed cannot be deployed from Slack. */
    deployers: z.record(serviceKey, slackApproversSchema).default({}),
    /** Who may note, assign, resolve and re-grade any incident from Slack, besides the incident's own roles. */
    responders: slackRespondersSchema,
  })
  .strict()
  .transform((s, ctx) => {
    // Unset, each secret is read from its documented variable (docs/slack.md, Config: FLEETOPS_SLACK_SIGNING_SECRET).
    const withDefaults = {
      ...s,
      ...(s.signingSecret === undefined && s.signingSecretFile === undefined ? { signingSecret: `\${${SLACK_SIGNING_SECRET_ENV}}` } : {}),
      ...(s.botToken === undefined && s.botTokenFile === undefined && secretEnv()[SLACK_BOT_TOKEN_ENV] ? { botToken: `\${${SLACK_BOT_TOKEN_ENV}}` } : {}),
    };
    const signingSecret = resolveSecret(withDefaults, 'signingSecret', ctx, { literal: false, required: true });
    const botToken = resolveSecret(withDefaults, 'botToken', ctx, { literal: false, required: false });
    const url = new URL(s.apiUrl);
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      ctx.addIssue({ code: 'custom', path: ['apiUrl'], message: 'must be https (http only to a loopback address): the bot token would travel in clear' });
    }
    if (botToken === undefined && (s.channels.deploys || s.channels.incidents) && withDefaults.botTokenFile === undefined && withDefaults.botToken === undefined) {
      ctx.addIssue({ code: 'custom', path: ['botToken'], message: `channels are set: posting to them needs botToken (a \${ENV_VAR} reference), botTokenFile or ${SLACK_BOT_TOKEN_ENV}` });
    }
    return {
      signingSecret: signingSecret ?? '',
      ...(botToken !== undefined ? { botToken } : {}),
      teamId: s.teamId,
      ...(s.enterpriseId !== undefined ? { enterpriseId: s.enterpriseId } : {}),
      apiUrl: s.apiUrl,
      channels: s.channels,
      approvers: s.approvers,
      deployers: s.deployers,
      responders: s.responders,
    };
  });

export type SlackConfig = z.infer<typeof slackSchema>;
