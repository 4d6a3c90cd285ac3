import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig, parseConfig, parseConfigText } from '../../config/load';
import { routerTokens } from '../../router/tokens';
import { ROOT } from '../../testkit/paths';

/**
 * Secrets out of fleetops.yaml: webhook URLs, the GitHub token and the Slack signing secret as
 * `${ENV_VAR}` references or `…File` paths, resolved at load; no error message ever shows a secret.
 */

const VALID_PATH = join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml');
const valid = (): Record<string, any> => parse(readFileSync(VALID_PATH, 'utf8'));
const HOOK = 'https://hooks.example.com/services/T000/B000/s3cr3t-hook-path';
const TOKEN = 'ghp_supersecrettokenvalue0123456789';
const SIGNING = 'slack-signing-secret-0123456789abcdef';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetops-secrets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(doc: unknown, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseConfig(doc, 'test.yaml', { env, baseDir: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

function withGithub(github: Record<string, unknown>): Record<string, any> {
  const c = valid();
  c.incidents.github = { repo: 'acme/ops', ...github };
  return c;
}

describe('secrets in the config', () => {
  test('the PagerDuty routing key: a ${ENV_VAR} reference or routingKeyFile, never a literal, never echoed; its URL https or loopback', () => {
    const KEY = 'R0UT1NGKEYs3cr3t0000000000000042';
    const withPd = (pd: Record<string, unknown>) => {
      const c = valid();
      c.incidents.pagerduty = pd;
      return c;
    };
    const cfg = parseConfig(withPd({ routingKey: '${PD_KEY}' }), 'test.yaml', { env: { PD_KEY: KEY } });
    expect(cfg.incidents.pagerduty).toEqual({ routingKey: KEY, severities: ['sev1', 'sev2'], eventsUrl: 'https://events.pagerduty.com/v2/enqueue' });
    writeFileSync(join(dir, 'pd-key'), `${KEY}\n`);
    expect(parseConfig(withPd({ routingKeyFile: 'pd-key', severities: ['sev1'] }), 'test.yaml', { env: {}, baseDir: dir }).incidents.pagerduty?.routingKey).toBe(KEY);

    const literal = errorOf(withPd({ routingKey: KEY }));
    expect(literal.issues).toEqual([
      { path: 'incidents.pagerduty.routingKey', message: 'must be a ${ENV_VAR} reference (or use routingKeyFile): secrets do not belong in the config file' },
    ]);
    expect(literal.message).not.toContain(KEY);
    expect(errorOf(withPd({ routingKey: '${PD_KEY}' })).issues).toEqual([{ path: 'incidents.pagerduty.routingKey', message: '${PD_KEY} is not set in the environment' }]);
    expect(errorOf(withPd({})).issues[0]?.path).toBe('incidents.pagerduty.routingKey');
    const clear = errorOf(withPd({ routingKey: '${PD_KEY}', eventsUrl: 'http://pd.example.com/v2/enqueue' }), { PD_KEY: KEY });
    expect(clear.issues).toEqual([
      { path: 'incidents.pagerduty.eventsUrl', message: 'must be https (http only to a loopback address): the routing key would travel in clear' },
    ]);
    expect(clear.message).not.toContain(KEY);
  });

  test('webhook URLs, the GitHub token and the Slack signing secret resolve from ${ENV_VAR} references', () => {
    const c = withGithub({ token: '${FLEETOPS_GH}' });
    c.notifications.webhooks = [{ name: 'ops', url: '${OPS_HOOK}', kinds: ['incident'] }, { name: 'plain', url: 'http://127.0.0.1:9999/hooks' }];
    c.slack = { signingSecret: '${SLACK_SIGNING}', teamId: 'T0FLEETOPS' };
    const cfg = parseConfig(c, 'test.yaml', { env: { FLEETOPS_GH: TOKEN, OPS_HOOK: HOOK, SLACK_SIGNING: SIGNING } });
    expect(cfg.notifications.webhooks).toEqual([
      { name: 'ops', url: HOOK, kinds: ['incident'] },
      { name: 'plain', url: 'http://127.0.0.1:9999/hooks' },
    ]);
    expect(cfg.incidents.github).toEqual({ repo: 'acme/ops', postmortemRepo: 'acme/ops', apiUrl: 'https://api.github.com', tokenEnv: 'GITHUB_TOKEN', token: TOKEN });
    expect(cfg.slack).toEqual({ signingSecret: SIGNING, teamId: 'T0FLEETOPS', apiUrl: 'https://slack.com/api/', channels: {}, approvers: {}, deployers: {}, responders: { users: [], groups: [] } });
  });

  test('…File fields read the value from a file relative to the config file, without its trailing newline', () => {
    writeFileSync(join(dir, 'hook.url'), `${HOOK}\n`);
    writeFileSync(join(dir, 'gh.token'), `${TOKEN}\n`);
    writeFileSync(join(dir, 'slack.secret'), SIGNING);
    const c = withGithub({ tokenFile: 'gh.token' });
    c.notifications.webhooks = [{ name: 'ops', urlFile: join(dir, 'hook.url') }];
    c.slack = { signingSecretFile: 'slack.secret', teamId: 'T0FLEETOPS' };
    const file = join(dir, 'fleetops.yaml');
    writeFileSync(file, stringify(c));
    const cfg = loadConfig(file);
    expect(cfg.notifications.webhooks[0].url).toBe(HOOK);
    expect(cfg.incidents.github?.token).toBe(TOKEN);
    expect(cfg.slack?.signingSecret).toBe(SIGNING);
  });

  test.each<[string, (c: Record<string, any>) => void, NodeJS.ProcessEnv, string]>([
    ['an unset variable', (c) => (c.notifications.webhooks[0].url = '${NO_SUCH_HOOK}'), {}, 'notifications.webhooks[0].url: ${NO_SUCH_HOOK} is not set in the environment'],
    ['a variable that is not a URL', (c) => (c.notifications.webhooks[0].url = '${OPS_HOOK}'), { OPS_HOOK: TOKEN }, 'notifications.webhooks[0].url: the value of ${OPS_HOOK} is not an http(s) URL'],
    ['a literal that is not a URL', (c) => (c.notifications.webhooks[0].url = TOKEN), {}, 'notifications.webhooks[0].url: the value is not an http(s) URL'],
    ['both url and urlFile', (c) => (c.notifications.webhooks[0].urlFile = '/x'), {}, 'notifications.webhooks[0].url: set url or urlFile, not both'],
    ['neither url nor urlFile', (c) => delete c.notifications.webhooks[0].url, {}, 'notifications.webhooks[0].url: set url'],
    ['an unreadable urlFile', (c) => { delete c.notifications.webhooks[0].url; c.notifications.webhooks[0].urlFile = 'missing.url'; }, {}, 'notifications.webhooks[0].urlFile: cannot read '],
    ['a literal GitHub token', (c) => (c.incidents.github = { repo: 'acme/ops', token: TOKEN }), {}, 'incidents.github.token: must be a ${ENV_VAR} reference (or use tokenFile)'],
    ['a literal Slack signing secret', (c) => (c.slack = { signingSecret: SIGNING, teamId: 'T0FLEETOPS' }), {}, 'slack.signingSecret: must be a ${ENV_VAR} reference'],
  ])('refuses %s, naming the field and never showing the value', (_name, mutate, env, message) => {
    const c = valid();
    mutate(c);
    const err = errorOf(c, env);
    expect(err.message).toContain(message);
    for (const secret of [HOOK, TOKEN, SIGNING]) expect(err.message).not.toContain(secret);
  });

  test('refuses an http:// GitHub API URL unless it is loopback', () => {
    const err = errorOf(withGithub({ apiUrl: 'http://github.internal.example/api/v3' }));
    expect(err.message).toContain('incidents.github.apiUrl: must be https (http only to a loopback address): the token would travel in clear');
    for (const apiUrl of ['http://127.0.0.1:8080', 'http://localhost:3000/api', 'http://[::1]:8080', 'https://github.internal.example/api/v3']) {
      expect(parseConfig(withGithub({ apiUrl }), 'test.yaml').incidents.github?.apiUrl).toBe(apiUrl);
    }
  });
});

describe('YAML errors', () => {
  test('say where and what, but never print the offending line', () => {
    const text = readFileSync(VALID_PATH, 'utf8').replace(
      /notifications:\n/,
      `notifications:\n  broken: "${HOOK}\n`,
    );
    let message = '';
    try {
      parseConfigText(text, 'x.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^x\.yaml: not valid YAML: .+ at line \d+, column \d+ \([A-Z_]+\)$/);
    expect(message).not.toContain('s3cr3t');
    expect(message).not.toContain('hooks.example.com');

    const dup = `aws: {region: us-east-1}\nnotifications: {webhooks: [{name: a, url: "${HOOK}"}]}\nnotifications: {}\n`;
    expect(() => parseConfigText(dup, 'x.yaml')).toThrow(/x\.yaml: not valid YAML: Map keys must be unique at line 3, column 1 \(DUPLICATE_KEY\)/);
  });

  test('a process given a broken file exits 2 without printing the secret on the broken line', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, `aws:\n  region: us-east-1\nincidents:\n  github: {repo: acme/ops, token: ${TOKEN}\n`);
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', "require('./config/load').loadConfigOrExit()"], {
        cwd: ROOT,
        env: { ...process.env, FLEETOPS_CONFIG: file },
        stdio: 'pipe',
      });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr).toMatch(/broken\.yaml: not valid YAML: .* at line \d+, column \d+/);
    expect(stderr).not.toContain(TOKEN);
  });
});

