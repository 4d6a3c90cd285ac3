import { isAbsolute, join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions as TlsSocketOptions } from 'node:tls';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { NativeConnection, NativeConnectionOptions } from '@temporalio/worker';

/**
 * Which Temporal a fleetops process talks to, and how: one module for the worker, the router, the CLI
 * and `fleetops setup` (docs/contract.md, Connecting to Temporal).
 *
 * Precedence, first match wins (docs/operating.md, "Connecting to Temporal", says the same):
 *   address and namespace
 *     1. the CLI's --address / --namespace flags (CLI only);
 *     2. FLEETOPS_TEMPORAL_ADDRESS / FLEETOPS_TEMPORAL_NAMESPACE;
 *     3. Temporal's own client configuration, resolved by @temporalio/envconfig with Temporal's rules:
 *        TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, else the profile (TEMPORAL_PROFILE, default `default`)
 *        in the TOML file (TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml);
 *     4. `temporal.address` / `temporal.namespace` in fleetops.yaml (the CLI then .run/stack.json);
 *     5. 127.0.0.1:7233, namespace `default`.
 *   TLS, API key and gRPC metadata come from Temporal's configuration only (3.): TEMPORAL_TLS,
 *   TEMPORAL_TLS_CLIENT_CERT_PATH|_DATA, TEMPORAL_TLS_CLIENT_KEY_PATH|_DATA,
 *   TEMPORAL_TLS_SERVER_CA_CERT_PATH|_DATA, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY,
 *   TEMPORAL_GRPC_META_*, each over the profile's `tls.*`, `api_key`, `grpc_meta`. An API key turns
 *   TLS on (Temporal Cloud); TEMPORAL_TLS=false turns it off.
 *
 * The API key and key material are never logged: describeTarget() is what may be logged.
 */

/** Settings that cannot be used: the message names the setting (env var or profile key) at fault. */
export class TemporalSettingsError extends Error {
  override readonly name = 'TemporalSettingsError';
}

/** A connection attempt that failed; the message says why in terms of the settings that were used. */
export class TemporalConnectError extends Error {
  override readonly name = 'TemporalConnectError';
}

export interface TemporalLayer {
  address?: string;
  namespace?: string;
  /** Shown in messages: `--address`, `fleetops.yaml temporal.*`, `local stack .run/stack.json`. */
  source: string;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Above everything else (the CLI's flags). */
  overrides?: TemporalLayer;
  /** Below Temporal's configuration, in order (fleetops.yaml, then the CLI's .run/stack.json). */
  fallbacks?: (TemporalLayer | undefined)[];
}

type TlsField = 'clientCert' | 'clientKey' | 'serverCa' | 'serverName' | 'tls' | 'apiKey';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Where the address and the namespace came from. */
  sources: { address: string; namespace: string };
  /** For the SDK's connections; holds secrets: never log it (use describeTarget). */
  connection: { address: string; tls?: TLSConfig | boolean; apiKey?: string; metadata?: Record<string, string> };
  /** The setting each TLS/auth value came from (`TEMPORAL_TLS_CLIENT_CERT_PATH=/etc/...`, `api_key in profile "prod"`). */
  settings: Partial<Record<TlsField, string>>;
}

const DEFAULTS = { address: '127.0.0.1:7233', namespace: 'default' } as const;
const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

