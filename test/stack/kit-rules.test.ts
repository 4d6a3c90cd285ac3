import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { EVENT_KINDS } from '../../router/events';
import { defineEventKind, type EventKindDefinition } from '../../router/events/kind';
import { ignore } from '../../router/routing/decision';
import { EVENTS_KIT_TEMPLATE, MEMBER_KIT_TEMPLATE } from '../../stack/events-kit';
import { generateKit, kindRules, staleness, type KitTemplate } from '../../stack/kit-rules';
import { ROOT } from '../../testkit/paths';

/**
 * The EventBridge rules of both kit templates, and the queue policies' lists of them, are generated
 * from the event kinds (router/events/; stack/kit-rules.ts). The committed templates must be what
 * the kinds generate now: a kind added or changed without `make kit` fails here, naming the command.
 */

type AnyKind = EventKindDefinition<string, unknown>;
const kinds = EVENT_KINDS as readonly AnyKind[];
const TEMPLATES: [string, KitTemplate][] = [
  [EVENTS_KIT_TEMPLATE, 'events'],
  [MEMBER_KIT_TEMPLATE, 'member'],
];

/** A kind a newcomer might add: what the generator makes of it. */
const spotFulfilled = defineEventKind({
  kind: 'spot-request-fulfilled',
  source: 'aws.ec2',
  detailType: 'EC2 Spot Instance Request Fulfillment',
  detail: z.looseObject({ 'instance-id': z.string() }),
  rule: { id: 'SpotRequestFulfilledRule', does: 'nothing yet', bus: 'default', detail: { 'instance-id': ['i-1'] } },
  route: () => ignore('not acted on'),
}) as AnyKind;

describe('the kit templates, generated from router/events', () => {
  it.each(TEMPLATES.map(([path, template]) => [relative(ROOT, path), path, template] as const))('%s is what `make kit` generates', (_file, path, template) => {
    expect(staleness(relative(ROOT, path), readFileSync(path, 'utf8'), template)).toBe('');
  });

  it('a kind added without regenerating fails the check, naming the command; regenerating adds its rule and its ARN to every list', () => {
    const text = readFileSync(EVENTS_KIT_TEMPLATE, 'utf8');
    const withNew = [...kinds, spotFulfilled];
    expect(staleness('deploy/aws/fleetops-events.yaml', text, 'events', withNew)).toMatch(
      /^deploy\/aws\/fleetops-events.yaml differs from router\/events at line \d+ .*: run `make kit`$/,
    );
    const regenerated = generateKit(text, 'events', withNew);
    const doc = parse(regenerated) as { Resources: Record<string, { Properties: Record<string, unknown> }> };
    expect(doc.Resources.SpotRequestFulfilledRule!.Properties).toMatchObject({
      Description: 'fleetops spot-request-fulfilled -> nothing yet',
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Request Fulfillment'], detail: { 'instance-id': ['i-1'] } },
    });
    const arn = '- Fn::GetAtt: [SpotRequestFulfilledRule, Arn]';
    // The events queue's allow and both forms of its deny, the dead-letter queue's allow and deny.
    expect(regenerated.split('\n').filter((l) => l.trim() === arn)).toHaveLength(5);
    // The member account forwards it too (AWS publishes it on the default bus there): its dead-letter queue's allow and deny.
    const member = generateKit(readFileSync(MEMBER_KIT_TEMPLATE, 'utf8'), 'member', withNew);
    expect(member.split('\n').filter((l) => l.trim() === arn)).toHaveLength(2);
    // Unchanged outside the generated regions.
    const outside = (t: string) => t.replace(/# ---- generated from router\/events[^\n]*\n[\s\S]*?# ---- end generated ----/g, '');
    expect(outside(regenerated)).toBe(outside(text));
  });

  it('refuses a kind that shares rules no kind has, a rule id used twice, and a region without its end', () => {
    const orphan = defineEventKind({ ...spotFulfilled, kind: 'orphan', rule: { sharedWith: ['lifecycle-launch'] } }) as AnyKind;
    expect(() => kindRules([...kinds, orphan])).toThrow(/orphan shares its rule for aws.ec2 \/ EC2 Spot Instance Request Fulfillment/);
    const twin = defineEventKind({ ...spotFulfilled, rule: { id: 'LifecycleLaunchRule', does: 'x', bus: 'default' } }) as AnyKind;
    expect(() => kindRules([...kinds, twin])).toThrow(/rule id LifecycleLaunchRule is used by more than one kind/);
    const text = readFileSync(EVENTS_KIT_TEMPLATE, 'utf8');
    expect(() => generateKit(text.replace(/\n {2}# ---- end generated ----\n/, '\n'), 'events')).toThrow(/has no "# ---- end generated ----" after it/);
  });

  it('every kind has a rule of its own or shares one: the ASG test notification rides on the lifecycle rules', () => {
    const rules = kindRules();
    expect(rules.map((r) => r.kind)).toEqual(kinds.filter((k) => !('sharedWith' in k.rule)).map((k) => k.kind));
    expect(kinds.filter((k) => 'sharedWith' in k.rule).map((k) => k.kind)).toEqual(['lifecycle-test-notification']);
  });
});
