import { parseDocument, type Tags } from 'yaml';
import { z } from 'zod';
import type { Behaviour, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, type SimResponse } from '../protocol';

/**
 * CloudFormation's checks of a stack's parameter values, which moto does not make (it creates the
 * stack with any value). Follows the AWS CloudFormation User Guide, "CloudFormation template
 * Parameters syntax" (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html):
 * CreateStack and UpdateStack are refused with ValidationError (HTTP 400) when
 *  - a parameter given is not in the template: "Parameters: [X] do not exist in the template";
 *  - a parameter without Default is given no value: "Parameters: [X, Y] must have values";
 *  - a value breaks a constraint of its parameter: AllowedPattern (the whole value must match; each
 *    item of a CommaDelimitedList), AllowedValues, MinLength/MaxLength of a String, a Number that is
 *    not a number or is outside MinValue/MaxValue. The message names the parameter and the
 *    constraint ("Parameter 'X' must match pattern <pattern>"), or, when the parameter has a
 *    ConstraintDescription, says that instead: "Parameter 'X' failed to satisfy constraint: <description>".
 * A default is held to the same constraints ("If you define constraints for the parameter, you must
 * specify a value that adheres to those constraints"). A value kept with UsePreviousValue was checked
 * when it was given; a template by URL or the previous template is left to moto.
 *
 * The template is parsed as YAML (JSON is YAML); CloudFormation's short-form tags (!Ref, !GetAtt,
 * !Sub...) read as their long forms, so a template written with them parses as CloudFormation reads it.
 */

const NUMBER_TYPES = new Set(['Number', 'List<Number>']);
const LIST_TYPES = new Set(['CommaDelimitedList', 'List<Number>']);

const Parameter = z.object({
  Type: z.string(),
  Default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  AllowedPattern: z.string().optional(),
  AllowedValues: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
  MinLength: z.coerce.number().optional(),
  MaxLength: z.coerce.number().optional(),
  MinValue: z.coerce.number().optional(),
  MaxValue: z.coerce.number().optional(),
  ConstraintDescription: z.string().optional(),
});
type Parameter = z.infer<typeof Parameter>;
const Template = z.object({ Parameters: z.record(z.string(), Parameter).optional() });

const INTRINSICS = ['Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub', 'Transform', 'And', 'Equals', 'If', 'Not', 'Or'];

/** Each short form as its long form: `!Ref X` is `{Ref: X}`, `!GetAtt A.B` is `{Fn::GetAtt: [A, B]}`. */
const CFN_TAGS: Tags = [['Ref', 'Ref'], ['Condition', 'Condition'], ...INTRINSICS.map((f) => [f, `Fn::${f}`])].flatMap(([name, key]) => {
  const wrap = (v: unknown) => ({ [key!]: name === 'GetAtt' && typeof v === 'string' ? v.split('.') : v });
  return [
    { tag: `!${name}`, resolve: (s: string) => wrap(s) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (seq: { toJSON(): unknown }) => wrap(seq.toJSON()) },
    { tag: `!${name}`, collection: 'map' as const, resolve: (map: { toJSON(): unknown }) => wrap(map.toJSON()) },
  ];
});

/** The template's Parameters, or undefined when it cannot be read (moto then answers as it does). */
export function templateParameters(body: string): Record<string, Parameter> | undefined {
  const doc = parseDocument(body, { customTags: CFN_TAGS, logLevel: 'silent' });
  if (doc.errors.length > 0) return undefined;
  const parsed = Template.safeParse(doc.toJS());
  return parsed.success ? (parsed.data.Parameters ?? {}) : undefined;
}

/** The stack's parameters from the Query form: Parameters.member.N.{ParameterKey,ParameterValue,UsePreviousValue}. */
function givenParameters(params: Record<string, unknown>): Map<string, string | undefined> {
  const given = new Map<string, string | undefined>();
  for (let n = 1; params[`Parameters.member.${n}.ParameterKey`] !== undefined; n++) {
    const key = String(params[`Parameters.member.${n}.ParameterKey`]);
    const previous = String(params[`Parameters.member.${n}.UsePreviousValue`] ?? '') === 'true';
    const value = params[`Parameters.member.${n}.ParameterValue`];
    given.set(key, previous || value === undefined ? undefined : String(value));
  }
  return given;
}

/** AllowedPattern is a Java regular expression; one JavaScript cannot read is not checked here. */
function wholeMatch(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}

/** The first constraint `value` breaks, as CloudFormation words it, or undefined. */
export function constraintBroken(name: string, p: Parameter, value: string): string | undefined {
  const fail = (what: string) => (p.ConstraintDescription !== undefined ? `Parameter '${name}' failed to satisfy constraint: ${p.ConstraintDescription}` : `Parameter '${name}' ${what}`);
  const items = LIST_TYPES.has(p.Type) ? (value === '' ? [] : value.split(',')) : [value];
  if (p.AllowedValues && !p.AllowedValues.map(String).includes(value)) return fail('must be one of AllowedValues');
  if (p.AllowedPattern !== undefined) {
    const whole = wholeMatch(p.AllowedPattern);
    if (whole && items.some((item) => !whole.test(item))) return fail(`must match pattern ${p.AllowedPattern}`);
  }
  if (p.MinLength !== undefined && value.length < p.MinLength) return fail(`must contain at least ${p.MinLength} characters`);
  if (p.MaxLength !== undefined && value.length > p.MaxLength) return fail(`must contain at most ${p.MaxLength} characters`);
  if (NUMBER_TYPES.has(p.Type)) {
    for (const item of items) {
      const n = item.trim() === '' ? NaN : Number(item);
      if (Number.isNaN(n)) return fail('must be a number');
      if (p.MinValue !== undefined && n < p.MinValue) return fail(`must be a number not less than ${p.MinValue}`);
      if (p.MaxValue !== undefined && n > p.MaxValue) return fail(`must be a number not greater than ${p.MaxValue}`);
    }
  }
  return undefined;
}

/** CloudFormation's answer to the call's parameters, or undefined when they pass. */
export function parametersRefused(templateBody: string, params: Record<string, unknown>): string | undefined {
  const declared = templateParameters(templateBody);
  if (!declared) return undefined;
  const given = givenParameters(params);
  const unknown = [...given.keys()].filter((k) => !(k in declared));
  if (unknown.length > 0) return `Parameters: [${unknown.join(', ')}] do not exist in the template`;
  const missing = Object.entries(declared).filter(([k, p]) => p.Default === undefined && !given.has(k)).map(([k]) => k);
  if (missing.length > 0) return `Parameters: [${missing.join(', ')}] must have values`;
  for (const [name, p] of Object.entries(declared)) {
    const value = given.has(name) ? given.get(name) : p.Default === undefined ? undefined : String(p.Default);
    const broken = value === undefined ? undefined : constraintBroken(name, p, value);
    if (broken) return broken;
  }
  return undefined;
}

function refusal(req: SimRequest): SimResponse | undefined {
  if (req.service !== 'cloudformation' || (req.action !== 'CreateStack' && req.action !== 'UpdateStack')) return undefined;
  const body = req.params.TemplateBody;
  if (typeof body !== 'string') return undefined;
  const message = parametersRefused(body, req.params);
  return message === undefined ? undefined : awsErrorResponse(req, { status: 400, code: 'ValidationError', message });
}

export const cloudformationParameters: BehaviourFactory = () => {
  const behaviour: Behaviour = {
    name: 'cloudformation-parameters',
    // Member stacks are created in member accounts: the check holds in every account.
    allAccounts: true,
    intercept: (req) => refusal(req),
    reset() {},
  };
  return behaviour;
};
