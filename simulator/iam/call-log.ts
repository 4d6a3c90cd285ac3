/**
 * The record of the product's AWS calls for the IAM proof (scripts/iam/check-aws-calls.ts). When
 * FLEETOPS_AWS_CALL_LOG_DIR is set (make test sets it per run), every distinct call a fleetops
 * process makes (its SDK app id in the User-Agent: common/aws-app-ids.ts) is appended to
 * `<dir>/calls-<pid>.jsonl` with what AWS authorises for it (simulator/iam/authorisations.ts). Test
 * seeding, harness clients and the simulator's own behaviours carry no fleetops app id and are not
 * recorded. A call with no entry in the table is recorded as `unmapped`, so the check fails on it.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { principalOfUserAgent, type AwsPrincipal } from '../../common/aws-app-ids';
import type { Logger } from '../../common/logger';
import { AUTHORISATIONS, isProductAction, type Authorisation } from './authorisations';
import { motoLookup, type Lookup } from './lookup';

export const CALL_LOG_DIR_ENV = 'FLEETOPS_AWS_CALL_LOG_DIR';

export interface LoggedCall {
  principal: AwsPrincipal;
  account: string;
  region: string;
  /** `<iam service prefix>:<Action>` as the code calls it. */
  call: string;
  authorisations: Authorisation[];
  /** No entry in the authorisation table: the proof cannot evaluate this call. */
  unmapped?: true;
  /**
   * The emulator refused it as AWS would (AccessDenied from a behaviour that decides access, such as
   * STS's trust policy check): the test expects the refusal, so the proof does not require it allowed.
   */
  refused?: true;
}

/** Signing names that differ from the IAM service prefix. */
const IAM_PREFIX: Record<string, string> = { monitoring: 'cloudwatch', 'elasticloadbalancingv2': 'elasticloadbalancing' };

export interface CallToLog {
  service: string;
  action: string;
  region: string;
  account: string;
  params: Record<string, unknown>;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** Module-wide: several simulators in one process write one file, each distinct call once. */
const seen = new Set<string>();

export class CallLog {
  private readonly lookup: Lookup;

  private constructor(
    private readonly file: string,
    motoUrl: string,
    private readonly log: Logger,
  ) {
    this.lookup = motoLookup(motoUrl);
  }

  /** A log when the env asks for one, else undefined. */
  static fromEnv(motoUrl: string, log: Logger, env: NodeJS.ProcessEnv = process.env): CallLog | undefined {
    const dir = env[CALL_LOG_DIR_ENV];
    if (!dir) return undefined;
    mkdirSync(dir, { recursive: true });
    return new CallLog(join(dir, `calls-${process.pid}.jsonl`), motoUrl, log);
  }

  /**
   * What AWS authorises for the call if a fleetops process made it, read before the call runs (a
   * terminated instance keeps its tags, a deleted service does not); never fails the call itself.
   */
  async prepare(call: CallToLog): Promise<LoggedCall | undefined> {
    const ua = [call.headers['x-amz-user-agent'], call.headers['user-agent']].filter(Boolean).join(' ');
    const principal = principalOfUserAgent(ua);
    if (!principal) return;
    try {
      const { name, params } = iamCallOf(call);
      const base = { principal, account: call.account, region: call.region, call: name };
      return isProductAction(name)
        ? { ...base, authorisations: await AUTHORISATIONS[name]({ params, account: call.account, region: call.region }, this.lookup) }
        : { ...base, authorisations: [], unmapped: true };
    } catch (err) {
      this.log.warn({ err, action: call.action }, 'IAM call log: could not record a call');
      return undefined;
    }
  }

  /** Appends a prepared call once it has been answered, each distinct call once. */
  write(entry: LoggedCall, answer: { refused: boolean }): void {
    const line = JSON.stringify(answer.refused ? { ...entry, refused: true } : entry);
    if (seen.has(line)) return;
    seen.add(line);
    try {
      appendFileSync(this.file, `${line}\n`);
    } catch (err) {
      this.log.warn({ err, call: entry.call }, 'IAM call log: could not write a call');
    }
  }

  close(): void {
    this.lookup.destroy();
  }
}

/** The IAM name of a call, and its parameters (S3's REST calls named from method and path). */
function iamCallOf(call: CallToLog): { name: string; params: Record<string, unknown> } {
  const prefix = IAM_PREFIX[call.service] ?? call.service;
  if (prefix === 's3' && call.method === 'PUT') {
    const [bucket = '', ...key] = decodeURIComponent(call.url.split('?')[0]!).replace(/^\//, '').split('/');
    return { name: 's3:PutObject', params: { Bucket: bucket, Key: key.join('/') } };
  }
  return { name: `${prefix}:${call.action}`, params: call.params };
}
