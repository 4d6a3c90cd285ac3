import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { PublishedEvent } from '../../simulator/events';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The simulator publishes what AWS itself would put on EventBridge, on the default bus in moto, where
 * the account's rules decide what reaches a queue. Rules are made here with EventBridge's JSON
 * protocol against moto (the AWS-side kit makes them with CloudFormation in the stack).
 */

jest.setTimeout(60_000);

const emu = useEmulator(() => startEmulator(), { resetEach: false });

async function events(target: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(emu.motoUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${target}`,
      // moto tells services apart by the credential scope, as AWS tells them by endpoint.
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

it('publishes on the default bus: a matching rule delivers the envelope to its SQS target, a near miss does not', async () => {
  const queue = await emu.aws.sqs.send(new CreateQueueCommand({ QueueName: 'events' }));
  const attrs = await emu.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }));
  await events('PutRule', {
    Name: 'spot-warnings',
    EventPattern: JSON.stringify({ source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] }),
  });
  await events('PutTargets', { Rule: 'spot-warnings', Targets: [{ Id: 'queue', Arn: attrs.Attributes!.QueueArn }] });

  const { event } = await emu.sim.request<{ event: PublishedEvent }>('POST', 'events', {
    source: 'aws.ec2',
    detailType: 'EC2 Spot Instance Interruption Warning',
    detail: { 'instance-id': 'i-0123456789abcdef0', 'instance-action': 'terminate' },
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0'],
  });
  expect(event).toMatchObject({ delivered: true, version: '0', account: '123456789012', region: 'us-east-1' });
  expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  await emu.sim.request('POST', 'events', { source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation', detail: { 'instance-id': 'i-0123456789abcdef0' } });

  const got = await emu.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  const bodies = (got.Messages ?? []).map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
  expect(bodies).toEqual([
    expect.objectContaining({
      version: '0',
      id: event.id,
      account: '123456789012',
      region: 'us-east-1',
      time: event.time,
      source: 'aws.ec2',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      detail: { 'instance-id': 'i-0123456789abcdef0', 'instance-action': 'terminate' },
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0'],
    }),
  ]);

  const { events: recorded } = await emu.sim.request<{ events: PublishedEvent[] }>('GET', 'events');
  expect(recorded.map((e) => e['detail-type'])).toEqual(['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation']);
  await emu.reset();
  expect((await emu.sim.request<{ events: PublishedEvent[] }>('GET', 'events')).events).toEqual([]);
});

it('refuses a malformed request to publish with 400 naming the field', async () => {
  await expect(emu.sim.request('POST', 'events', { source: 'aws.ec2', detail: {} })).rejects.toThrow(/detailType/);
});
