import { isAbsolute, join } from 'node:path';
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';
import { TemporalSettingsError, type TlsField } from './target';

/**
 * Temporal's own client configuration as @temporalio/envconfig reads it (TEMPORAL_* variables over a
 * profile of the TOML file), and which of those settings gave a value, so messages can name it.
 */

export const DEFAULTS = { address: '127.0.0.1:7233', namespace: 'default' } as const;
export const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

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

export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Only string entries: envconfig's overrideEnvVars is a plain string map. */
function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function loadProfile(env: NodeJS.ProcessEnv): { profile: ClientConfigProfile; label: string } {
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
export function settingOf(field: Exclude<TlsField, 'tls'>, env: NodeJS.ProcessEnv, profileLabel: string, present: boolean): string | undefined {
  if (!present) return undefined;
  const e = ENV_NAMES[field];
  for (const name of [e.path, e.data, e.value]) {
    if (name && env[name] !== undefined) return name.endsWith('_PATH') ? `${name}=${env[name]}` : name;
  }
  const p = PROFILE_KEYS[field];
  return `${p.path ?? p.value ?? p.data} in ${profileLabel}`;
}
