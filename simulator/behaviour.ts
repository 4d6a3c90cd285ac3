import type { IncomingHttpHeaders } from 'node:http';
import type { AwsClients } from '../activities/aws/clients';
import type { Logger } from '../common/logger';
import type { EventPublisher } from './events';
import type { CallIdentity, SimResponse } from './protocol';

/**
 * Behaviour modules add what moto lacks (an ECS scheduler that moves tasks off DRAINING instances,
 * ASG lifecycle actions, capacity errors, deployments...). One module per file in
 * simulator/behaviours/, registered in simulator/behaviours/index.ts. A module owns its state and
 * its control routes under `/_sim/<name>/...`, and `reset()` returns it to its initial state
 * (`POST /_sim/reset` calls it after resetting moto).
 *
 * Order per AWS call: fault rules and rate limits first (a fault never reaches a behaviour), then each
 * behaviour's `intercept` in registry order (the first response wins and moto is not called), else
 * moto; then every behaviour's `afterResponse` in registry order, each seeing the previous result.
 * Response helpers that speak each wire protocol: `awsSuccessResponse` and `awsErrorResponse` in
 * simulator/protocol.ts.
 */

export interface SimRequest extends CallIdentity {
  /** The account the call acts in (simulator/session-accounts.ts): moto's default, or an assumed role's. */
  account: string;
  method: string;
  /** Path and query string as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface BehaviourContext {
  /** moto's own URL: calls made here bypass the simulator (no faults, no record). */
  motoUrl: string;
  /** SDK clients pointed at moto, one set per region (created on first use, destroyed on close). */
  aws(region?: string): AwsClients;
  /** Publishes what AWS itself would put on EventBridge (simulator/events.ts). */
  events: EventPublisher;
  log: Logger;
}

export interface BehaviourRouteRequest {
  method: string;
  /** The path below `/_sim/<name>`, e.g. `/tasks` for `/_sim/ecs-scheduler/tasks`; `/` for the root. */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body (undefined when empty); validate it with zod. */
  body: unknown;
}

export interface BehaviourRouteResponse {
  status: number;
  body: unknown;
}

export interface Behaviour {
  /** Route prefix and log name: lower-case, `[a-z0-9-]+`, not a built-in route (faults, calls...). */
  readonly name: string;
  /**
   * Behaviours model moto's default account (their own state and `ctx.aws()` live there): calls made
   * in another account (credentials from an AssumeRole into it) get moto's own answers, and only the
   * behaviours that set this.
   */
  readonly allAccounts?: boolean;
  /** Answer the call instead of moto; return undefined to let it through. */
  intercept?(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse | undefined> | SimResponse | undefined;
  /** Observe or replace the response moto (or an intercepting behaviour) gave. */
  afterResponse?(req: SimRequest, res: SimResponse, ctx: BehaviourContext): Promise<SimResponse | void> | SimResponse | void;
  /**
   * Periodic work against moto state. Runs every `intervalMs` while the simulator runs (never two at
   * once for one module), and on demand through `POST /_sim/tick` so tests need not wait.
   */
  tick?: { intervalMs: number; run(ctx: BehaviourContext): Promise<void> };
  /** Handle `/_sim/<name>/...`; return undefined for 404. */
  route?(req: BehaviourRouteRequest, ctx: BehaviourContext): Promise<BehaviourRouteResponse | undefined> | BehaviourRouteResponse | undefined;
  reset(): Promise<void> | void;
}

/** Behaviours are created per simulator instance, so parallel test suites never share state. */
export type BehaviourFactory = () => Behaviour;