const ENV_NAMES: Record<Exclude<TlsField, 'tls'>, { path?: string; data?: string; value?: string }> = {
  clientCert: { path: 'TEMPORAL_TLS_CLIENT_CERT_PATH', data: 'TEMPORAL_TLS_CLIENT_CERT_DATA' },
  clientKey: { path: 'TEMPORAL_TLS_CLIENT_KEY_PATH', data: 'TEMPORAL_TLS_CLIENT_KEY_DATA' },
  serverCa: { path: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', data: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA' },
  serverName: { value: 'TEMPORAL_TLS_SERVER_NAME' },
  apiKey: { value: 'TEMPORAL_API_KEY' },
};
const PROFILE_KEYS: Record<Exclude<TlsField, 'tls'>, { path?: string; data?: string; value?: string }> = {
  clientCert: { path: 'tls.client_cert_path', data: 'tls.client_cert_data' },
  clientKey: { path: 'tls.client_key_path', data: 'tls.client_key_data' },
  serverCa: { path: 'tls.server_ca_cert_path', data: 'tls.server_ca_cert_data' },
  serverName: { value: 'tls.server_name' },
  apiKey: { value: 'api_key' },
};

/** The TOML file envconfig reads, for messages (the same rule as @temporalio/envconfig on Linux/macOS). */
export function temporalConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env.TEMPORAL_CONFIG_FILE) return env.TEMPORAL_CONFIG_FILE;
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : env.HOME ? join(env.HOME, '.config') : undefined;
  return base ? join(base, 'temporalio', 'temporal.toml') : undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Only string entries: envconfig's overrideEnvVars is a plain string map. */
function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

function loadProfile(env: NodeJS.ProcessEnv): { profile: ClientConfigProfile; label: string } {
  const file = temporalConfigFile(env);
  const name = nonEmpty(env.TEMPORAL_PROFILE) ?? 'default';
  const label = `profile "${name}" in ${file ?? 'the Temporal config file'}`;
  try {
    return { profile: loadClientConfigProfile({ overrideEnvVars: stringEnv(env) }), label };
  } catch (err) {
    // A TOML syntax error quotes the file around the bad line, and that line may hold api_key: only
    // its first line (what is wrong) and the position are kept.
    const e = err as Error & { line?: number; column?: number };
    const first = (e instanceof Error ? e.message : String(err)).split('\n')[0];
    const why = typeof e.line === 'number' ? `${first} (line ${e.line}, column ${e.column ?? 0})` : first;
    const which = env.TEMPORAL_PROFILE ? `TEMPORAL_PROFILE=${env.TEMPORAL_PROFILE}` : (env.TEMPORAL_CONFIG_FILE ? 'TEMPORAL_CONFIG_FILE' : 'the Temporal config file');
    throw new TemporalSettingsError(`Temporal client configuration (${which}, file ${file ?? 'none'}): ${why}`);
  }
}

/** Which setting gave a TLS/auth value: the env var when it is set, else the profile's key. */
function settingOf(field: Exclude<TlsField, 'tls'>, env: NodeJS.ProcessEnv, profileLabel: string, present: boolean): string | undefined {
  if (!present) return undefined;
  const e = ENV_NAMES[field];
  for (const name of [e.path, e.data, e.value]) {
    if (name && env[name] !== undefined) return name.endsWith('_PATH') ? `${name}=${env[name]}` : name;
  }
  const p = PROFILE_KEYS[field];
  return `${p.path ?? p.value ?? p.data} in ${profileLabel}`;
}

/**
 * Resolves the target by the precedence above. Reads the profile file and the certificate files
 * (once, here), so a missing file fails at start naming its setting.
 */
