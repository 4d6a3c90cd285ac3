import { z } from 'zod';
import { isImageRepository } from '../../common/images';
import { name, positiveSeconds, seconds } from './fields';

/** `services[]`: a service fleetops deploys, the images it may run and its canary plan. */

const canaryStep = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('setWeight'), weight: z.number().int().min(0).max(100) }).strict(),
  z.object({ kind: z.literal('bake'), seconds: positiveSeconds }).strict(),
  z.object({ kind: z.literal('gate'), timeoutSeconds: positiveSeconds.optional() }).strict(),
  z.object({ kind: z.literal('promote') }).strict(),
]);

const metricCheck = z
  .object({
    name,
    namespace: z.string().min(1),
    metricName: z.string().min(1),
    stat: z.string().default('Sum'),
    /** Dimensions of the canary's metric; `{canary}` and `{stable}` in values are replaced by service names. */
    dimensions: z.record(z.string(), z.string()).default({}),
    periodSeconds: positiveSeconds.default(60),
    /** Fails when the value is above this. */
    maxValue: z.number().optional(),
    /** Fails when canary exceeds stable by more than this factor (compared against the same metric for stable). */
    maxRatioToStable: z.number().positive().optional(),
  })
  .strict()
  .refine((m) => m.maxValue !== undefined || m.maxRatioToStable !== undefined, {
    message: 'set maxValue or maxRatioToStable',
  });

export const serviceSchema = z
  .object({
    cluster: name,
    name,
    /**
     * The image repositories the service may run, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/web`
     * (no tag, no digest). An image deploy whose repository is not one of them, compared whole, is refused
     * on every path before any AWS call (common/images.ts). Unset: image deploys are refused; a task
     * definition deploy is allowed (and, with the list set, its containers' images are checked too).
     */
    images: z
      .array(z.string().refine(isImageRepository, 'must be an image repository in lower case, without tag or digest, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/web'))
      .min(1)
      .max(50)
      .optional(),
    /**
     * Labels a release selects services by (`tag: team=payments`), as the team names them; not the
     * service's ECS tags, which fleetops does not read.
     */
    tags: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'tag keys are 1-64 letters, digits, _ . or -'), z.string().regex(/^[A-Za-z0-9_.:/-]{0,128}$/, 'tag values are up to 128 letters, digits, _ . : / or -'))
      .optional(),
    canary: z
      .object({
        steps: z.array(canaryStep).min(1).default([
          { kind: 'setWeight', weight: 10 },
          { kind: 'bake', seconds: 300 },
          { kind: 'setWeight', weight: 50 },
          { kind: 'bake', seconds: 300 },
          { kind: 'promote' },
        ]),
        /** CloudWatch alarms that must stay OK while baking. */
        alarms: z.array(z.string().min(1)).default([]),
        metricChecks: z.array(metricCheck).default([]),
        analysisIntervalSeconds: positiveSeconds.default(60),
        /** Failed metric measurements tolerated during a deploy; one more fails the canary (Argo's failureLimit). */
        failureLimit: z.number().int().nonnegative().default(1),
        /** How long an inconclusive analysis waits for a human. */
        inconclusiveTimeoutSeconds: positiveSeconds.default(1800),
        gateTimeoutSeconds: positiveSeconds.default(3600),
        gateTimeoutAction: z.enum(['rollback', 'promote']).default('rollback'),
        /** Container whose image an image deploy replaces; the task definition's only container when unset. */
        container: name.optional(),
        /** How long promotion waits for the main service's ECS deployment to complete before rolling back. */
        promoteTimeoutSeconds: positiveSeconds.default(1800),
        /**
         * After promotion, how long the main service bakes on the new revision under the same alarms and
         * checks (ratio-to-stable checks have no stable left to compare with and are skipped); a failure
         * rolls it back to the previous revision. 0 ends the deploy at promotion.
         */
        postPromotionBakeSeconds: seconds.default(300),
        /**
         * How often the canary's and the main service's ECS deployments are described while waiting on
         * them. ECS Deployment State Change events end a wait sooner when the router receives them.
         */
        servicePollSeconds: positiveSeconds.default(10),
        /** ALB listener rule with weighted stable/canary target groups; without it canary size approximates the weight. */
        listenerRule: z
          .object({
            ruleArn: z.string().startsWith('arn:'),
            stableTargetGroupArn: z.string().startsWith('arn:'),
            canaryTargetGroupArn: z.string().startsWith('arn:'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ServiceConfig = z.infer<typeof serviceSchema>;

/** A service's canary plan, as the deploy workflow, its activities and its clients read it. */
export type CanaryPlan = ServiceConfig['canary'];
export type CanaryStep = CanaryPlan['steps'][number];
export type MetricCheck = CanaryPlan['metricChecks'][number];
export type ListenerRuleConfig = NonNullable<CanaryPlan['listenerRule']>;
