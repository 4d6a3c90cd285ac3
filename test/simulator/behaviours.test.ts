import { CompleteLifecycleActionCommand, RecordLifecycleActionHeartbeatCommand } from '@aws-sdk/client-auto-scaling';
import { CreateClusterCommand, ListClustersCommand } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import type { Behaviour, BehaviourFactory } from '../../simulator/behaviour';
import { awsErrorResponse, awsSuccessResponse } from '../../simulator/protocol';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The behaviour-module contract, exercised through a module written here: intercepting a call moto
 * lacks, rewriting moto's response, ticking against moto state, owning control routes, and reset.
 */

interface Completed {
  group: string;
  hook: string;
  result: string;
}

const probe: BehaviourFactory = () => {
  let completed: Completed[] = [];
  let hidden = new Set<string>();
  const behaviour: Behaviour = {
    name: 'probe',
    intercept(req) {
      if (req.service === 'autoscaling' && req.action === 'CompleteLifecycleAction') {
        completed.push({ group: String(req.params.AutoScalingGroupName), hook: String(req.params.LifecycleHookName), result: String(req.params.LifecycleActionResult) });
        return awsSuccessResponse(req, {});
      }
      if (req.service === 'autoscaling' && req.action === 'RecordLifecycleActionHeartbeat') {
        return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: 'No active Lifecycle Action found with token' });
      }
      return undefined;
    },
    afterResponse(req, res) {
      if (req.service !== 'ecs' || req.action !== 'ListClusters' || hidden.size === 0) return;
      const body = JSON.parse(res.body.toString('utf8')) as { clusterArns: string[] };
      body.clusterArns = body.clusterArns.filter((arn) => !hidden.has(arn.split('/').pop() ?? ''));
      return { ...res, body: Buffer.from(JSON.stringify(body)) };
    },
    tick: {
      intervalMs: 3_600_000,
      async run(ctx) {
        await ctx.aws().ecs.send(new CreateClusterCommand({ clusterName: 'made-by-tick' }));
      },
    },
    route(req) {
      if (req.method === 'GET' && req.path === '/completed') return { status: 200, body: { completed } };
      if (req.method === 'POST' && req.path === '/hide') {
        const { cluster } = z.object({ cluster: z.string().min(1) }).parse(req.body);
        hidden.add(cluster);
        return { status: 200, body: { hidden: [...hidden] } };
      }
      return undefined;
    },
    reset() {
      completed = [];
      hidden = new Set();
    },
  };
  return behaviour;
};

const emu = useEmulator(() => startEmulator({ behaviours: [probe], autoTick: false }));

describe('behaviour modules', () => {
  it('answer a Query call moto lacks, in the wire shape the SDK parses', async () => {
    await emu.aws.autoscaling.send(
      new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'asg-a', LifecycleHookName: 'drain', LifecycleActionResult: 'CONTINUE', InstanceId: 'i-0123456789abcdef0' }),
    );
    const err = await emu.aws.autoscaling
      .send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'asg-a', LifecycleHookName: 'drain', InstanceId: 'i-0123456789abcdef0' }))
      .then(
        () => undefined,
        (e: unknown) => e as { name: string; $metadata: { httpStatusCode?: number } },
      );
    expect(err?.name).toBe('ValidationError');
    expect(err?.$metadata.httpStatusCode).toBe(400);
    expect(await emu.sim.request('GET', 'probe/completed')).toEqual({ completed: [{ group: 'asg-a', hook: 'drain', result: 'CONTINUE' }] });
    expect((await emu.sim.calls({ service: 'autoscaling' })).map((c) => [c.action, c.handledBy, c.status])).toEqual([
      ['CompleteLifecycleAction', 'behaviour:probe', 200],
      ['RecordLifecycleActionHeartbeat', 'behaviour:probe', 400],
    ]);
  });

  it('rewrite moto’s response and own their control routes', async () => {
    await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'shown' }));
    await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'hidden' }));
    await emu.sim.request('POST', 'probe/hide', { cluster: 'hidden' });
    const { clusterArns } = await emu.aws.ecs.send(new ListClustersCommand({}));
    expect(clusterArns?.map((a) => a.split('/').pop())).toEqual(['shown']);
    await expect(emu.sim.request('POST', 'probe/hide', { cluster: '' })).rejects.toThrow(/HTTP 400: cluster/);
    await expect(emu.sim.request('GET', 'probe/nothing')).rejects.toThrow(/HTTP 404/);
  });

  it('tick against moto directly (unrecorded, unfaulted), on demand', async () => {
    await emu.sim.setFaults({ service: 'ecs', action: 'CreateCluster', fault: { kind: 'throttle' } });
    expect(await emu.sim.tick()).toEqual(['probe']);
    await emu.sim.clearFaults();
    const { clusterArns } = await emu.aws.ecs.send(new ListClustersCommand({}));
    expect(clusterArns?.map((a) => a.split('/').pop())).toEqual(['made-by-tick']);
    expect((await emu.sim.calls()).map((c) => c.action)).toEqual(['ListClusters']);
  });

  it('are reset with moto by sim.reset()', async () => {
    await emu.aws.autoscaling.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'asg-b', LifecycleHookName: 'drain', LifecycleActionResult: 'ABANDON', LifecycleActionToken: 't' }));
    expect(await emu.sim.request('GET', 'probe/completed')).toEqual({ completed: [{ group: 'asg-b', hook: 'drain', result: 'ABANDON' }] });
    await emu.sim.reset();
    expect(await emu.sim.request('GET', 'probe/completed')).toEqual({ completed: [] });
  });
});
