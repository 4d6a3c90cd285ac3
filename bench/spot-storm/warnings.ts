import { INTERRUPTION_WARNING_MS } from '../../common/interruption';
import type { SimControl } from '../../simulator/control-client';
import type { StackFile } from '../../stack/stack-file';

/**
 * The storm itself: one interruption warning per instance (time = now) to the router's `POST /events`
 * in arrays of 100, each instance then scheduled for termination 120 s later (simulator
 * spot-interruption), as AWS would. Returns when each instance's warning was sent, and how many
 * requests the router answered 503 and were sent again.
 */
export async function sendWarnings(stack: StackFile, sim: SimControl, instances: string[]): Promise<{ eventAt: Map<string, number>; retried503: number }> {
  const n = instances.length;
  const eventAt = new Map<string, number>();
  let retried503 = 0;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${stack.router.awsEventsToken}` };
  await Promise.all(
    Array.from({ length: Math.ceil(n / 100) }, async (_, b) => {
      const ids = instances.slice(b * 100, b * 100 + 100);
      const now = Date.now();
      const body = ids.map((id) => {
        eventAt.set(id, now);
        return {
          version: '0',
          id: `storm-${id}`,
          'detail-type': 'EC2 Spot Instance Interruption Warning',
          source: 'aws.ec2',
          account: '123456789012',
          time: new Date(now).toISOString(),
          region: stack.aws.region,
          resources: [`arn:aws:ec2:${stack.aws.region}:123456789012:instance/${id}`],
          detail: { 'instance-id': id, 'instance-action': 'terminate' },
        };
      });
      // A 503 is retried after its Retry-After, as EventBridge retries a target (the router dedupes by
      // event id), until the warnings' deadline: EventBridge would go on, but the instances are gone.
      for (;;) {
        const res = await fetch(`${stack.router.url}/events`, { method: 'POST', headers, body: JSON.stringify(body) });
        if (res.status === 202) break;
        const text = await res.text();
        if (res.status !== 503 || Date.now() - now > INTERRUPTION_WARNING_MS) throw new Error(`router answered ${res.status}: ${text}`);
        retried503 += 1;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      }
      await Promise.all(ids.map((instanceId) => sim.request('POST', 'spot-interruption/schedule', { instanceId, afterSeconds: 120 })));
    }),
  );
  return { eventAt, retried503 };
}
