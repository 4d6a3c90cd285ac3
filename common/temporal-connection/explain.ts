import { probeTls, tlsAdvice } from './tls-probe';
import { tlsConfigOf, tlsOn, type TemporalTarget } from './target';

/** Why a connection failed, in terms of the settings that were used (credentials, TLS, reachability). */

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
