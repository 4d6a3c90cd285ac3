import { toClientOptions } from '@temporalio/envconfig';
import { ADDRESS, DEFAULTS, loadProfile, nonEmpty, settingOf } from './profile';
import { TemporalSettingsError, type ResolveOptions, type TemporalLayer, type TemporalTarget } from './target';

/** Which Temporal to talk to, by the precedence index.ts states, with TLS and API key settings. */

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
