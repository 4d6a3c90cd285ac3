import { z } from 'zod';
import { accountSchema, regionSchema } from './fields';

/** `aws` and `temporal`: where fleetops's AWS calls and its Temporal client go. */

export const awsSchema = z
  .object({
    region: regionSchema,
    /**
     * The worker's own account. Needed once a cluster names a roleArn (many accounts): events are then
     * routed by account, and clusters without a roleArn live in this one. Unset in a single-account
     * config, where events are not checked by account.
     */
    account: accountSchema.optional(),
    /** Endpoint override for every service (the local emulator); omit for real AWS. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** SDK-level attempts per call; retries beyond this are Temporal's (see activities/aws/clients.ts). */
    sdkMaxAttempts: z.number().int().min(1).max(10).default(1),
  })
  .strict();

export const temporalSchema = z
  .object({
    address: z.string().min(1).default('127.0.0.1:7233'),
    namespace: z.string().min(1).default('default'),
    /** Base URL of the Web UI, used for links in notifications. */
    uiUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8233'),
  })
  .strict();
