import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type FailureTypeName } from '../../common/failures';

/**
 * The one place AWS errors become Temporal failures. Every activity wraps its AWS calls in
 * `awsCall`, so retry behaviour is decided here and nowhere else:
 *  - throttling, 5xx and network errors are retryable (Temporal retries them with the activity's
 *    backoff, clipped to the workflow's deadline);
 *  - validation, not-found, access-denied, capacity and unknown 4xx errors are non-retryable with a
 *    typed failure name that workflows branch on.
 */

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);

/**
 * Refusals that say "not now" rather than "never": the same request succeeds once the resource
 * settles. Auto Scaling answers ScalingActivityInProgress (HTTP 400) to TerminateInstanceInAutoScalingGroup,
 * UpdateAutoScalingGroup and DeleteAutoScalingGroup while a scaling activity runs; ResourceContention
 * (500) is already retryable as a server fault.
 */
const BUSY_CODES = new Set(['ScalingActivityInProgress', 'ScalingActivityInProgressFault']);

/** Errors JavaScript itself throws: a bug in fleetops's own code, never an AWS answer. */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError']);

const UNAVAILABLE_CODES = new Set([
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServerException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const ACCESS_DENIED_CODES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'AuthFailure',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
]);

const CAPACITY_CODES = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'MaxSpotInstanceCountExceeded',
  'MaxSpotFleetRequestCountExceeded',
  'SpotMaxPriceTooLow',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'UnfulfillableCapacity',
]);

const VALIDATION_CODES = new Set([
  'ValidationError',
  'ValidationException',
  'InvalidParameterException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterCombination',
  'InvalidParameter',
  'MissingParameter',
  'InvalidAction',
  'MalformedQueryString',
  'SerializationException',
  'UnsupportedOperation',
  'ClientException',
]);

const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
  cause?: unknown;
}

function shapeOf(err: unknown): AwsErrorShape {
  return typeof err === 'object' && err !== null ? (err as AwsErrorShape) : { message: String(err) };
}