export function resolveTemporalTarget(opts: ResolveOptions = {}): TemporalTarget {
  const env = opts.env ?? process.env;
  const { profile, label } = loadProfile(env);

  type Candidate = { value: string | undefined; source: string };
  const candidates = (key: 'address' | 'namespace'): Candidate[] => {
    const envName = key === 'address' ? 'ADDRESS' : 'NAMESPACE';
    return [
      ...(opts.overrides ? [{ value: opts.overrides[key], source: opts.overrides.source }] : []),
      { value: env[`FLEETOPS_TEMPORAL_${envName}`], source: `FLEETOPS_TEMPORAL_${envName}` },
      // envconfig has already put TEMPORAL_<NAME> over the profile's value; listed apart to name the source.
      { value: env[`TEMPORAL_${envName}`], source: `TEMPORAL_${envName}` },
      { value: profile[key], source: label },
      ...(opts.fallbacks ?? []).filter((l): l is TemporalLayer => l !== undefined).map((l) => ({ value: l[key], source: l.source })),
      { value: DEFAULTS[key], source: 'defaults' },
    ];
  };
  const pick = (key: 'address' | 'namespace'): { value: string; source: string } => {
    const found = candidates(key).find((c) => nonEmpty(c.value) !== undefined);
    return found ? { value: found.value!, source: found.source } : { value: DEFAULTS[key], source: 'defaults' };
  };
  const address = pick('address');
  const namespace = pick('namespace');
  if (!ADDRESS.test(address.value)) {
    throw new TemporalSettingsError(`invalid Temporal address "${address.value}" (from ${address.source}): expected host:port`);
  }

  const tls = profile.tls;
  const settings: TemporalTarget['settings'] = {
    clientCert: settingOf('clientCert', env, label, tls?.clientCert !== undefined),
    clientKey: settingOf('clientKey', env, label, tls?.clientKey !== undefined),
    serverCa: settingOf('serverCa', env, label, tls?.serverCACert !== undefined),
    serverName: settingOf('serverName', env, label, tls?.serverName !== undefined),
    apiKey: settingOf('apiKey', env, label, profile.apiKey !== undefined),
    tls: env.TEMPORAL_TLS !== undefined ? `TEMPORAL_TLS=${env.TEMPORAL_TLS}` : tls?.disabled !== undefined ? `tls.disabled in ${label}` : undefined,
  };
  if (tls && !tls.disabled && (tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
    const [have, missing] = tls.clientCert ? [settings.clientCert, 'TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_key_path)'] : [settings.clientKey, 'TEMPORAL_TLS_CLIENT_CERT_PATH (or tls.client_cert_path)'];
    throw new TemporalSettingsError(`Temporal mTLS: ${have} is set but ${missing} is not; a client certificate needs both`);
  }
  if (profile.apiKey === '') throw new TemporalSettingsError(`${settings.apiKey ?? 'TEMPORAL_API_KEY'} is empty`);

  let connectConfig: ReturnType<typeof toClientOptions>;
  try {
    connectConfig = toClientOptions(profile);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { path?: string };
    const field = (['clientCert', 'clientKey', 'serverCa'] as const).find((f) => e.path && settings[f]?.includes(e.path));
    const which = field ? settings[field] : 'a Temporal TLS file setting';
    throw new TemporalSettingsError(`cannot read the file named by ${which}: ${e.code ?? e.message}`);
  }
  const c = connectConfig.connectionOptions;
  return {
    address: address.value,
    namespace: namespace.value,
    sources: { address: address.source, namespace: namespace.source },
    connection: {
      address: address.value,
      ...(c.tls !== undefined && c.tls !== null ? { tls: c.tls } : {}),
      ...(c.apiKey !== undefined ? { apiKey: c.apiKey } : {}),
      ...(c.metadata && Object.keys(c.metadata).length > 0 ? { metadata: c.metadata as Record<string, string> } : {}),
    },
    settings,
  };
}

function tlsOn(target: TemporalTarget): boolean {
  return target.connection.tls !== undefined && target.connection.tls !== false;
}

function tlsConfigOf(target: TemporalTarget): TLSConfig {
  const t = target.connection.tls;
  return typeof t === 'object' && t !== null ? t : {};
}

/** What may be logged about the target: no key, no key material. */
export function describeTarget(target: TemporalTarget): Record<string, unknown> {
  const tls = tlsConfigOf(target);
  return {
    address: target.address,
    namespace: target.namespace,
    addressFrom: target.sources.address,
    namespaceFrom: target.sources.namespace,
    tls: tlsOn(target),
    ...(tlsOn(target)
      ? { mtls: tls.clientCertPair !== undefined, serverName: tls.serverNameOverride ?? null, customCa: tls.serverRootCACertificate !== undefined }
      : {}),
    apiKey: target.connection.apiKey !== undefined ? `set (${target.settings.apiKey})` : 'unset',
  };
}

/** Options for @temporalio/client's Connection (CLI, router, the worker's client). */
export function clientConnectionOptions(target: TemporalTarget, extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return { ...target.connection, ...extra };
}

/** Options for @temporalio/worker's NativeConnection (the worker's pollers). */
export function nativeConnectionOptions(target: TemporalTarget): NativeConnectionOptions {
  return { ...target.connection };
}

const GRPC_UNAUTHENTICATED = 16;
const GRPC_PERMISSION_DENIED = 7;

function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  const text = errorText(err);
  if (/does not have valid authentication credentials|UNAUTHENTICATED/.test(text)) return GRPC_UNAUTHENTICATED;
  if (/PERMISSION_DENIED|caller does not have permission/i.test(text)) return GRPC_PERMISSION_DENIED;
  return undefined;
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    parts.push(e instanceof Error ? e.message : String(e));
  }
  return parts.join(': ');
}

