import type { IncomingHttpHeaders } from 'node:http';
import { DEFAULT_ACCOUNT } from './events';
import type { SimResponse } from './protocol';

/**
 * Which account a call acts in. moto acts in the role's account for the access key of an assumed-role
 * session, so the simulator remembers each session AssumeRole handed out; `x-moto-account-id` names
 * an account outright; anything else is moto's default account.
 */
export class SessionAccounts {
  /** Access key id of an assumed-role session → the role's account. */
  private readonly sessions = new Map<string, string>();

  remember(call: { params: Record<string, unknown> }, response: SimResponse): void {
    const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(response.body.toString('utf8'))?.[1];
    const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(String(call.params.RoleArn ?? ''))?.[1];
    if (key && account) this.sessions.set(key, account);
  }

  accountOf(headers: IncomingHttpHeaders): string {
    const explicit = headers['x-moto-account-id'];
    if (typeof explicit === 'string' && /^\d{12}$/.test(explicit)) return explicit;
    const key = /Credential=([^/,\s]+)\//.exec(String(headers.authorization ?? ''))?.[1];
    return (key && this.sessions.get(key)) || DEFAULT_ACCOUNT;
  }

  clear(): void {
    this.sessions.clear();
  }
}
