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

export { TemporalConnectError, TemporalSettingsError, type ResolveOptions, type TemporalLayer, type TemporalTarget } from './target';
export { temporalConfigFile } from './profile';
export { resolveProcessTarget, resolveTemporalTarget } from './resolve';
export { probeTls } from './tls-probe';
export { explainConnectError } from './explain';
export { clientConnectionOptions, connectClient, connectNative, describeTarget, lazyClientConnection, nativeConnectionOptions } from './connect';