type ProbeResult = { ok: true } | { ok: false; stage: 'connect' | 'verify' | 'handshake' | 'after-handshake'; code?: string; message: string };

/**
 * A TLS handshake with the same settings, to say why a connection failed (gRPC only reports "failed to
 * connect before the deadline"). The server may refuse a client certificate after the handshake
 * (TLS 1.3), so the HTTP/2 preface is sent and the probe waits for the server's first frame.
 */
export function probeTls(target: TemporalTarget, timeoutMs = 3_000): Promise<ProbeResult> {
  const tls = tlsConfigOf(target);
  const [host, port] = splitAddress(target.address);
  const options: TlsSocketOptions = {
    host,
    port,
    ALPNProtocols: ['h2'],
    servername: tls.serverNameOverride ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
    ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
    ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
  };
  return new Promise((resolve) => {
    let secured = false;
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = tlsConnect(options, () => {
      secured = true;
      socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 'binary'));
    });
    const timer = setTimeout(() => finish(secured ? { ok: true } : { ok: false, stage: 'connect', message: 'no TLS handshake before the deadline' }), timeoutMs);
    socket.on('data', () => finish({ ok: true }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const stage = secured ? 'after-handshake' : /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME/.test(err.code ?? '') ? 'verify' : err.code === 'ECONNREFUSED' ? 'connect' : 'handshake';
      finish({ ok: false, stage, code: err.code, message: err.message });
    });
    socket.on('close', () => finish(secured ? { ok: false, stage: 'after-handshake', message: 'the server closed the connection' } : { ok: false, stage: 'handshake', message: 'the server closed the connection during the TLS handshake' }));
  });
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

/** Turns a TLS probe's failure into what to change, naming the setting. */
function tlsAdvice(target: TemporalTarget, probe: Exclude<ProbeResult, { ok: true }>): string {
  const s = target.settings;
  const tls = tlsConfigOf(target);
  const text = `${probe.code ?? ''} ${probe.message}`;
  if (probe.stage === 'connect') return probe.message;
  if (probe.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /altnames|NotValidForName/.test(text)) {
    return tls.serverNameOverride
      ? `the server's certificate is not valid for ${s.serverName} (${probe.message})`
      : `the server's certificate is not valid for "${splitAddress(target.address)[0]}": set TEMPORAL_TLS_SERVER_NAME (or tls.server_name in the profile) to the name in it (${probe.message})`;
  }
  if (probe.stage === 'verify') {
    return s.serverCa
      ? `the server's certificate is not signed by the CA in ${s.serverCa} (${probe.message})`
      : `the server's certificate is not signed by a CA this machine trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH (or tls.server_ca_cert_path in the profile) to the CA that signed it (${probe.message})`;
  }
  if (/certificate required|handshake failure|peer did not return/i.test(text) && !tls.clientCertPair) {
    return 'the server requires a client certificate (mTLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_cert_path and tls.client_key_path in the profile)';
  }
  if (tls.clientCertPair && (probe.stage === 'after-handshake' || /bad certificate|unknown ca|certificate unknown|alert/i.test(text))) {
    return `the server refused the client certificate from ${s.clientCert} (with ${s.clientKey}): it is not signed by a CA the server trusts, or has expired (${probe.message})`;
  }
  if (probe.stage === 'after-handshake') {
    return `the server closed the connection after the TLS handshake; it may require a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (${probe.message})`;
  }
  return `TLS handshake failed (${probe.message}); is the server speaking TLS on ${target.address}?`;
}

