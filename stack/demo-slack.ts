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

/** The `people` section: the demo's three, by their Slack ids (config/people.ts). */
export function demoPeople(): Record<string, { slack: string[] }> {
  return Object.fromEntries(Object.entries(DEMO_SLACK.people).map(([name, id]) => [name, { slack: [id] }]));
}
