import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type Service } from '@aws-sdk/client-ecs';
import { DescribeRulesCommand, DescribeListenersCommand, DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Client, Connection } from '@temporalio/client';
import type { AwsClients } from '../../activities/aws/clients';
import { FleetopsKind } from '../../common/search-attributes';
import { deployWorkflowId, releaseWorkflowId } from '../../common/workflow-ids';
import { statusQuery } from '../../contracts/controls';
import type { DeployResult } from '../../contracts/canary-deploy/messages';
import { TERMINAL_RELEASE_PHASES, type ReleaseResult, type ReleaseStatus } from '../../contracts/release/messages';
import type { SimControl } from '../../simulator/control-client';
import { DEMO } from '../../stack/demo-seed/demo';
import { SHOP } from '../../stack/demo-seed/shop';
import { until } from '../../testkit/poll';
import { STACK_READY_TIMEOUT_MS, type LocalStack } from '../../testkit/local-stack';
import { cliProcess, type CliRun } from '../cli/helpers';
import { closeStack, openStack } from '../harness/local-stack';

/**
 * A release end to end on the local stack (`make up` on free ports): one new image for shop's six
 * services (stack/demo-seed/shop.ts), in waves of 1, 2 and the rest, each service a child canary
 * deploy run by the stack's worker against the AWS emulator. A release pipeline asks for it through
 * the router's HTTP API with the stack's token (stack.json), so its requester is `token:default`; the
 * operator, the OS user running bin/fleetops (`cli:<user>`), approves each wave, reads the halt, and
 * skips the service that failed, as docs/operating.md ("Releases") tells an operator to.
 *
 * One service of wave 2 gets a revision whose tasks exit at once (the simulator's failing revision,
 * matched on its new task definition only): its canary rolls back, the release halts with what was
 * promoted and what rolled back and why; the skip lifts the halt and wave 3 runs to the end. AWS and
 * Temporal are read afterwards.
 *
 * Kept short, since the whole file shares `make test`'s budget: shop's plan is the shortest the schema
 * allows (config/demo.fleetops.yaml), the waves' deploys run side by side, every approval goes in as
 * soon as the wave's summary is there, and the release's status is read with the SDK (one query, no
 * process start) except where the operator looks at it.
 */

jest.setTimeout(STACK_READY_TIMEOUT_MS + 60_000);

const OPERATOR = `cli:${userInfo().username}`;
const RELEASE = `shop-${randomUUID().slice(0, 8)}`;
const IMAGE = 'public.ecr.aws/nginx/nginx:1.28.0';
/** Wave 2 is catalog and checkout (config order); checkout's new revision fails. */
const FAILING = 'checkout';
const SCENARIO_BUDGET_MS = 60_000;

let local: LocalStack;
let aws: AwsClients;
let sim: SimControl;
let connection: Connection;
let client: Client;
const figures: string[] = [];

function figure(line: string): void {
  figures.push(line);
  process.stdout.write(`[e2e release] ${line}\n`);
}

beforeAll(async () => {
  ({ local, aws, sim, connection, client } = await openStack());
  figure(`stack ready in ${local.readyMs} ms`);
});

afterAll(async () => {
  const stopMs = await closeStack({ local, aws, connection });
  if (stopMs !== undefined) figure(`stack stopped in ${stopMs} ms`);
  if (figures.length) process.stdout.write(`[e2e release] summary:\n  ${figures.join('\n  ')}\n`);
});

/** bin/fleetops as the operator runs it, against the stack's Temporal. */
function fleetops(args: string[]): Promise<CliRun> {
  return cliProcess([...args, '--address', local.stack.temporal.address, '--namespace', local.stack.temporal.namespace]);
}