describe('router tokens (router.tokens)', () => {
  const SECRET = 'release-bot-token-0123456789abcdef';
  const withTokens = (tokens: unknown[]) => ({ ...valid(), router: { tokens } });

  test('a ${ENV_VAR} reference or tokenFile, never a literal, never echoed; named, scoped, and distinct', () => {
    const cfg = parseConfig(withTokens([{ name: 'release-bot', scopes: ['deploy'], token: '${BOT_TOKEN}' }]), 'test.yaml', { env: { BOT_TOKEN: SECRET } });
    expect(cfg.router.tokens).toEqual([{ name: 'release-bot', scopes: ['deploy'], secret: SECRET }]);
    writeFileSync(join(dir, 'oncall-token'), `${SECRET}-oncall\n`);
    expect(parseConfig(withTokens([{ name: 'oncall', scopes: ['deploy', 'force'], tokenFile: 'oncall-token' }]), 'test.yaml', { env: {}, baseDir: dir }).router.tokens[0]?.secret).toBe(`${SECRET}-oncall`);
    expect(parseConfig(valid(), 'test.yaml', { env: {} }).router.tokens).toEqual([]);

    const literal = errorOf(withTokens([{ name: 'release-bot', scopes: ['deploy'], token: SECRET }]));
    expect(literal.issues).toEqual([{ path: 'router.tokens[0].token', message: 'must be a ${ENV_VAR} reference (or use tokenFile): secrets do not belong in the config file' }]);
    expect(literal.message).not.toContain(SECRET);

    expect(errorOf(withTokens([{ name: 'x', scopes: ['deploy'], token: '${SHORT}' }]), { SHORT: 'short' }).issues).toEqual([
      { path: 'router.tokens[0].token', message: 'must be a secret of at least 16 characters' },
    ]);
    expect(errorOf(withTokens([{ name: 'default', scopes: ['deploy'], token: '${T}' }]), { T: SECRET }).issues).toEqual([
      { path: 'router.tokens[0].name', message: '"default" is FLEETOPS_ROUTER_TOKEN\'s name' },
    ]);
    expect(errorOf(withTokens([{ name: 'x', scopes: ['root'], token: '${T}' }]), { T: SECRET }).issues[0]?.path).toBe('router.tokens[0].scopes[0]');
    expect(errorOf(withTokens([{ name: 'x', scopes: [], token: '${T}' }]), { T: SECRET }).issues[0]?.path).toBe('router.tokens[0].scopes');
    const twice = errorOf(
      withTokens([
        { name: 'a', scopes: ['deploy'], token: '${T}' },
        { name: 'a', scopes: ['incident'], token: '${U}' },
        { name: 'b', scopes: ['incident'], token: '${T}' },
      ]),
      { T: SECRET, U: `${SECRET}-u` },
    );
    expect(twice.issues).toEqual([
      { path: 'router.tokens[1].name', message: 'tokens[0] is named "a" too' },
      { path: 'router.tokens[2]', message: 'has the same value as tokens[0]: each token needs its own' },
    ]);
    expect(twice.message).not.toContain(SECRET);
  });

  test("the router refuses a config token with FLEETOPS_ROUTER_TOKEN's value, and names the default token first", () => {
    const cfg = parseConfig(withTokens([{ name: 'release-bot', scopes: ['deploy'], token: '${BOT_TOKEN}' }]), 'test.yaml', { env: { BOT_TOKEN: SECRET } });
    expect(routerTokens(SECRET, cfg)).toEqual({ ok: false, error: 'router.tokens: "release-bot" has the same value as FLEETOPS_ROUTER_TOKEN: each token needs its own' });
    expect(routerTokens('the-default-token-0123456789', cfg)).toEqual({
      ok: true,
      tokens: [
        { name: 'default', secret: 'the-default-token-0123456789', scopes: ['deploy', 'incident'] },
        { name: 'release-bot', secret: SECRET, scopes: ['deploy'] },
      ],
    });
  });
});
