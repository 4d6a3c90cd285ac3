import { TEAM } from './slack-requests';

/**
 * The local stack's Slack workspace, as its Web API stand-in (stack/slack-stand-in.ts) knows it: the
 * channels the demo config posts to, three people, and a user group whose members may approve
 * deploys of demo/web (Carol), besides Bob by name. Alice deploys demo/web (the only deployer); she
 * cannot approve her own. All three may work incidents from Slack (responders).
 */
export const DEMO_SLACK = {
  team: TEAM,
  channels: { deploys: 'C0DEPLOYS', incidents: 'C0INCIDENT', ops: 'C0OPS0001' },
  people: { alice: 'U0ALICE01', bob: 'U0BOB0001', carol: 'U0CAROL01' },
  approverGroup: 'S0RELEASE',
  /** Who stack.json names as the demo's deployer and approver of demo/web. */
  users: { deployer: 'U0ALICE01', approver: 'U0BOB0001' },
} as const;

export function demoSlackWorkspace(botToken: string) {
  const members = Object.values(DEMO_SLACK.people);
  return {
    botToken,
    team: DEMO_SLACK.team,
    channels: Object.fromEntries(Object.values(DEMO_SLACK.channels).map((c) => [c, { members: [...members] }])),
    usergroups: { [DEMO_SLACK.approverGroup]: [DEMO_SLACK.people.carol] },
  };
}

/** The `slack` section the stack renders into its config (secrets as files beside it). */
export function demoSlackSection(opts: { apiUrl: string; signingSecretFile: string; botTokenFile: string }) {
  return {
    signingSecretFile: opts.signingSecretFile,
    botTokenFile: opts.botTokenFile,
    teamId: DEMO_SLACK.team.id,
    apiUrl: opts.apiUrl,
    channels: { deploys: DEMO_SLACK.channels.deploys, incidents: DEMO_SLACK.channels.incidents },
    approvers: { 'demo/web': { users: [DEMO_SLACK.people.bob], groups: [DEMO_SLACK.approverGroup] } },
    deployers: { 'demo/web': { users: [DEMO_SLACK.users.deployer] } },
    responders: { users: Object.values(DEMO_SLACK.people) },
  };
}

/**
 * The demo's `people`: Alice, Bob and Carol by their Slack ids, and whoever runs `make up` (their OS
 * user, the CLI's identity `cli:<user>`) is Bob, an approver of demo/web: `fleetops approve` passes its
 * gate, and `fleetops deploy` is Bob's request, which Bob then cannot approve in Slack. A user name the
 * config cannot take as a CLI identity is left out (the CLI then approves as nobody listed).
 */
export function demoPeople(osUser: string): Record<string, { slack: string[]; cli?: string[] }> {
  const cli = /^[a-z_][a-z0-9_.-]{0,31}$/i.test(osUser) ? { cli: [osUser] } : {};
  return {
    alice: { slack: [DEMO_SLACK.people.alice] },
    bob: { slack: [DEMO_SLACK.people.bob], ...cli },
    carol: { slack: [DEMO_SLACK.people.carol] },
  };
}
