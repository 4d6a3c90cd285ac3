import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnection, NativeConnectionOptions } from '@temporalio/worker';
import { explainConnectError } from './explain';
import { TemporalConnectError, tlsConfigOf, tlsOn, type TemporalTarget } from './target';

/** Connections to a resolved target (client, lazy client, worker's native one), and what of it may be logged. */

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
