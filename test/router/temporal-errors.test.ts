import { classifyTemporalError } from '../../router/dispatch';

/** What a failed Temporal call means for the event that made it (router/dispatch.ts), code by code. */

const grpcError = (code: number, details: string, statusDetails?: string) =>
  Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: { get: (key: string) => (key === 'grpc-status-details-bin' && statusDetails ? [Buffer.from(statusDetails)] : []) },
  });

describe('classifyTemporalError', () => {
  const cases: [string, unknown, Parameters<typeof classifyTemporalError>[1], { class: string; code: string }][] = [
    ['no answer', grpcError(14, 'connection refused'), 'start', { class: 'unavailable', code: 'UNAVAILABLE' }],
    ['deadline', grpcError(4, 'deadline exceeded'), 'signal', { class: 'unavailable', code: 'DEADLINE_EXCEEDED' }],
    ['the server dropped a call past its deadline', grpcError(1, 'Call cancelled'), 'signalWithStart', { class: 'unavailable', code: 'CANCELLED' }],
    ['rate limited', grpcError(8, 'namespace rate limit exceeded'), 'signalWithStart', { class: 'unavailable', code: 'RESOURCE_EXHAUSTED' }],
    ['expired API key', grpcError(16, 'API key missing or not valid'), 'start', { class: 'refused', code: 'UNAUTHENTICATED' }],
    ['no permission', grpcError(7, 'Request unauthorized.'), 'signal', { class: 'refused', code: 'PERMISSION_DENIED' }],
    ['namespace missing, on a signal', grpcError(5, 'Namespace x is not found.', 'type.googleapis.com/temporal.api.errordetails.v1.NamespaceNotFoundFailure'), 'signal', { class: 'refused', code: 'NOT_FOUND' }],
    ['namespace missing, by its message only', grpcError(5, 'Namespace fleetops is not found.'), 'describe', { class: 'refused', code: 'NOT_FOUND' }],
    ['workflow not running, on a signal', grpcError(5, 'workflow not found for ID: drain-i-1', 'type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure'), 'signal', { class: 'not-running', code: 'NOT_FOUND' }],
    ['no current run, on the describe before a start', grpcError(5, 'workflow not found for ID: drain-i-1'), 'describe', { class: 'not-running', code: 'NOT_FOUND' }],
    ['NOT_FOUND on a start', grpcError(5, 'something'), 'start', { class: 'refused', code: 'NOT_FOUND' }],
    ['a start of a running workflow', grpcError(6, 'Workflow execution already started'), 'start', { class: 'duplicate', code: 'ALREADY_EXISTS' }],
    ['search attribute not registered (SQL visibility)', grpcError(3, 'Namespace default has no mapping defined for search attribute FleetopsKind'), 'start', { class: 'refused', code: 'INVALID_ARGUMENT' }],
    ['search attribute not registered (Elasticsearch)', grpcError(3, 'search attribute FleetopsKind is not defined'), 'signalWithStart', { class: 'refused', code: 'INVALID_ARGUMENT' }],
    ["the event's own request", grpcError(3, 'WorkflowId length exceeds limit.'), 'start', { class: 'event', code: 'INVALID_ARGUMENT' }],
    ["a workflow's signal limit", grpcError(3, 'exceeded workflow execution limit for signal events'), 'signal', { class: 'event', code: 'INVALID_ARGUMENT' }],
    ['namespace not active', grpcError(9, 'Namespace x is not active'), 'start', { class: 'refused', code: 'FAILED_PRECONDITION' }],
    ['server fault', grpcError(13, 'internal'), 'start', { class: 'refused', code: 'INTERNAL' }],
    ['not a Temporal error', new TypeError('x is undefined'), 'start', { class: 'event', code: 'NONE' }],
  ];
  it.each(cases)('%s', (_name, err, call, want) => {
    expect(classifyTemporalError(err, call)).toEqual(want);
  });
});