/**
 * Why a connection to `target` failed, naming the setting to change. Probes TLS when TLS is on and
 * the error is a transport one.
 */
export async function explainConnectError(err: unknown, target: TemporalTarget): Promise<string> {
  const where = `Temporal at ${target.address} (address from ${target.sources.address})`;
  const raw = errorText(err);
  const code = grpcCode(err);
  if (code === GRPC_UNAUTHENTICATED || code === GRPC_PERMISSION_DENIED) {
    const refused = code === GRPC_UNAUTHENTICATED ? 'refused the credentials' : 'denied access';
    if (target.connection.apiKey !== undefined) return `${where} ${refused}: the API key from ${target.settings.apiKey} was not accepted (${raw})`;
    if (tlsConfigOf(target).clientCertPair) return `${where} ${refused} for the client certificate from ${target.settings.clientCert} (${raw})`;
    return `${where} ${refused}: set TEMPORAL_API_KEY (or api_key in the profile), or a client certificate (${raw})`;
  }
  if (tlsOn(target)) {
    const probe = await probeTls(target);
    if (!probe.ok) return `cannot connect to ${where} over TLS: ${tlsAdvice(target, probe)}`;
  } else if (/Failed to connect before the deadline|transport error|broken pipe|ECONNRESET|connection closed/i.test(raw)) {
    return `cannot reach ${where}: ${raw}. If the server requires TLS, set TEMPORAL_TLS=true (an API key or TLS certificate settings turn it on too)`;
  }
  return `cannot reach ${where}: ${raw}`;
}

/** Connection.connect with the target's settings; a failure says which setting to change. */
export async function connectClient(target: TemporalTarget, extra: Partial<ConnectionOptions> = {}): Promise<Connection> {
  try {
    return await Connection.connect(clientConnectionOptions(target, extra));
  } catch (err) {
    throw new TemporalConnectError(await explainConnectError(err, target));
  }
}

/** A lazy client connection (the router comes up while Temporal is down). */
export function lazyClientConnection(target: TemporalTarget, extra: Partial<ConnectionOptions> = {}): Connection {
  return Connection.lazy(clientConnectionOptions(target, extra));
}

/** NativeConnection.connect for workers; a failure says which setting to change. */
export async function connectNative(target: TemporalTarget): Promise<NativeConnection> {
  // Loaded here, not at the top: the CLI and the router never load the worker's native runtime.
  const { NativeConnection } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  try {
    return await NativeConnection.connect(nativeConnectionOptions(target));
  } catch (err) {
    throw new TemporalConnectError(await explainConnectError(err, target));
  }
}

/**
 * For the worker and the router: the target with fleetops.yaml's `temporal.*` as the fallback below
 * Temporal's own configuration. Exits 2 with the message when the settings cannot be used.
 */
export function resolveProcessTarget(config: { temporal: { address: string; namespace: string } }, configFile: string, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  try {
    return resolveTemporalTarget({
      env,
      fallbacks: [{ address: config.temporal.address, namespace: config.temporal.namespace, source: `${configFile} temporal.*` }],
    });
  } catch (err) {
    if (err instanceof TemporalSettingsError) {
      process.stderr.write(`fleetops: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
