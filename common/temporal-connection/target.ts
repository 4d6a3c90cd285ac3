import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';

/** What a resolved Temporal target is, and the errors resolving and connecting raise (index.ts has the precedence). */

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

export type TlsField = 'clientCert' | 'clientKey' | 'serverCa' | 'serverName' | 'tls' | 'apiKey';

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

export function tlsOn(target: TemporalTarget): boolean {
  return target.connection.tls !== undefined && target.connection.tls !== false;
}

export function tlsConfigOf(target: TemporalTarget): TLSConfig {
  const t = target.connection.tls;
  return typeof t === 'object' && t !== null ? t : {};
}
