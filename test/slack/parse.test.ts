import type { FleetopsConfig } from '../../config/schema';
import { CommandError, parseSlashCommand, parseThreadMention } from '../../router/slack/parse';
import { statusTarget } from '../../router/slack/commands';
import { createTestWorld } from '../../testkit/router/fixtures';

/** `/fleetops …` and `@fleetops …` text, parsed with the CLI's schemas before anything reaches Temporal. */

const world = createTestWorld();
const config: FleetopsConfig = {
  ...world.config,
  clusters: { ...world.config.clusters, other: world.config.clusters[world.cluster]! },
  services: [...world.config.services, { ...world.config.services[0]!, cluster: 'other', name: 'web' }, { ...world.config.services[0]!, cluster: 'other', name: 'api' }],
};
const problem = (text: string) => {
  try {
    parseSlashCommand(text, config);
  } catch (err) {
    if (err instanceof CommandError) return err.message;
    throw err;
  }
  throw new Error(`accepted: ${text}`);
};

test('commands and their arguments', () => {
  expect(parseSlashCommand('', config)).toEqual({ kind: 'help' });
  expect(parseSlashCommand('deploy api registry.example/api:1.2', config)).toMatchObject({ kind: 'deploy', service: { cluster: 'other', name: 'api' }, image: 'registry.example/api:1.2' });
  expect(parseSlashCommand(`deploy ${world.cluster}/web registry.example/web:2`, config)).toMatchObject({ kind: 'deploy', service: { cluster: world.cluster, name: 'web' } });
  expect(parseSlashCommand('incident sev2   Checkout  errors ', config)).toEqual({ kind: 'declare', severity: 'sev2', title: 'Checkout  errors' });
  expect(parseSlashCommand('incident note incident-x-1 rolled back at 10:02', config)).toEqual({ kind: 'note', workflowId: 'incident-x-1', text: 'rolled back at 10:02' });
  expect(parseSlashCommand('incident assign incident-x-1 commander <@U0BOB0001|bob>', config)).toEqual({ kind: 'assign', workflowId: 'incident-x-1', role: 'commander', person: 'slack:U0BOB0001' });
  expect(parseSlashCommand('incident assign incident-x-1 on-call @sre-oncall', config)).toMatchObject({ role: 'onCall', person: '@sre-oncall' });
  expect(parseSlashCommand('incident resolve incident-x-1 config reverted', config)).toEqual({ kind: 'resolve', workflowId: 'incident-x-1', text: 'config reverted' });
  expect(parseThreadMention('<@U0FLEETOPS> assign scribe <@U0CAROL01>', 'incident-x-1')).toEqual({ kind: 'assign', workflowId: 'incident-x-1', role: 'scribe', person: 'slack:U0CAROL01' });
  expect(parseThreadMention('<@U0FLEETOPS> incident note all clear', 'incident-x-1')).toEqual({ kind: 'note', workflowId: 'incident-x-1', text: 'all clear' });
});

test('what is refused, and why', () => {
  expect(problem('deploy web registry.example/web:2')).toBe(`"web" is in several clusters; name it as <cluster>/<service> (${world.cluster}/web, other/web)`);
  expect(problem('deploy nope registry.example/web:2')).toContain('no service "nope" in the config');
  expect(problem('deploy api UPPER/Case:tag')).toContain('invalid image "UPPER/Case:tag"');
  expect(problem('deploy api')).toBe('usage: /fleetops deploy <service> <image>');
  expect(problem('incident sev5 x')).toContain('invalid severity "sev5"');
  expect(problem('incident sev1')).toContain('invalid title');
  expect(problem('incident assign incident-x-1 boss <@U0BOB0001>')).toBe('role must be one of on-call, commander, scribe');
  expect(problem('incident assign incident-x-1 commander bob carol')).toContain('assign takes a role and one person');
  expect(problem('incident note incident-x-1')).toContain('invalid note text');
  expect(problem('rollback web')).toBe('unknown command "rollback"; /fleetops help lists them');
});

test('status targets: an instance is its drain, a service its deploy, anything else a workflow id', () => {
  expect(statusTarget({ config }, 'i-0123456789abcdef0')).toBe('drain-i-0123456789abcdef0');
  expect(statusTarget({ config }, 'other/api')).toBe('deploy-other-api');
  expect(statusTarget({ config }, 'api')).toBe('deploy-other-api');
  expect(statusTarget({ config }, 'capacity-demo')).toBe('capacity-demo');
  expect(statusTarget({ config }, 'web')).toBe('web');
});
