/**
 * What an EC2 Spot interruption warning says, defined once for the router that reads it and the drain
 * that acts on it ("Spot Instance interruption notices",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html).
 * No imports, so the workflow bundle can take it as a value.
 */

/** EC2 issues the warning two minutes before it interrupts the instance; a stopping or shutting-down instance gets the same deadline. */
export const INTERRUPTION_WARNING_MS = 120_000;

/** What EC2 does to the instance: a spot warning's `instance-action`; `stop` for the stopping/stopped states. */
export const INSTANCE_ACTIONS = ['terminate', 'stop', 'hibernate'] as const;
export type InstanceAction = (typeof INSTANCE_ACTIONS)[number];
