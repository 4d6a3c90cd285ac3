import { EVENT_KINDS } from '../router/events';
import { detailTypesOf } from '../router/events/envelope';
import type { EventKindDefinition, EventRule } from '../router/events/kind';

/**
 * The generated parts of the AWS kit's templates (deploy/aws/fleetops-events.yaml and
 * fleetops-member.yaml): one EventBridge rule per event kind, from its definition in router/events/,
 * and the lists of those rules in the queue policies (aws:SourceArn). CloudFormation has no YAML
 * anchors and no loops, so the lists are written out; writing them by hand is how a rule ends up
 * missing from one. Each part sits between marker comments; everything else stays hand-written.
 * `make kit` (scripts/generate-kit-rules.ts) rewrites them; test/stack/kit-rules.test.ts fails when
 * the committed templates differ from what this generates.
 */

export type KitTemplate = 'events' | 'member';

export const REGENERATE = 'make kit';
const BEGIN = /^( *)# ---- generated from router\/events by make kit \((rules|rule ARNs)\): do not edit ----$/;
const END = '# ---- end generated ----';

type AnyKind = EventKindDefinition<string, unknown>;

/** A kind with a rule of its own, as the templates write it. */
interface KindRule extends EventRule {
  kind: string;
  source: string;
  detailTypes: readonly string[];
}

/**
 * The kinds' rules, in EVENT_KINDS order. A kind that shares its rules (`sharedWith`) must name kinds
 * whose rules match every detail-type it claims, so no event of it is left without a rule.
 */
export function kindRules(kinds: readonly AnyKind[] = EVENT_KINDS as readonly AnyKind[]): KindRule[] {
  const rules: KindRule[] = [];
  for (const k of kinds) {
    if ('sharedWith' in k.rule) continue;
    rules.push({ ...k.rule, kind: k.kind, source: k.source, detailTypes: detailTypesOf(k) });
  }
  const ids = rules.map((r) => r.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length > 0) throw new Error(`router/events: rule id ${twice.join(', ')} is used by more than one kind`);
  for (const k of kinds) {
    if (!('sharedWith' in k.rule)) continue;
    const carriers = rules.filter((r) => (k.rule as { sharedWith: readonly string[] }).sharedWith.includes(r.kind));
    for (const detailType of detailTypesOf(k)) {
      if (!carriers.some((r) => r.source === k.source && r.detailTypes.includes(detailType))) {
        throw new Error(`router/events: ${k.kind} shares its rule for ${k.source} / ${detailType}, but none of ${JSON.stringify(k.rule.sharedWith)} has a rule for it`);
      }
    }
  }
  return rules;
}

/** The rules a template holds: every kind's in the central kit; in a member account, those AWS publishes there (the default bus). */
const rulesIn = (template: KitTemplate, rules: KindRule[]) => (template === 'events' ? rules : rules.filter((r) => r.bus === 'default'));

const YAML_WORD = /^(true|false|yes|no|on|off|null|y|n|~)$/i;
const NUMBER = /^[-+.]?\d/;
/** A scalar in a flow sequence (`[a, b]`): plain when it is plainly a string, JSON-quoted otherwise (JSON is YAML). */
const flowScalar = (s: string) => (/^[A-Za-z][A-Za-z0-9 ._()/-]*$/.test(s) && !YAML_WORD.test(s) && !s.endsWith(' ') ? s : JSON.stringify(s));
/** A scalar as a block mapping's value: plain unless a `: `, ` #` or a leading indicator would change its meaning. */
const blockScalar = (s: string) =>
  /^[A-Za-z]/.test(s) && !/: | #|:$/.test(s) && !YAML_WORD.test(s) && !NUMBER.test(s) && s.trim() === s ? s : JSON.stringify(s);
const flowList = (values: readonly string[]) => `[${values.map(flowScalar).join(', ')}]`;

