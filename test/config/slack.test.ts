import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../config/load';
import { ROOT } from '../../testkit/paths';

/**
 * The `slack` section: the signing secret and bot token follow the secret rules (a `${ENV_VAR}`
 * reference or a file, never a literal; FLEETOPS_SLACK_SIGNING_SECRET / FLEETOPS_SLACK_BOT_TOKEN when
 * the section names neither), the Web API URL carries the token only over https (or to loopback),
 * the workspace is named (team id, required), and approvers and deployers name configured services by
 * Slack user or group id.
 */

const valid = (): Record<string, any> => parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
const SECRET = 'slack-signing-secret-0123456789abcdef';
const TOKEN = 'xoxb-0123456789-abcdefghijklmnop';

function withSlack(slack: Record<string, unknown>): Record<string, any> {
  const c = valid();
  c.slack = { teamId: 'T0FLEETOPS', ...slack };
  return c;
}

function errorOf(doc: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(doc, 'test.yaml', { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('slack config', () => {
  test('secrets from the documented variables when the section names neither; channels, approvers and the API URL as given', () => {
    const cfg = parseConfig(
      withSlack({
        apiUrl: 'http://127.0.0.1:9999/api/',
        channels: { deploys: 'C0DEPLOYS', incidents: 'C0INCIDENT' },
        approvers: { 'demo/web': { users: ['U0BOB0001'], groups: ['S0RELEASE'] } },
        deployers: { 'demo/web': { users: ['U0ALICE01'] } },
        responders: { groups: ['S0ONCALL'] },
        enterpriseId: 'E0ACME',
      }),
      'test.yaml',
      { env: { FLEETOPS_SLACK_SIGNING_SECRET: SECRET, FLEETOPS_SLACK_BOT_TOKEN: TOKEN } },
    );
    expect(cfg.slack).toEqual({
      signingSecret: SECRET,
      botToken: TOKEN,
      teamId: 'T0FLEETOPS',
      enterpriseId: 'E0ACME',
      apiUrl: 'http://127.0.0.1:9999/api/',
      channels: { deploys: 'C0DEPLOYS', incidents: 'C0INCIDENT' },
      approvers: { 'demo/web': { users: ['U0BOB0001'], groups: ['S0RELEASE'] } },
      deployers: { 'demo/web': { users: ['U0ALICE01'], groups: [] } },
      responders: { users: [], groups: ['S0ONCALL'] },
    });
  });

  test.each<[string, Record<string, unknown>, NodeJS.ProcessEnv, string]>([
    ['no signing secret anywhere', {}, {}, 'slack.signingSecret: ${FLEETOPS_SLACK_SIGNING_SECRET} is not set in the environment'],
    ['a literal bot token', { botToken: TOKEN }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.botToken: must be a ${ENV_VAR} reference (or use botTokenFile)'],
    ['channels without a bot token', { channels: { deploys: 'C0DEPLOYS' } }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.botToken: channels are set: posting to them needs botToken'],
    ['the token over plain http to another host', { apiUrl: 'http://slack.internal.example/api/' }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.apiUrl: must be https (http only to a loopback address)'],
    ['a channel name instead of its id', { channels: { deploys: '#deploys' } }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET, FLEETOPS_SLACK_BOT_TOKEN: TOKEN }, 'slack.channels.deploys: must be a Slack channel id'],
    ['an approver by name', { approvers: { 'demo/web': { users: ['alice'] } } }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.approvers.demo/web.users[0]: must be a Slack user id'],
    ['approvers of a service the config does not have', { approvers: { 'demo/api': { users: ['U0BOB0001'] } } }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.approvers.demo/api: no service "api" in cluster "demo"'],
    ['no workspace', { teamId: undefined }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.teamId'],
    ['a workspace by name instead of its id', { teamId: 'acme' }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.teamId: must be a Slack workspace (team) id'],
    ['deployers of a service the config does not have', { deployers: { 'demo/api': { users: ['U0ALICE01'] } } }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.deployers.demo/api: no service "api" in cluster "demo"'],
    ['a deployer entry with nobody in it', { deployers: { 'demo/web': { users: [] } } }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.deployers.demo/web: name at least one user or group'],
    ['a responder by name', { responders: { users: ['bob'] } }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.responders.users[0]: must be a Slack user id'],
    ['an approver entry with nobody in it', { approvers: { 'demo/web': { users: [], groups: [] } } }, { FLEETOPS_SLACK_SIGNING_SECRET: SECRET }, 'slack.approvers.demo/web: name at least one user or group'],
  ])('refuses %s, naming the field and never the secret', (_name, slack, env, message) => {
    const text = errorOf(withSlack(slack), env);
    expect(text).toContain(message);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
  });
});
