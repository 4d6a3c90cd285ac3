import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The stack's secrets, fresh at every start: the router's token (FLEETOPS_ROUTER_TOKEN, else
 * generated), a second router token with the aws-events scope only (AWS-source envelopes over HTTP:
 * replays, tests) and the Slack app's signing secret and bot token. Those three are in files beside
 * the config (0600), which names them (tokenFile, signingSecretFile, botTokenFile).
 */
export interface LocalSecrets {
  routerToken: string;
  awsEventsToken: string;
  awsEventsTokenFile: string;
  slack: { signingSecret: string; botToken: string };
  slackFiles: { signingSecretFile: string; botTokenFile: string };
}

export function localSecrets(runDir: string, routerToken: string | undefined): LocalSecrets {
  return {
    routerToken: routerToken ?? randomBytes(24).toString('base64url'),
    awsEventsToken: randomBytes(24).toString('base64url'),
    awsEventsTokenFile: join(runDir, 'router-aws-events-token'),
    slack: { signingSecret: randomBytes(24).toString('hex'), botToken: `xoxb-local-${randomBytes(16).toString('hex')}` },
    slackFiles: { signingSecretFile: join(runDir, 'slack-signing-secret'), botTokenFile: join(runDir, 'slack-bot-token') },
  };
}

/** Writes the secrets the config names by file. */
export function writeSecretFiles(secrets: LocalSecrets): void {
  writeFileSync(secrets.slackFiles.signingSecretFile, secrets.slack.signingSecret, { mode: 0o600 });
  writeFileSync(secrets.slackFiles.botTokenFile, secrets.slack.botToken, { mode: 0o600 });
  writeFileSync(secrets.awsEventsTokenFile, secrets.awsEventsToken, { mode: 0o600 });
}
