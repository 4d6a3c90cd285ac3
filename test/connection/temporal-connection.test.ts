import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import {
  connectClient,
  connectNative,
  describeTarget,
  resolveTemporalTarget,
  TemporalConnectError,
  TemporalSettingsError,
} from '../../common/temporal-connection';
import { cli, operatorFixtureBundle, parseJson } from '../cli/helpers';
import { connectDevServer, uniqueTaskQueue } from '../harness/temporal';
import { makeTestCertificates, type TestCertificates } from '../harness/test-certs';
import { startTlsProxy, type TlsProxy } from '../harness/tls-proxy';
import { createTestWorld } from '../../testkit/router/fixtures';
import { startTestRouter } from '../../testkit/router/router-harness';
import { lazyClientConnection } from '../../common/temporal-connection';
import { createWorker } from '../harness/workers';

/**
 * The one Temporal connection module (worker, router, CLI, setup) against the dev server behind a
 * TLS-terminating proxy: mTLS with a client certificate the proxy requires, a certificate valid only
 * for a name other than the address, and an API key the proxy checks in the authorization header.
 */

const API_KEY = 'tcld-test-key-0123456789';
let dev: TestWorkflowEnvironment;
let certs: TestCertificates;
let mtls: TlsProxy;
let keyed: TlsProxy;
let dir: string;

beforeAll(async () => {
  dev = await connectDevServer();
  certs = makeTestCertificates();
  const upstream = process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS!;
  const server = { cert: certs.pem(certs.serverCert), key: certs.pem(certs.serverKey) };
  mtls = await startTlsProxy({ upstream, ...server, clientCa: certs.pem(certs.clientCa) });
  keyed = await startTlsProxy({ upstream, ...server, apiKey: API_KEY });
  dir = mkdtempSync(join(tmpdir(), 'fleetops-conn-'));
});

afterAll(async () => {
  await mtls?.stop();
  await keyed?.stop();
  certs?.remove();
  rmSync(dir, { recursive: true, force: true });
  await dev?.teardown();
});

/** Env for the mTLS proxy, as an operator would set it. */
function mtlsEnv(over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    TEMPORAL_ADDRESS: mtls.address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.serverCa,
    TEMPORAL_TLS_SERVER_NAME: certs.serverName,
    TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
    ...over,
  };
}

function keyEnv(over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    TEMPORAL_ADDRESS: keyed.address,
    TEMPORAL_API_KEY: API_KEY,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.serverCa,
    TEMPORAL_TLS_SERVER_NAME: certs.serverName,
    ...over,
  };
}

function without(env: NodeJS.ProcessEnv, ...names: string[]): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const n of names) delete out[n];
  return out;
}

