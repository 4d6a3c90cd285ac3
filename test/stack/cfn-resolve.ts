import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * A CloudFormation template resolved the way CloudFormation would for given parameters, enough to hand
 * its policy documents to an IAM policy evaluator: Ref, Fn::GetAtt (Arn, QueueName, Name), Fn::Sub,
 * Fn::Join, Fn::Split, Fn::If with the template's Conditions (Fn::Equals, Fn::Not, Fn::And, Fn::Or),
 * and AWS::NoValue (the key or list item is dropped). Names CloudFormation would generate (a rule
 * without Name) are `<stack>-<logical id>`, which is all an ARN match needs here.
 */
export interface Stack {
  stackName: string;
  account: string;
  region: string;
  parameters?: Record<string, string>;
}

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  Condition?: string;
}
interface Template {
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, Resource>;
}

const NO_VALUE = Symbol('AWS::NoValue');

export interface ResolvedTemplate {
  /** A resource's property, resolved (undefined when the resource's Condition leaves it out). */
  property(logicalId: string, path: string[]): Json;
  /** What Fn::GetAtt [logicalId, 'Arn'] resolves to. */
  arn(logicalId: string): string;
}

export function resolveTemplate(file: string, stack: Stack): ResolvedTemplate {
  const t = parse(readFileSync(file, 'utf8')) as Template;
  const partition = 'aws';
  const params: Record<string, string | string[]> = {};
  for (const [name, p] of Object.entries(t.Parameters ?? {})) {
    const raw = stack.parameters?.[name] ?? p.Default;
    if (raw === undefined) throw new Error(`parameter ${name} has no value and no default`);
    params[name] = p.Type === 'CommaDelimitedList' ? raw.split(',') : raw;
  }
  const pseudo: Record<string, string> = {
    'AWS::StackName': stack.stackName,
    'AWS::AccountId': stack.account,
    'AWS::Region': stack.region,
    'AWS::Partition': partition,
  };
  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    if (!conditions.has(name)) conditions.set(name, Boolean(resolve(t.Conditions?.[name])));
    return conditions.get(name)!;
  };
  const resourceName = (id: string): string => {
    const props = t.Resources[id]?.Properties ?? {};
    const named = props.QueueName ?? props.RoleName ?? props.Name;
    return named === undefined ? `${stack.stackName}-${id}` : String(resolve(named));
  };
  const arn = (id: string): string => {
    const r = t.Resources[id];
    if (!r) throw new Error(`no resource ${id}`);
    const name = resourceName(id);
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        return `arn:${partition}:sqs:${stack.region}:${stack.account}:${name}`;
      case 'AWS::IAM::Role':
        return `arn:${partition}:iam::${stack.account}:role/${name}`;
      case 'AWS::Events::EventBus':
        return `arn:${partition}:events:${stack.region}:${stack.account}:event-bus/${name}`;
      case 'AWS::Events::Rule': {
        const bus = r.Properties?.EventBusName === undefined ? 'default' : String(resolve(r.Properties.EventBusName));
        return `arn:${partition}:events:${stack.region}:${stack.account}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;
      }
      default:
        throw new Error(`no ARN for ${r.Type}`);
    }
  };
  const ref = (name: string): Json => {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in pseudo) return pseudo[name];
    if (name in params) return params[name];
    const r = t.Resources[name];
    if (!r) throw new Error(`Ref to unknown ${name}`);
    if (r.Type === 'AWS::SQS::Queue') return `https://sqs.${stack.region}.amazonaws.com/${stack.account}/${resourceName(name)}`;
    return resourceName(name);
  };
  const sub = (text: string, vars: Record<string, Json>): string =>
    text.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
      if (key in vars) return String(resolve(vars[key]));
      if (key.includes('.')) {
        const [id, attr] = key.split('.');
        return String(resolve({ 'Fn::GetAtt': [id, attr] }));
      }
      return String(ref(key));
    });
  function resolve(v: Json): Json {
    if (Array.isArray(v)) return v.map(resolve).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const a = o[k];
      switch (k) {
        case 'Ref':
          return ref(a as string);
        case 'Condition':
          return condition(a as string);
        case 'Fn::GetAtt': {
          const [id, attr] = a as [string, string];
          if (attr === 'Arn') return arn(id);
          if (attr === 'QueueName' || attr === 'Name') return resourceName(id);
          throw new Error(`Fn::GetAtt ${id}.${attr} not supported`);
        }
        case 'Fn::Sub':
          return typeof a === 'string' ? sub(a, {}) : sub((a as [string, Record<string, Json>])[0], (a as [string, Record<string, Json>])[1]);
        case 'Fn::Join': {
          const [sep, items] = a as [string, Json];
          return (resolve(items) as Json[]).flat().map(String).join(sep);
        }
        case 'Fn::Split': {
          const [sep, text] = a as [string, Json];
          return String(resolve(text)).split(sep);
        }
        case 'Fn::If': {
          const [name, yes, no] = a as [string, Json, Json];
          return resolve(condition(name) ? yes : no);
        }
        case 'Fn::Equals': {
          const [x, y] = (a as Json[]).map(resolve);
          return JSON.stringify(x) === JSON.stringify(y);
        }
        case 'Fn::Not':
          return !resolve((a as Json[])[0]);
        case 'Fn::And':
          return (a as Json[]).every((c) => resolve(c));
        case 'Fn::Or':
          return (a as Json[]).some((c) => resolve(c));
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(o)) {
      const r = resolve(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }
  return {
    property(logicalId, path) {
      const r = t.Resources[logicalId];
      if (!r) throw new Error(`no resource ${logicalId}`);
      if (r.Condition && !condition(r.Condition)) return undefined;
      let v: Json = r.Properties;
      for (const p of path) v = (v as Record<string, Json>)[p];
      return resolve(v);
    },
    arn,
  };
}