function isNetworkError(e: AwsErrorShape): boolean {
  if (e.code && NETWORK_ERROR_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return true;
  if (e.message && /socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE/.test(e.message)) return true;
  const cause = e.cause ? shapeOf(e.cause) : undefined;
  return cause ? isNetworkError(cause) : false;
}

// SQS says "does not exist" instead of "not found" (the JSON name and its Query-compatible code).
const NOT_FOUND_CODES = new Set(['NoSuchEntity', 'ResourceNotFoundException', 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);

function isNotFound(code: string): boolean {
  return /NotFound/.test(code) || NOT_FOUND_CODES.has(code);
}

export interface Classification {
  type: FailureTypeName;
  retryable: boolean;
  /** The AWS error code (or Node error code) as received. */
  code: string;
  httpStatus?: number;
}

export function classifyAwsError(err: unknown): Classification {
  const e = shapeOf(err);
  const code = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Unknown');
  const httpStatus = e.$metadata?.httpStatusCode;

  // Order matters: SDK errors for a reset connection carry no HTTP status, and a throttling
  // error may arrive as a 400 (Query protocols) or a 429/503.
  if (THROTTLING_CODES.has(code) || e.$retryable?.throttling) {
    return { type: FailureType.AwsThrottled, retryable: true, code, httpStatus };
  }
  // A TypeError from our own code (no AWS metadata) is a bug: retrying it only hides it. A fetch-style
  // TypeError whose cause is a reset connection is still the network's fault.
  if (PROGRAMMING_ERRORS.has(code) && e.$metadata === undefined && !isNetworkError({ ...e, message: undefined })) {
    return { type: FailureType.FleetopsBug, retryable: false, code, httpStatus };
  }
  if (BUSY_CODES.has(code)) return { type: FailureType.AwsUnavailable, retryable: true, code, httpStatus };
  if (ACCESS_DENIED_CODES.has(code)) return { type: FailureType.AwsAccessDenied, retryable: false, code, httpStatus };
  if (CAPACITY_CODES.has(code)) return { type: FailureType.AwsCapacityUnavailable, retryable: false, code, httpStatus };
  if (isNotFound(code)) return { type: FailureType.AwsNotFound, retryable: false, code, httpStatus };
  if (VALIDATION_CODES.has(code) || code.startsWith('Invalid') || code.startsWith('Malformed')) {
    return { type: FailureType.AwsValidation, retryable: false, code, httpStatus };
  }
  if (UNAVAILABLE_CODES.has(code) || (httpStatus !== undefined && httpStatus >= 500) || e.$fault === 'server') {
    return { type: FailureType.AwsUnavailable, retryable: true, code, httpStatus };
  }
  if (isNetworkError(e) || httpStatus === undefined) {
    // The SDK names a reset connection `TimeoutError`; Node's code (ECONNRESET...) says what happened.
    const networkCode = e.code && NETWORK_ERROR_CODES.has(e.code) ? e.code : code;
    return { type: FailureType.AwsNetwork, retryable: true, code: networkCode, httpStatus };
  }
  return { type: FailureType.AwsRejected, retryable: false, code, httpStatus };
}

/** Turns any error from an AWS call into an ApplicationFailure of the classified type. */
export function toApplicationFailure(err: unknown, action: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const c = classifyAwsError(err);
  const message = `${action}: ${c.code}${c.httpStatus ? ` (HTTP ${c.httpStatus})` : ''}: ${shapeOf(err).message ?? ''}`;
  return ApplicationFailure.create({
    type: c.type,
    message,
    nonRetryable: !c.retryable,
    details: [{ action, code: c.code, httpStatus: c.httpStatus ?? null }],
    cause: err instanceof Error ? err : undefined,
  });
}

/**
 * Runs one AWS call and classifies its failure. `action` names the API (e.g. `ecs:UpdateContainerInstancesState`)
 * so failures in the Web UI say which call failed.
 */
export async function awsCall<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApplicationFailure(err, action);
  }
}

/**
 * The failure of a cluster's STS AssumeRole (activities/aws/cluster-clients.ts). Throttling, 5xx and
 * network errors stay retryable (STS will answer again); anything else (AccessDenied for a missing
 * role, a trust policy that does not admit the worker, a wrong external id; an invalid role) is
 * AwsRoleNotAssumable and not retried. The message names the role; the credentials are never in it.
 */
export function roleAssumeFailure(roleArn: string, err: unknown): ApplicationFailure {
  const c = classifyAwsError(err);
  const message = `cannot assume role ${roleArn} (sts:AssumeRole): ${c.code}${c.httpStatus ? ` (HTTP ${c.httpStatus})` : ''}: ${shapeOf(err).message ?? ''}`;
  return ApplicationFailure.create({
    type: c.retryable ? c.type : FailureType.AwsRoleNotAssumable,
    message,
    nonRetryable: !c.retryable,
    details: [{ action: 'sts:AssumeRole', roleArn, code: c.code, httpStatus: c.httpStatus ?? null }],
    cause: err instanceof Error ? err : undefined,
  });
}

/**
 * Auto Scaling's answer to a CompleteLifecycleAction or RecordLifecycleActionHeartbeat for an action
 * that is no longer waiting (completed before, e.g. by this drain before a crash, or timed out):
 * `ValidationError` "No active Lifecycle Action found with …" (API_CompleteLifecycleAction). For a
 * completion that means the goal is reached.
 */
export function isNoActiveLifecycleAction(err: unknown): boolean {
  const message = err instanceof ApplicationFailure ? err.message : shapeOf(err).message ?? '';
  const type = err instanceof ApplicationFailure ? err.type : classifyAwsError(err).type;
  return type === FailureType.AwsValidation && /No active Lifecycle Action found/i.test(message);
}
