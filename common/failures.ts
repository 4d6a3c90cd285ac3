/**
 * ApplicationFailure types, classified once (activities/aws/errors.ts) and matched by workflows.
 * This file is imported by workflow code, so it must stay free of I/O and Node APIs.
 */
export const FailureType = {
  /** AWS asked us to slow down (ThrottlingException, RequestLimitExceeded, ...). Retryable. */
  AwsThrottled: 'AwsThrottled',
  /** AWS answered 5xx or ServiceUnavailable. Retryable. */
  AwsUnavailable: 'AwsUnavailable',
  /** The call never got an answer: reset, refused, timed out. Retryable. */
  AwsNetwork: 'AwsNetwork',
  /** The request itself is wrong: retrying the same request cannot succeed. */
  AwsValidation: 'AwsValidation',
  /** The resource the request names does not exist (any more). */
  AwsNotFound: 'AwsNotFound',
  /** Credentials or IAM policy do not allow the call. */
  AwsAccessDenied: 'AwsAccessDenied',
  /**
   * STS refused to let the worker assume a cluster's role (no such role, a trust policy that does not
   * name the worker, a wrong external id): every call on that cluster fails until the config or the
   * member account is fixed, so it is not retried. The message names the role.
   */
  AwsRoleNotAssumable: 'AwsRoleNotAssumable',
  /** EC2 has no capacity for this pool now (InsufficientInstanceCapacity, SpotMaxPriceTooLow, ...). */
  AwsCapacityUnavailable: 'AwsCapacityUnavailable',
  /** A 4xx AWS error the classifier does not know: not retried, so it surfaces instead of looping. */
  AwsRejected: 'AwsRejected',
  /** fleetops's own input or state check failed (bad config reference, wrong phase, ...). */
  InvalidRequest: 'InvalidRequest',
  /** A pool refuses to shrink: an Auto Scaling group at its MinSize, and lowering it is not allowed by config. */
  PoolAtMinimum: 'PoolAtMinimum',
  /** fleetops's own code threw (TypeError, ReferenceError, ...): the same call fails the same way again. */
  FleetopsBug: 'FleetopsBug',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** Types that activities never retry; workflows put these in `nonRetryableErrorTypes` too. */
export const NON_RETRYABLE_FAILURE_TYPES: FailureTypeName[] = [
  FailureType.AwsValidation,
  FailureType.AwsNotFound,
  FailureType.AwsAccessDenied,
  FailureType.AwsRoleNotAssumable,
  FailureType.AwsCapacityUnavailable,
  FailureType.AwsRejected,
  FailureType.InvalidRequest,
  FailureType.FleetopsBug,
  FailureType.PoolAtMinimum,
];