async function fleetopsOk(args: string[]): Promise<string> {
  const r = await fleetops(args);
  if (r.code !== 0) throw new Error(`fleetops ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const status = async (): Promise<ReleaseStatus> => (await client.workflow.getHandle(releaseWorkflowId(RELEASE)).query(statusQuery)) as ReleaseStatus;

/** Polls the release until `done` holds; a release that ends first fails the test at once. */
async function untilRelease(what: string, done: (s: ReleaseStatus) => boolean): Promise<ReleaseStatus> {
  return until(
    what,
    async () => {
      const s = await status().catch(() => undefined);
      if (!s) return undefined;
      if (done(s)) return s;
      if (TERMINAL_RELEASE_PHASES.includes(s.phase)) throw new Error(`release ended ${s.phase} while waiting for ${what}: ${s.summary}`);
      return undefined;
    },
    { timeoutMs: SCENARIO_BUDGET_MS, intervalMs: 200, failOnError: true },
  );
}

async function shopServices(): Promise<Map<string, Service>> {
  const out = await aws.ecs.send(new DescribeServicesCommand({ cluster: SHOP.cluster, services: [...SHOP.services] }));
  return new Map((out.services ?? []).map((s) => [s.serviceName!, s]));
}

/** The demo's listener rules, as ELB reads them back: shop's canaries must leave every rule as it was. */
async function listenerRules(): Promise<unknown> {
  const lb = (await aws.elbv2.send(new DescribeLoadBalancersCommand({ Names: [DEMO.loadBalancer] }))).LoadBalancers![0]!;
  const listeners = (await aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? [];
  return Promise.all(listeners.map(async (l) => (await aws.elbv2.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }))).Rules));
}

async function postRelease(detail: Record<string, unknown>): Promise<{ action: string; workflowId: string | null }> {
  const event = { version: '0', id: randomUUID(), 'detail-type': 'Release Requested', source: 'fleetops', account: '123456789012', time: new Date().toISOString(), region: local.stack.aws.region, resources: [], detail };
  const res = await fetch(`${local.stack.router.url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${local.stack.router.token}` },
    body: JSON.stringify(event),
  });
  const body = (await res.json()) as { results?: { action: string; workflowId: string | null }[]; error?: string };
  expect({ status: res.status, error: body.error }).toEqual({ status: 202, error: undefined });
  return body.results![0]!;
}

/** How long a deploy spent in each phase it entered, from its own decisions (`enter <phase>`), start to close. */
function phaseSeconds(startMs: number, deploy: DeployResult, closeMs = Date.now()): string {
  const entered = deploy.decisions.filter((d) => d.decision.startsWith('enter ')).map((d) => ({ phase: d.decision.slice('enter '.length), at: Date.parse(d.at) }));
  const marks = [{ phase: 'preflight', at: startMs }, ...entered];
  return marks
    .slice(0, -1)
    .map((m, i) => `${m.phase} ${((marks[i + 1]!.at - m.at) / 1000).toFixed(1)}`)
    .concat(`→ ${marks.at(-1)!.phase} at ${((marks.at(-1)!.at - startMs) / 1000).toFixed(1)}, closed ${((closeMs - startMs) / 1000).toFixed(1)}`)
    .join(', ');
}

describe('a release across shop on the local stack', () => {
  test('three waves through the router and bin/fleetops: a canary fails in wave 2, the release halts, the operator skips it, the rest is promoted', async () => {
    const workflowId = releaseWorkflowId(RELEASE);
    const before = await until('shop to be steady', async () => {
      const m = await shopServices();
      return [...m.values()].every((s) => s.runningCount === s.desiredCount && s.deployments?.length === 1 && s.deployments[0]!.rolloutState === 'COMPLETED') && m.size === SHOP.services.length
        ? m
        : undefined;
    });
    const rulesBefore = await listenerRules();
    // The simulator fails the tasks of checkout's next revision only (its family and number): its stable keeps running.
    const stableFailing = before.get(FAILING)!.taskDefinition!;
    const [family, revision] = stableFailing.slice(stableFailing.lastIndexOf('/') + 1).split(':');
    await sim.request('POST', 'ecs-deployments/failing-revisions', { match: `task-definition/${family}:${Number(revision) + 1}` });

    const t0 = Date.now();
    const started = await postRelease({ id: RELEASE, change: 'nginx 1.28.0 for shop', selector: { cluster: SHOP.cluster, image: IMAGE }, waves: [1, 2, '100%'], maxConcurrent: 3 });
    expect(started).toEqual(expect.objectContaining({ action: 'started', workflowId }));
    const marks: Record<string, number> = {};
    const mark = (k: string) => (marks[k] = Date.now() - t0);

    // Wave 1 (cart), approved the moment it waits.
    const w1 = await untilRelease('wave 1 to wait for its approval', (s) => s.phase === 'awaiting-approval' && s.wave.current === 1);
    expect(w1.services.map((s) => [s.service, s.wave])).toEqual(SHOP.services.map((name, i) => [name, i === 0 ? 1 : i < 3 ? 2 : 3]));
    mark('wave 1 waits');
    expect(await fleetopsOk(['release', 'approve', RELEASE, '--wave', '1', '--reason', 'e2e: canary wave'])).toContain(`${workflowId}: approve accepted`);
    mark('wave 1 approved');

    const w2 = await untilRelease('wave 2 to wait for its approval', (s) => s.phase === 'awaiting-approval' && s.wave.current === 2);
    expect(w2.lastWave).toMatchObject({ wave: 1, size: 1, approvedBy: OPERATOR, promoted: ['shop/cart'], rolledBack: [], failed: [] });
    mark('wave 1 over');
    await fleetopsOk(['release', 'approve', RELEASE, '--wave', '2']);
    mark('wave 2 approved');

    // Wave 2: checkout's canary fails and rolls back, which halts the release; catalog runs to its promotion.
    const halted = await untilRelease('the release to halt with catalog promoted', (s) => s.phase === 'halted' && s.services.find((x) => x.service === 'catalog')!.state === 'promoted');
    mark('wave 2 halted');
    const failed = halted.services.find((x) => x.service === FAILING)!;
    expect(failed).toMatchObject({ state: 'rolled-back', outcome: 'rolled-back', workflowId: deployWorkflowId(SHOP.cluster, FAILING), previousTaskDefinition: stableFailing });
    expect(failed.reason).toMatch(/^rolled back: (canary deployment FAILED: ECS deployment circuit breaker|checkout-canary is not serving: \d+ canary task\(s\) stopped: EssentialContainerExited)/);
    expect(halted.halted?.reason).toBe(`wave 2: 1 failed (budget 0): shop/${FAILING} rolled-back: ${failed.reason}`);
    expect(halted.counts).toMatchObject({ promoted: 2, 'rolled-back': 1, pending: 3 });

    // What the operator sees: halted, what promoted, what rolled back and why.
    const shown = await fleetopsOk(['release', 'status', RELEASE]);
    expect(shown).toContain('  phase:    halted');
    expect(shown).toContain('  wave:     2 of 3');
    expect(shown).toContain('  services: pending 3, promoted 2, rolled-back 1');
    expect(shown).toContain('  wave 2:   1 promoted, 1 rolled back, 0 failed, 0 skipped of 2');
    expect(shown).toContain(`  halted:   ${halted.halted!.reason}`);
    expect(shown).toContain(`    shop/${FAILING}: rolled-back (${failed.workflowId}): ${failed.reason}`);

    // Skipping it brings wave 2 back within its budget: the halt lifts and wave 3 waits for its approval.
    const skipped = await fleetopsOk(['release', 'skip', RELEASE, `shop/${FAILING}`, '--reason', 'e2e: 1.28 crashes checkout; fixed in its own release']);
    expect(skipped).toContain(`${workflowId}: skip shop/${FAILING} accepted`);
    mark('skipped');
    const w3 = await untilRelease('wave 3 to wait for its approval', (s) => s.phase === 'awaiting-approval' && s.wave.current === 3);
    expect(w3.halted).toBeUndefined();
    expect(w3.lastWave).toMatchObject({ wave: 2, promoted: ['shop/catalog'], rolledBack: [], skipped: [{ service: `shop/${FAILING}` }] });
    expect(w3.lastWave!.skipped[0]!.reason).toBe(`skipped by ${OPERATOR}: e2e: 1.28 crashes checkout; fixed in its own release (was rolled-back: ${failed.reason})`);
    await fleetopsOk(['release', 'approve', RELEASE, '--wave', '3']);
    mark('wave 3 approved');

    const result = (await client.workflow.getHandle(workflowId).result()) as ReleaseResult;
    mark('completed');
    expect(result).toMatchObject({ outcome: 'completed', counts: { promoted: 5, skipped: 1, 'rolled-back': 0, failed: 0, pending: 0 } });

    // AWS: each promoted service runs its new revision (the image, nothing else changed) with running = desired
    // and one completed deployment; checkout stays on its revision; no canary service is left.
    const after = await shopServices();
    for (const svc of result.services) {
      const ecs = after.get(svc.service)!;
      const was = before.get(svc.service)!;
      expect({ service: svc.service, desired: ecs.desiredCount, running: ecs.runningCount }).toEqual({ service: svc.service, desired: was.desiredCount, running: was.desiredCount });
      expect(ecs.deployments?.map((d) => [d.status, d.rolloutState])).toEqual([['PRIMARY', 'COMPLETED']]);
      if (svc.service === FAILING) {
        expect(ecs.taskDefinition).toBe(stableFailing);
        continue;
      }
      expect(svc).toMatchObject({ state: 'promoted', previousTaskDefinition: was.taskDefinition, taskDefinition: ecs.taskDefinition });
      const td = (await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ecs.taskDefinition }))).taskDefinition!;
      expect(td.containerDefinitions?.map((c) => [c.name, c.image])).toEqual([[svc.service, IMAGE]]);
    }
    const canaries = await aws.ecs.send(new DescribeServicesCommand({ cluster: SHOP.cluster, services: SHOP.services.map((s) => `${s}-canary`) }));
    expect((canaries.services ?? []).filter((s) => s.status !== 'INACTIVE').map((s) => s.serviceName)).toEqual([]);
    // shop's canaries share no listener rule (no load balancer: weights approximated by size), and left every rule as it was.
    expect(await listenerRules()).toEqual(rulesBefore);

    // Temporal: the release (FleetopsKind release) and its six deploys, each started as its child.
    const described = await client.workflow.getHandle(workflowId).describe();
    expect(described.typedSearchAttributes.get(FleetopsKind)).toBe('release');
    const children: string[] = [];
    for await (const w of client.workflow.list({ query: `ParentWorkflowId = '${workflowId}'` })) children.push(w.workflowId);
    expect(children.sort()).toEqual(SHOP.services.map((s) => deployWorkflowId(SHOP.cluster, s)).sort());
    const phases: string[] = [];
    for (const svc of result.services) {
      const child = await client.workflow.getHandle(svc.workflowId!, svc.runId).describe();
      expect({ parent: child.parentExecution?.workflowId, kind: child.typedSearchAttributes.get(FleetopsKind) }).toEqual({ parent: workflowId, kind: 'deploy' });
      const deploy = (await client.workflow.getHandle(svc.workflowId!, svc.runId).result()) as DeployResult;
      expect(deploy.outcome).toBe(svc.service === FAILING ? 'rolled-back' : 'promoted');
      // The wave's approval passed the deploy's gate.
      if (svc.service !== FAILING) expect(deploy.decisions.find((d) => d.decision === 'approve')?.reason).toBe(`gate passed: wave ${svc.wave} of ${workflowId} approved by ${OPERATOR}${svc.wave === 1 ? ': e2e: canary wave' : ''}`);
      phases.push(`${svc.service} ${phaseSeconds(child.startTime.getTime(), deploy, child.closeTime?.getTime())}`);
    }

    const steps = Object.entries(marks).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ');
    figure(`release ${RELEASE} (6 services, waves 1/2/3): request → ${steps}`);
    figure(`each deploy, seconds per phase: ${phases.join('; ')}`);
  });
});
