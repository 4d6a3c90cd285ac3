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
const problem = (text: string, at?: Date) => {
  try {
    parseSlashCommand(text, config, at);
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
  expect(problem('deploy api')).toMatch(/^usage: \/fleetops deploy <service> <image>, or deploy <service> <image> after the image: at/);
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

const now = new Date('2030-06-01T00:00:00Z');

test('scheduled deploys: at a time with its zone, or a cron expression (quoted, a shorthand or five bare fields) with its zone; the service also as <cluster> <name>', () => {
  expect(parseSlashCommand('deploy api registry.example/api:2 at 2030-06-01T14:00+09:00', config, now)).toMatchObject({
    kind: 'schedule-deploy',
    service: { cluster: 'other', name: 'api' },
    image: 'registry.example/api:2',
    when: { at: new Date('2030-06-01T05:00:00Z') },
  });
  expect(parseSlashCommand('deploy other web registry.example/web:2 cron "0 14 * * FRI" timezone Asia/Tokyo name fridays', config, now)).toMatchObject({
    kind: 'schedule-deploy',
    service: { cluster: 'other', name: 'web' },
    when: { cron: '0 14 * * FRI', timezone: 'Asia/Tokyo' },
    name: 'fridays',
  });
  expect(parseSlashCommand('deploy other/web registry.example/web:2 cron “30 3 * * *”', config, now)).toMatchObject({ when: { cron: '30 3 * * *' } });
  expect(parseSlashCommand('deploy other/web registry.example/web:2 cron 30 3 * * 1-5 name weekdays', config, now)).toMatchObject({ when: { cron: '30 3 * * 1-5' }, name: 'weekdays' });
  expect(parseSlashCommand('deploy other web registry.example/web:2', config, now)).toMatchObject({ kind: 'deploy', service: { cluster: 'other', name: 'web' } });
  expect(parseSlashCommand('deploy other/web registry.example/web:2 cron @daily', config, now)).toMatchObject({ when: { cron: '@daily' } });

  expect(problem('deploy api registry.example/api:2 at 2030-06-01T14:00', now)).toContain('invalid at "2030-06-01T14:00": must be an ISO 8601 time with its zone');
  expect(problem('deploy api registry.example/api:2 at 2030-05-31T23:00Z', now)).toContain('is not in the future');
  expect(problem('deploy api registry.example/api:2 at 2030-06-02T00:00Z cron @daily', now)).toContain('give one of at or cron');
  expect(problem('deploy api registry.example/api:2 at 2030-06-02T00:00Z timezone UTC', now)).toContain('timezone is for cron');
  expect(problem('deploy api registry.example/api:2 cron "0 14 * *"', now)).toContain('must be five fields');
  expect(problem('deploy api registry.example/api:2 cron @daily timezone Mars/Olympus', now)).toContain('is not an IANA time zone');
  expect(problem('deploy api registry.example/api:2 cron @daily name Fridays!', now)).toContain('invalid name');
  expect(problem('deploy api registry.example/api:2 cron @daily when now', now)).toContain('unexpected "when"');
});

test('readiness windows: add, list, change, cancel, and what is refused', () => {
  expect(parseSlashCommand(`readiness add ${world.cluster} other level 3 from 2030-11-28T20:00+09:00 to 2030-11-28T23:00+09:00 timezone Asia/Tokyo id tv reason TV spot  at 21:00`, config)).toEqual({
    kind: 'readiness-add',
    clusters: [world.cluster, 'other'],
    level: 3,
    start: '2030-11-28T11:00:00.000Z',
    end: '2030-11-28T14:00:00.000Z',
    timeZone: 'Asia/Tokyo',
    id: 'tv',
    reason: 'TV spot  at 21:00',
  });
  expect(parseSlashCommand('readiness list', config)).toEqual({ kind: 'readiness-list' });
  expect(parseSlashCommand('readiness list other', config)).toEqual({ kind: 'readiness-list', cluster: 'other' });
  expect(parseSlashCommand('readiness change readiness-other-tv level 2 to 2030-11-29T00:00Z reason the reason moved', config)).toEqual({
    kind: 'readiness-change',
    workflowId: 'readiness-other-tv',
    level: 2,
    end: '2030-11-29T00:00:00.000Z',
    reason: 'the reason moved',
  });
  expect(parseSlashCommand('readiness cancel readiness-other-tv campaign moved', config)).toEqual({ kind: 'readiness-cancel', workflowId: 'readiness-other-tv', reason: 'campaign moved' });
  expect(parseSlashCommand('readiness cancel readiness-other-tv', config)).toEqual({ kind: 'readiness-cancel', workflowId: 'readiness-other-tv' });
  expect(parseSlashCommand('schedules', config)).toEqual({ kind: 'schedules' });
  expect(parseSlashCommand('schedules cancel deploy-schedule-other-web-1', config)).toEqual({ kind: 'schedule-cancel', scheduleId: 'deploy-schedule-other-web-1' });

  expect(problem('readiness add other level 3 from 2030-11-28T20:00 to 2030-11-28T23:00Z reason x')).toContain('invalid from "2030-11-28T20:00": must be an ISO 8601 time with its zone');
  expect(problem('readiness add other level x from 2030-11-28T20:00Z to 2030-11-28T23:00Z reason x')).toContain('invalid level "x": must be a level number');
  expect(problem('readiness add other level 3 from 2030-11-28T20:00Z reason x')).toMatch(/^usage: \/fleetops readiness add/);
  expect(problem('readiness add other level 3 from 2030-11-28T20:00Z to 2030-11-28T23:00Z')).toMatch(/^usage: \/fleetops readiness add/);
  expect(problem('readiness add other level 3 level 4 from 2030-11-28T20:00Z to 2030-11-28T23:00Z reason x')).toContain('"level" given twice');
  expect(problem('readiness change readiness-other-tv')).toContain('give at least one of level, from, to, reason');
  expect(problem('readiness cancel deploy-other-web')).toContain('is not a readiness window');
  expect(problem('readiness drop x')).toMatch(/^usage: \/fleetops readiness add/);
  expect(problem('schedules cancel')).toContain('usage: /fleetops schedules');
  expect(problem('schedules cancel a b')).toContain('usage: /fleetops schedules');
});

test('release commands: a selector with one image, wave sizes and a change last; controls by id or workflow id', () => {
  expect(parseSlashCommand('release start base-1 image registry.example/web:2 cluster other services w* tag team=web waves 1,25%,100% change base image 2', config)).toEqual({
    kind: 'release-start',
    id: 'base-1',
    selector: { image: 'registry.example/web:2', cluster: 'other', service: 'w*', tag: 'team=web' },
    waves: [1, '25%', '100%'],
    change: 'base image 2',
  });
  expect(parseSlashCommand('release approve release-base-1 wave 2', config)).toEqual({ kind: 'release-approve', id: 'base-1', wave: 2 });
  expect(parseSlashCommand('release skip base-1 other/web', config)).toEqual({ kind: 'release-skip', id: 'base-1', service: 'other/web' });
  expect(parseSlashCommand('release rollback base-1 5xx on checkout', config)).toEqual({ kind: 'release-rollback', id: 'base-1', reason: '5xx on checkout' });
  expect(problem('release start base-1 cluster other')).toContain('usage: /fleetops release start');
  expect(problem('release start base-1 image registry.example/web:2 waves 0%')).toContain('invalid waves[0]');
  expect(problem('release start base-1 image registry.example/web:2 image x')).toContain('given twice');
  expect(problem('release rollback base-1')).toContain('usage: /fleetops release rollback <id> <reason>');
  expect(problem('release start bad/id image registry.example/web:2')).toContain('invalid release id');
});