describe('resolving the target', () => {
  test('precedence: flags, FLEETOPS_TEMPORAL_*, TEMPORAL_*, the TOML profile, fleetops.yaml, defaults', () => {
    const toml = join(dir, 'precedence.toml');
    writeFileSync(toml, '[profile.default]\naddress = "profile.example:7233"\nnamespace = "profile-ns"\n');
    const yaml = { address: 'yaml.example:7233', namespace: 'yaml-ns', source: 'fleetops.yaml temporal.*' };
    const resolve = (env: NodeJS.ProcessEnv, flags?: { address?: string; namespace?: string }) => {
      const t = resolveTemporalTarget({ env, fallbacks: [yaml], ...(flags ? { overrides: { ...flags, source: 'flags' } } : {}) });
      return [t.address, t.sources.address, t.namespace, t.sources.namespace];
    };
    const all = {
      TEMPORAL_CONFIG_FILE: toml,
      FLEETOPS_TEMPORAL_ADDRESS: 'fleetops.example:7233',
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'temporal-ns',
    };
    expect(resolve(all, { address: 'flag.example:7233' })).toEqual(['flag.example:7233', 'flags', 'temporal-ns', 'TEMPORAL_NAMESPACE']);
    expect(resolve(all)).toEqual(['fleetops.example:7233', 'FLEETOPS_TEMPORAL_ADDRESS', 'temporal-ns', 'TEMPORAL_NAMESPACE']);
    expect(resolve(without(all, 'FLEETOPS_TEMPORAL_ADDRESS'))[0]).toBe('temporal.example:7233');
    expect(resolve({ TEMPORAL_CONFIG_FILE: toml })).toEqual([
      'profile.example:7233',
      `profile "default" in ${toml}`,
      'profile-ns',
      `profile "default" in ${toml}`,
    ]);
    expect(resolve({ TEMPORAL_CONFIG_FILE: join(dir, 'absent.toml') })).toEqual(['yaml.example:7233', 'fleetops.yaml temporal.*', 'yaml-ns', 'fleetops.yaml temporal.*']);
    expect(resolveTemporalTarget({ env: {} })).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', sources: { address: 'defaults' } });
  });

  test('TEMPORAL_PROFILE picks a profile; a missing profile, a half client certificate or an unreadable file is refused naming the setting', () => {
    const toml = join(dir, 'profiles.toml');
    writeFileSync(toml, '[profile.default]\naddress = "a.example:7233"\n[profile.cloud]\naddress = "ns.acct.tmprl.cloud:7233"\nnamespace = "ns.acct"\napi_key = "k"\n');
    const cloud = resolveTemporalTarget({ env: { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' } });
    expect(cloud).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', connection: { apiKey: 'k', tls: true } });
    expect(cloud.settings.apiKey).toBe(`api_key in profile "cloud" in ${toml}`);

    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        resolveTemporalTarget({ env });
      } catch (err) {
        expect(err).toBeInstanceOf(TemporalSettingsError);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' })).toMatch(/TEMPORAL_PROFILE=prod.*Profile 'prod' not found/);
    const broken = join(dir, 'broken.toml');
    writeFileSync(broken, '[profile.default]\napi_key = "tcld-secret-value\n');
    const tomlError = refused({ TEMPORAL_CONFIG_FILE: broken });
    expect(tomlError).toMatch(/^Temporal client configuration \(TEMPORAL_CONFIG_FILE, file .*broken\.toml\): Invalid TOML document: .* \(line 2, column \d+\)$/);
    expect(tomlError).not.toContain('tcld-secret-value');
    expect(refused({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert })).toMatch(
      /TEMPORAL_TLS_CLIENT_CERT_PATH=.* is set but TEMPORAL_TLS_CLIENT_KEY_PATH .* is not/,
    );
    expect(refused({ TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'nope.crt'), TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey })).toBe(
      `cannot read the file named by TEMPORAL_TLS_CLIENT_CERT_PATH=${join(dir, 'nope.crt')}: ENOENT`,
    );
    expect(refused({ FLEETOPS_TEMPORAL_ADDRESS: 'https://x' })).toBe('invalid Temporal address "https://x" (from FLEETOPS_TEMPORAL_ADDRESS): expected host:port');
  });

  test('what is logged about a target carries neither the API key nor key material', () => {
    const t = resolveTemporalTarget({ env: { ...keyEnv(), TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey } });
    const logged = JSON.stringify(describeTarget(t));
    expect(logged).not.toContain(API_KEY);
    expect(logged).not.toContain('PRIVATE KEY');
    expect(describeTarget(t)).toMatchObject({ tls: true, mtls: true, serverName: certs.serverName, apiKey: 'set (TEMPORAL_API_KEY)' });
  });
});

describe('mTLS through the proxy', () => {
  test('a worker polls and the CLI queries through the proxy with the client certificate', async () => {
    const target = resolveTemporalTarget({ env: mtlsEnv() });
    const taskQueue = uniqueTaskQueue('mtls');
    const native = await connectNative(target);
    const worker = await createWorker({ connection: native, taskQueue, workflowBundle: await operatorFixtureBundle() });
    const run = worker.run();
    const workflowId = `mtls-${taskQueue}`;
    try {
      const client = await connectClient(target);
      await new (await import('@temporalio/client')).Client({ connection: client }).workflow.start('operatorFixture', {
        taskQueue,
        workflowId,
        args: [{ phase: 'waiting', summary: 'behind mTLS' }],
      });
      await client.close();
      // The query is answered by the worker polling through the proxy.
      const status = await cli(['status', workflowId, '--json'], mtlsEnv());
      expect(status.stderr).toBe('');
      expect(parseJson(status.stdout)).toMatchObject({ workflowId, status: { phase: 'waiting', summary: 'behind mTLS' } });
      expect(mtls.calls.some((c) => c.path.endsWith('/PollWorkflowTaskQueue') && c.clientCertSubject === 'client')).toBe(true);
      expect(mtls.calls.some((c) => c.path.endsWith('/QueryWorkflow'))).toBe(true);
    } finally {
      await dev.client.workflow.getHandle(workflowId).terminate('test done').catch(() => undefined);
      worker.shutdown();
      await run;
      await native.close();
    }
  });

  test('fleetops setup works over the same connection', async () => {
    const r = await cli(['setup', '--json'], mtlsEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseJson(r.stdout)).toMatchObject({ address: mtls.address, namespace: 'default', added: [], alreadyRegistered: expect.arrayContaining(['FleetopsKind']) });
  });

  test('the router starts workflows through the proxy', async () => {
    const target = resolveTemporalTarget({ env: mtlsEnv() });
    const connection = lazyClientConnection(target);
    const world = createTestWorld();
    const router = await startTestRouter(world, connection, { routeOptions: { dryRun: true } });
    try {
      expect((await router.get('/readyz')).status).toBe(200);
      const event = world.event('spot-interruption-warning');
      const res = await router.post(event);
      expect(res).toMatchObject({ status: 202, body: { results: [{ action: 'started' }] } });
      const workflowId = res.body.results[0].workflowId as string;
      expect((await dev.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
      expect(mtls.calls.some((c) => c.path.endsWith('/SignalWithStartWorkflowExecution'))).toBe(true);
      await dev.client.workflow.getHandle(workflowId).terminate('test done');
    } finally {
      await router.stop();
      await connection.close();
    }
  });

  // Each case: env vars changed from the working mTLS settings (null removes one).
  test.each<[string, Record<string, string | null>, RegExp]>([
    ['no client certificate', { TEMPORAL_TLS_CLIENT_CERT_PATH: null, TEMPORAL_TLS_CLIENT_KEY_PATH: null }, /requires a client certificate \(mTLS\): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/],
    ['a certificate from a CA the server does not trust', { TEMPORAL_TLS_CLIENT_CERT_PATH: 'rogue.crt', TEMPORAL_TLS_CLIENT_KEY_PATH: 'rogue.key' }, /refused the client certificate from TEMPORAL_TLS_CLIENT_CERT_PATH=\S*rogue\.crt/],
    ['no server name override', { TEMPORAL_TLS_SERVER_NAME: null }, /certificate is not valid for "127\.0\.0\.1": set TEMPORAL_TLS_SERVER_NAME/],
    ['no server CA', { TEMPORAL_TLS_SERVER_CA_CERT_PATH: null }, /not signed by a CA this machine trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH/],
  ])('%s fails with a message naming the setting (CLI and worker)', async (_name, changes, message) => {
    const env = mtlsEnv();
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete env[k];
      else env[k] = join(certs.dir, v);
    }
    const r = await cli(['setup', '--timeout', '2'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`Temporal at ${mtls.address} (address from TEMPORAL_ADDRESS)`);
    const worker = await connectNative(resolveTemporalTarget({ env })).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(worker).toBeInstanceOf(TemporalConnectError);
    expect((worker as Error).message).toMatch(message);
  });
});

describe('API key through the proxy', () => {
  test('the key goes in the authorization header; setup and the worker connect', async () => {
    const r = await cli(['setup', '--json'], keyEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(keyed.calls.length).toBeGreaterThan(0);
    expect(keyed.calls.every((c) => c.authorization === `Bearer ${API_KEY}`)).toBe(true);
    const native = await connectNative(resolveTemporalTarget({ env: keyEnv() }));
    await native.close();
  });

  test('a key from a TOML profile chosen by TEMPORAL_PROFILE works the same', async () => {
    const toml = join(dir, 'cloud.toml');
    writeFileSync(
      toml,
      `[profile.cloud]\naddress = "${keyed.address}"\napi_key = "${API_KEY}"\n[profile.cloud.tls]\nserver_ca_cert_path = "${certs.serverCa}"\nserver_name = "${certs.serverName}"\n`,
    );
    const r = await cli(['setup', '--json'], { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    expect(r.stderr).toBe('');
    expect(parseJson(r.stdout)).toMatchObject({ address: keyed.address });
  });

  test('a wrong or missing key fails naming TEMPORAL_API_KEY, and never prints the key', async () => {
    const wrong = await cli(['setup'], keyEnv({ TEMPORAL_API_KEY: 'wrong-key-value' }));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the credentials: the API key from TEMPORAL_API_KEY was not accepted/);
    expect(wrong.stderr).not.toContain('wrong-key-value');
    const missing = await cli(['setup'], without(keyEnv(), 'TEMPORAL_API_KEY'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/refused the credentials: set TEMPORAL_API_KEY/);
  });
});