/** A comment wrapped at 100 columns. */
function comment(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = `${indent}#`;
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > 100 && line !== `${indent}#`) {
      lines.push(line);
      line = `${indent}#`;
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

const COMMAND_BUS_NOTE = [
  '# Sent by people and tools with PutEvents on the command bus (a chat bot, a schedule, an operator).',
  "# EventBusName by Fn::GetAtt Name rather than Ref (both give the name on AWS): moto's Ref of a bus is not its name.",
];

function renderRule(template: KitTemplate, r: KindRule, first: { commands: boolean }): string[] {
  const out: string[] = [];
  if (template === 'events' && r.bus === 'commands' && first.commands) {
    out.push(...COMMAND_BUS_NOTE);
    first.commands = false;
  }
  if (template === 'events' && r.note) out.push(...comment(r.note, ''));
  out.push(`${r.id}:`, '  Type: AWS::Events::Rule', '  Properties:');
  if (r.bus === 'commands') out.push('    EventBusName:', '      Fn::GetAtt: [CommandBus, Name]');
  out.push(`    Description: ${blockScalar(`fleetops ${r.kind} -> ${template === 'events' ? r.does : "the central account's event bus"}`)}`);
  out.push('    State: ENABLED', '    EventPattern:', `      source: ${flowList([r.source])}`, `      detail-type: ${flowList(r.detailTypes)}`);
  const detail = Object.entries(r.detail ?? {});
  if (detail.length > 0) out.push('      detail:', ...detail.map(([field, values]) => `        ${blockScalar(field)}: ${flowList(values)}`));
  out.push('    Targets:');
  if (template === 'events') {
    out.push('      - Id: fleetops-events', '        Arn:', '          Fn::GetAtt: [EventsQueue, Arn]', '        DeadLetterConfig:', '          Arn:', '            Fn::GetAtt: [EventsDeadLetterQueue, Arn]');
  } else {
    out.push(
      '      - Id: fleetops-central',
      '        Arn:',
      '          Ref: CentralEventBusArn',
      '        RoleArn:',
      '          Fn::GetAtt: [ForwardRole, Arn]',
      '        DeadLetterConfig:',
      '          Arn:',
      '            Fn::GetAtt: [ForwardDeadLetterQueue, Arn]',
    );
  }
  return out;
}

function renderRegion(what: 'rules' | 'rule ARNs', template: KitTemplate, rules: KindRule[]): string[] {
  if (what === 'rule ARNs') return rules.map((r) => `- Fn::GetAtt: [${r.id}, Arn]`);
  const first = { commands: true };
  return rules.flatMap((r, i) => [...(i > 0 ? [''] : []), ...renderRule(template, r, first)]);
}

/**
 * The template with every generated region rewritten from the kinds. Fails on a begin marker without
 * its end, and on a template without a rules region (a marker deleted by hand would otherwise leave
 * the rules as they were, unchecked).
 */
export function generateKit(text: string, template: KitTemplate, kinds?: readonly AnyKind[]): string {
  const rules = rulesIn(template, kindRules(kinds));
  const lines = text.split('\n');
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const m = BEGIN.exec(lines[i]!);
    out.push(lines[i]!);
    if (!m) continue;
    const [, indent, what] = m as unknown as [string, string, 'rules' | 'rule ARNs'];
    const end = lines.findIndex((l, j) => j > i && l === `${indent}${END}`);
    if (end < 0) throw new Error(`line ${i + 1}: "${lines[i]!.trim()}" has no "${END}" after it at the same indentation`);
    seen.add(what);
    out.push(...renderRegion(what, template, rules).map((l) => (l === '' ? '' : `${indent}${l}`)), lines[end]!);
    i = end;
  }
  for (const what of ['rules', 'rule ARNs']) if (!seen.has(what)) throw new Error(`no generated region for the ${what} (# ---- generated from router/events by make kit (${what}): do not edit ----)`);
  return out.join('\n');
}

/** '' when the committed text is what the kinds generate; otherwise where it first differs and the command that fixes it. */
export function staleness(file: string, text: string, template: KitTemplate, kinds?: readonly AnyKind[]): string {
  const generated = generateKit(text, template, kinds);
  if (generated === text) return '';
  const a = text.split('\n');
  const b = generated.split('\n');
  const line = a.findIndex((l, i) => l !== b[i]);
  const at = line < 0 ? a.length : line;
  return `${file} differs from router/events at line ${at + 1} (committed ${JSON.stringify(a[at] ?? '')}, generated ${JSON.stringify(b[at] ?? '')}): run \`${REGENERATE}\``;
}
