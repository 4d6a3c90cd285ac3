/**
 * Epoch milliseconds as an ISO 8601 UTC timestamp, the form every status, timeline entry and
 * decision carries. No imports, so the workflow bundle can take it as a value.
 */
export const iso = (ms: number): string => new Date(ms).toISOString();
