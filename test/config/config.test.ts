import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig, parseConfig, parseConfigText } from '../../config/load';
import { ROOT } from '../../testkit/paths';
import { clustersAt, placementOf } from '../../config/placement';

const VALID_PATH = join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml');
const valid = (): Record<string, any> => parse(readFileSync(VALID_PATH, 'utf8'));

function errorOf(doc: unknown): ConfigError {
  try {
    parseConfig(doc, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('config', () => {
  it('accepts the valid fixture and fills defaults', () => {
    const cfg = loadConfig(VALID_PATH);
    expect(cfg.clusters.demo.pools.map((p) => p.kind)).toEqual(['ec2-fleet', 'spot-fleet', 'asg']);
    expect(cfg.clusters.demo.capacity.unavailableTtlSeconds).toBe(180);
    expect(cfg.clusters.demo.drain.rebalanceDeadlineSeconds).toBe(600);
    expect(cfg.aws.sdkMaxAttempts).toBe(1);
    expect(cfg.services[0].canary.gateTimeoutAction).toBe('rollback');
  });

  it('accepts the demo config the local stack ships', () => {
    const cfg = loadConfig(join(ROOT, 'config', 'demo.fleetops.yaml'));
    expect(Object.keys(cfg.clusters)).toContain('demo');
  });

  // Each broken variant must be rejected with the path of the bad field in the message.
  const broken: [string, string, (c: Record<string, any>) => unknown][] = [
    ['missing aws section', 'aws', (c) => { delete c.aws; return c; }],
    ['bad region', 'aws.region', (c) => { c.aws.region = 'mars-1'; return c; }],
    ['endpoint not a URL', 'aws.endpoint', (c) => { c.aws.endpoint = 'localhost:4566'; return c; }],
    ['unknown pool kind', 'clusters.demo.pools[1].kind', (c) => { c.clusters.demo.pools[1].kind = 'spot-block'; return c; }],
    ['empty pool list', 'clusters.demo.pools', (c) => { c.clusters.demo.pools = []; return c; }],
    ['bad instance type', 'clusters.demo.pools[0].overrides[0].instanceType', (c) => { c.clusters.demo.pools[0].overrides[0].instanceType = 'large'; return c; }],
    ['bad spot fleet id', 'clusters.demo.pools[1].spotFleetRequestId', (c) => { c.clusters.demo.pools[1].spotFleetRequestId = 'fleet-1'; return c; }],
    ['duplicate pool names', 'clusters.demo.pools[2].name', (c) => { c.clusters.demo.pools[2].name = 'spot-ec2-fleet'; return c; }],
    ['min above max', 'clusters.demo.capacity.minUnits', (c) => { c.clusters.demo.capacity.minUnits = 50; return c; }],
    ['service on unknown cluster', 'services[0].cluster', (c) => { c.services[0].cluster = 'prod'; return c; }],
    ['weight over 100', 'services[0].canary.steps[0].weight', (c) => { c.services[0].canary.steps[0].weight = 150; return c; }],
    ['incident route without severity', 'alarmRoutes[2].severity', (c) => { delete c.alarmRoutes[2].severity; return c; }],
    ['scale route without cluster', 'alarmRoutes[0].cluster', (c) => { delete c.alarmRoutes[0].cluster; return c; }],
    ['unknown top-level key', '(root)', (c) => { c.clustrs = {}; return c; }],
    ['missing severity', 'incidents.severities.sev3', (c) => { delete c.incidents.severities.sev3; return c; }],
    ['webhook url not a URL', 'notifications.webhooks[0].url', (c) => { c.notifications.webhooks[0].url = 'not a url'; return c; }],
    ['negative cooldown', 'clusters.demo.capacity.cooldownSeconds', (c) => { c.clusters.demo.capacity.cooldownSeconds = -5; return c; }],
    ['cluster role without the worker account', 'aws.account', (c) => { c.clusters.demo.roleArn = 'arn:aws:iam::222222222222:role/fleetops-member'; return c; }],
    ['cluster role not a role ARN', 'clusters.demo.roleArn', (c) => { c.aws.account = '111111111111'; c.clusters.demo.roleArn = 'arn:aws:iam::222222222222:user/bob'; return c; }],
    ['external id without a role', 'clusters.demo.externalId', (c) => { c.clusters.demo.externalId = 'ext-1'; return c; }],
    ['external id too short', 'clusters.demo.externalId', (c) => { c.aws.account = '111111111111'; c.clusters.demo.roleArn = 'arn:aws:iam::222222222222:role/m'; c.clusters.demo.externalId = 'x'; return c; }],
    ['bad cluster region', 'clusters.demo.region', (c) => { c.clusters.demo.region = 'eu-west'; return c; }],
    ['bad worker account', 'aws.account', (c) => { c.aws.account = '1234'; return c; }],
    ['bad ECS cluster name', 'clusters.demo.ecsClusterName', (c) => { c.clusters.demo.ecsClusterName = 'prod cluster'; return c; }],
  ];

  it('places each cluster: its region, and the account of its role or the worker', () => {
    const c = valid();
    c.aws.account = '111111111111';
    c.clusters.client = { ...structuredClone(c.clusters.demo), region: 'eu-west-1', roleArn: 'arn:aws:iam::222222222222:role/ops/fleetops-member', externalId: 'ext-1' };
    const cfg = parseConfig(c, 'test.yaml');
    expect(placementOf(cfg, 'demo')).toEqual({ account: '111111111111', region: cfg.aws.region, member: false });
    expect(placementOf(cfg, 'client')).toEqual({ account: '222222222222', region: 'eu-west-1', roleArn: 'arn:aws:iam::222222222222:role/ops/fleetops-member', externalId: 'ext-1', member: true });
    expect(clustersAt(cfg, { account: '222222222222', region: 'eu-west-1' })).toEqual(['client']);
    expect(clustersAt(cfg, { account: '222222222222', region: cfg.aws.region })).toEqual([]);
    expect(clustersAt(cfg, { account: '333333333333', region: cfg.aws.region })).toEqual([]);
  });

  it('does not check accounts in a single-account config without aws.account', () => {
    const cfg = parseConfig(valid(), 'test.yaml');
    expect(clustersAt(cfg, { account: '999999999999', region: cfg.aws.region })).toEqual(['demo']);
  });

  it.each(broken)('rejects %s, naming %s', (_name, path, mutate) => {
    const err = errorOf(mutate(valid()));
    expect(err.issues.map((i) => i.path)).toContain(path);
    expect(err.message).toContain(path);
  });

  it('rejects YAML that does not parse, and an empty file', () => {
    expect(() => parseConfigText('aws: [unclosed', 'x.yaml')).toThrow(/x\.yaml: not valid YAML/);
    expect(() => parseConfigText('', 'x.yaml')).toThrow(/x\.yaml: the file is empty/);
    expect(() => parseConfigText('aws: {region: us-east-1}\naws: {region: us-east-2}', 'x.yaml')).toThrow(/not valid YAML/);
  });

  it('names a missing file and how to point at the config', () => {
    expect(() => loadConfig('/nonexistent/fleetops.yaml')).toThrow(/cannot read config \(ENOENT\); set FLEETOPS_CONFIG/);
  });

  it('makes a process exit 2 with the field path on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetops-config-'));
    const file = join(dir, 'fleetops.yaml');
    const c = valid();
    c.aws.region = 'nowhere';
    writeFileSync(file, stringify(c));
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
    expect(stderr).toContain('aws.region: must be an AWS region');
  });
});
