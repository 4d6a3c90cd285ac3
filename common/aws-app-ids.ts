/**
 * The SDK app id (`userAgentAppId`, sent as `app/<id>` in the User-Agent) of each fleetops process's
 * AWS clients. Harmless on real AWS (it shows in CloudTrail's userAgent); the simulator reads it to
 * tell the product's calls from test seeding and harness calls, and records them with the principal
 * whose role must allow them (simulator/iam/call-log.ts, scripts/iam/check-aws-calls.ts).
 */
export const AWS_APP_IDS = { worker: 'fleetops-worker', router: 'fleetops-router', cli: 'fleetops-cli' } as const;
export type AwsPrincipal = keyof typeof AWS_APP_IDS;

/** The fleetops principal a User-Agent header names, if any. */
export function principalOfUserAgent(userAgent: string | undefined): AwsPrincipal | undefined {
  const id = /(?:^|\s)app\/(fleetops-[a-z]+)/.exec(userAgent ?? '')?.[1];
  return (Object.keys(AWS_APP_IDS) as AwsPrincipal[]).find((p) => AWS_APP_IDS[p] === id);
}
