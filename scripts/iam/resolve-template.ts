/**
 * A small CloudFormation resolver for the kit's templates (deploy/aws/): enough of the intrinsic
 * functions (Ref, Fn::Sub, Fn::GetAtt, Fn::If with Conditions, Fn::Join, Fn::Equals, Fn::Not, Fn::Or,
 * Fn::And, Fn::Select) to turn the IAM policies into the plain documents AWS would store, given the
 * stack's parameters. A resource's Arn is made from its type and name the way the service names it
 * (CloudFormation resource reference, "Return values"); an intrinsic it does not know throws.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface StackContext {
  stackName: string;
  account: string;
  region: string;
  parameters: Record<string, string>;
}

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
const NO_VALUE = Symbol('AWS::NoValue');
type Resolved = Json | typeof NO_VALUE;

interface Template {
  Parameters?: Record<string, { Type: string; Default?: string | number }>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties?: Record<string, Json>; Condition?: string }>;
}

export class ResolvedTemplate {
  private readonly conditions = new Map<string, boolean>();
  private readonly template: Template;

  constructor(
    path: string,
    private readonly ctx: StackContext,
  ) {
    this.template = parse(readFileSync(path, 'utf8')) as Template;
  }

  /** A resource's properties, resolved. */
  properties(logicalId: string): Record<string, Json> {
    const r = this.template.Resources[logicalId];
    if (!r) throw new Error(`no resource ${logicalId}`);
    return this.resolve(r.Properties ?? {}) as Record<string, Json>;
  }

  private param(name: string): string | string[] {
    const def = this.template.Parameters?.[name];
    if (!def) throw new Error(`no parameter ${name}`);
    const raw = this.ctx.parameters[name] ?? (def.Default !== undefined ? String(def.Default) : undefined);
    if (raw === undefined) throw new Error(`parameter ${name} has no value and no default`);
    return def.Type === 'CommaDelimitedList' ? (raw === '' ? [''] : raw.split(',').map((s) => s.trim())) : raw;
  }

  private ref(name: string): Resolved {
    switch (name) {
      case 'AWS::AccountId':
        return this.ctx.account;
      case 'AWS::Region':
        return this.ctx.region;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::StackName':
        return this.ctx.stackName;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    if (this.template.Parameters?.[name]) return this.param(name);
    if (this.template.Resources[name]) return this.attribute(name, 'Ref');
    throw new Error(`Ref to unknown ${name}`);
  }

  private attribute(logicalId: string, attr: string): string {
    const r = this.template.Resources[logicalId];
    if (!r) throw new Error(`GetAtt of unknown ${logicalId}`);
    const p = (r.Properties ?? {}) as Record<string, Json>;
    const name = (key: string) => String(this.resolve(p[key] ?? `${this.ctx.stackName}-${logicalId}`));
    const { account, region } = this.ctx;
    switch (`${r.Type}.${attr}`) {
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws:sqs:${region}:${account}:${name('QueueName')}`;
      case 'AWS::SQS::Queue.QueueName':
        return name('QueueName');
      case 'AWS::SQS::Queue.Ref':
        return `https://sqs.${region}.amazonaws.com/${account}/${name('QueueName')}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${account}:role/${name('RoleName')}`;
      case 'AWS::Events::Rule.Arn':
        return `arn:aws:events:${region}:${account}:rule/${name('Name')}`;
      case 'AWS::Events::EventBus.Arn':
        return `arn:aws:events:${region}:${account}:event-bus/${name('Name')}`;
      case 'AWS::IAM::ManagedPolicy.Ref':
        return `arn:aws:iam::${account}:policy/${name('ManagedPolicyName')}`;
    }
    return `${logicalId}.${attr}`;
  }

  condition(name: string): boolean {
    const known = this.conditions.get(name);
    if (known !== undefined) return known;
    const def = this.template.Conditions?.[name];
    if (def === undefined) throw new Error(`no condition ${name}`);
    const value = this.resolve(def);
    if (typeof value !== 'boolean') throw new Error(`condition ${name} is not a boolean`);
    this.conditions.set(name, value);
    return value;
  }

  resolve(node: Json): Resolved {
    if (Array.isArray(node)) return node.map((n) => this.resolve(n)).filter((n): n is Json => n !== NO_VALUE);
    if (node === null || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::') || keys[0] === 'Condition')) return this.intrinsic(keys[0]!, node[keys[0]!]!);
    const out: Record<string, Json> = {};
    for (const k of keys) {
      const v = this.resolve(node[k]!);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  private intrinsic(fn: string, arg: Json): Resolved {
    const args = Array.isArray(arg) ? arg : [arg];
    switch (fn) {
      case 'Ref':
        return this.ref(String(arg));
      case 'Condition':
        return this.condition(String(arg));
      case 'Fn::GetAtt': {
        const [id, attr] = typeof arg === 'string' ? arg.split('.') : (args as string[]);
        return this.attribute(String(id), String(attr));
      }
      case 'Fn::Sub': {
        const [text, vars] = typeof arg === 'string' ? [arg, {}] : (args as [string, Record<string, Json>]);
        return String(text).replace(/\$\{([^}]+)\}/g, (_, v: string) => {
          if (vars[v] !== undefined) return String(this.resolve(vars[v]));
          if (v.includes('.') && !v.startsWith('AWS::')) {
            const [id, attr] = v.split('.');
            return this.attribute(id!, attr!);
          }
          const r = this.ref(v);
          return Array.isArray(r) ? r.join(',') : String(r);
        });
      }
      case 'Fn::Join': {
        const [sep, list] = args as [string, Json];
        const items = this.resolve(list);
        return (Array.isArray(items) ? items : [items]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [i, list] = args;
        const items = this.resolve(list!);
        return (Array.isArray(items) ? items : [])[Number(i)] ?? null;
      }
      case 'Fn::If': {
        const [cond, yes, no] = args as [string, Json, Json];
        return this.resolve(this.condition(cond) ? yes : no);
      }
      case 'Fn::Equals': {
        const [a, b] = args.map((x) => JSON.stringify(this.resolve(x)));
        return a === b;
      }
      case 'Fn::Not':
        return !this.resolve(args[0]!);
      case 'Fn::And':
        return args.every((a) => this.resolve(a) === true);
      case 'Fn::Or':
        return args.some((a) => this.resolve(a) === true);
    }
    throw new Error(`intrinsic ${fn} is not supported by the resolver`);
  }
}
