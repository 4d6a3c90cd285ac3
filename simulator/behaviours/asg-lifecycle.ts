import { z } from 'zod';
import type { Behaviour, BehaviourFactory } from '../behaviour';
import { awsErrorResponse, awsSuccessResponse } from '../protocol';

/**
 * Auto Scaling lifecycle actions, which moto does not implement: CompleteLifecycleAction and
 * RecordLifecycleActionHeartbeat are answered here and recorded, so tests and the local stack can read
 * what a drain did with the hook (`GET /_sim/asg-lifecycle/actions`).
 */

export interface LifecycleCall {
  action: 'CompleteLifecycleAction' | 'RecordLifecycleActionHeartbeat';
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken?: string;
  instanceId?: string;
  /** CONTINUE or ABANDON, for CompleteLifecycleAction. */
  result?: string;
  at: string;
}

const paramsSchema = z.object({
  AutoScalingGroupName: z.string().min(1),
  LifecycleHookName: z.string().min(1),
  LifecycleActionToken: z.string().optional(),
  InstanceId: z.string().optional(),
  LifecycleActionResult: z.string().optional(),
});

export const asgLifecycle: BehaviourFactory = () => {
  const calls: LifecycleCall[] = [];
  const behaviour: Behaviour = {
    name: 'asg-lifecycle',

    intercept(req) {
      if (req.service !== 'autoscaling') return undefined;
      if (req.action !== 'CompleteLifecycleAction' && req.action !== 'RecordLifecycleActionHeartbeat') return undefined;
      const p = paramsSchema.safeParse(req.params);
      if (!p.success) {
        return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      }
      if (!p.data.LifecycleActionToken && !p.data.InstanceId) {
        return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: 'either LifecycleActionToken or InstanceId is required' });
      }
      if (req.action === 'CompleteLifecycleAction' && !['CONTINUE', 'ABANDON'].includes(p.data.LifecycleActionResult ?? '')) {
        return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: 'LifecycleActionResult must be CONTINUE or ABANDON' });
      }
      calls.push({
        action: req.action,
        autoScalingGroupName: p.data.AutoScalingGroupName,
        lifecycleHookName: p.data.LifecycleHookName,
        lifecycleActionToken: p.data.LifecycleActionToken,
        instanceId: p.data.InstanceId,
        result: p.data.LifecycleActionResult,
        at: new Date().toISOString(),
      });
      return awsSuccessResponse(req, { xml: '' });
    },

    route(req) {
      if (req.method === 'GET' && (req.path === '/' || req.path === '/actions')) return { status: 200, body: { calls } };
      return undefined;
    },

    reset() {
      calls.length = 0;
    },
  };
  return behaviour;
};
