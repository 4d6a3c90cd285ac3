import { z } from 'zod';

/**
 * AWS identifiers fleetops validates, defined once (router events, workflow inputs, the simulator,
 * the stack file).
 */

/** An EC2 instance id: `i-` and 8 (older instances) or 17 hex digits. */
export const EC2_INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export const ec2InstanceIdSchema = z.string().regex(EC2_INSTANCE_ID, 'must be an EC2 instance id (i- and 8 or 17 hex digits)');
