import { z } from 'zod';
import { name, positiveSeconds } from './fields';

/**
 * A cluster's capacity pools (`clusters.<name>.pools`), one schema per kind. A kind added to poolSchema
 * is a kind everywhere (PoolKind); activities/capacity/pools/index.ts then fails to compile until it has
 * a driver.
 */

const instanceTypeOverride = z
  .object({
    instanceType: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance type such as m5.large'),
    subnetId: z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id').optional(),
    availabilityZone: z.string().optional(),
    /** Capacity units one instance of this type provides. */
    weight: z.number().positive().default(1),
  })
  .strict();

const launchTemplateRef = z
  .object({
    id: z.string().regex(/^lt-[0-9a-f]+$/, 'must be a launch template id').optional(),
    name: z.string().optional(),
    version: z.string().default('$Latest'),
  })
  .strict()
  .refine((v) => Boolean(v.id) !== Boolean(v.name), { message: 'set exactly one of id or name' });

const poolCommon = {
  name,
  /** How long a request may take to deliver instances before the next pool is tried. */
  fulfilmentTimeoutSeconds: positiveSeconds.default(120),
  maxCapacity: z.number().int().nonnegative().optional(),
};

export const ec2FleetPoolSchema = z
  .object({
    ...poolCommon,
    kind: z.literal('ec2-fleet'),
    market: z.enum(['spot', 'on-demand']).default('spot'),
    launchTemplate: launchTemplateRef,
    overrides: z.array(instanceTypeOverride).min(1),
  })
  .strict();

export const spotFleetPoolSchema = z
  .object({
    ...poolCommon,
    kind: z.literal('spot-fleet'),
    /** An existing Spot Fleet request (type `maintain`) whose target capacity fleetops moves. */
    spotFleetRequestId: z.string().regex(/^sfr-[0-9a-f-]+$/, 'must be a Spot Fleet request id'),
    allocationStrategy: z.enum(['lowestPrice', 'diversified', 'capacityOptimized', 'priceCapacityOptimized']).default('lowestPrice'),
  })
  .strict();

export const asgPoolSchema = z
  .object({
    ...poolCommon,
    kind: z.literal('asg'),
    market: z.enum(['spot', 'on-demand']).default('on-demand'),
    autoScalingGroupName: name,
    /**
     * Scale-in may lower the group's MinSize to take out a drained instance the minimum would keep.
     * Off: instances the minimum keeps are not chosen, and a removal the minimum refuses is reported.
     */
    lowerMinSizeOnScaleIn: z.boolean().default(false),
  })
  .strict();

export const poolSchema = z.discriminatedUnion('kind', [ec2FleetPoolSchema, spotFleetPoolSchema, asgPoolSchema]);

export type PoolConfig = z.infer<typeof poolSchema>;
export type PoolKind = PoolConfig['kind'];
