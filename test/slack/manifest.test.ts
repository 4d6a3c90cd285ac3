import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SLACK_EVENTS_PATH } from '../../router/slack/app';
import { ROOT } from '../../testkit/paths';

/**
 * The Slack app manifest (deploy/slack/manifest.yaml) kept in step with the code: every Web API
 * method the code calls has its scope (https://docs.slack.dev/reference/methods/<method>, "Scopes"),
 * every listener its subscription, and every request URL is the router's Slack endpoint.
 */

const manifest = parse(readFileSync(join(ROOT, 'deploy', 'slack', 'manifest.yaml'), 'utf8')) as Record<string, any>;
const code = ['activities/chat', 'router/slack']
  .flatMap((dir) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(ROOT, dir, f), 'utf8')))
  .join('\n');

/** Web API method → the bot scopes it needs (one of them, for a method that reads public or private channels). */
const SCOPES: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'usergroups.users.list': ['usergroups:read'],
  'conversations.replies': ['channels:history', 'groups:history', 'metadata.message:read'],
};

test('every Web API method the code calls is known here and its scopes are in the manifest', () => {
  const called = [...code.matchAll(/\.(chat|usergroups\.users|conversations)\.(\w+)\(/g)].map((m) => `${m[1]}.${m[2]}`);
  expect(called.length).toBeGreaterThan(4);
  const bot: string[] = manifest.oauth_config.scopes.bot;
  for (const method of new Set(called)) {
    expect({ method, known: method in SCOPES }).toEqual({ method, known: true });
    for (const scope of SCOPES[method]!) expect({ method, scope, inManifest: bot.includes(scope) }).toEqual({ method, scope, inManifest: true });
  }
  // Nothing granted that the code does not use.
  const needed = new Set([...new Set(called)].flatMap((m) => SCOPES[m]!).concat('commands', 'app_mentions:read'));
  expect(bot.filter((s) => !needed.has(s))).toEqual([]);
});

test('the slash command, the events the app listens to and interactivity all point at the router', () => {
  expect(code).toContain("app.command('/fleetops'");
  expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/fleetops']);
  expect(code).toContain("app.event('app_mention'");
  expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_mention']);
  expect(manifest.settings.interactivity.is_enabled).toBe(true);
  const urls = [manifest.features.slash_commands[0].url, manifest.settings.event_subscriptions.request_url, manifest.settings.interactivity.request_url];
  for (const url of urls) expect(new URL(url).pathname).toBe(SLACK_EVENTS_PATH);
  expect(manifest.features.slash_commands[0].should_escape).toBe(true);
});
