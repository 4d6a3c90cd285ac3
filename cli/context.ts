import type { Client } from '@temporalio/client';
import { openSession, resolveTarget, type ConnectionTarget, type TemporalSession } from './connection';
import type { CliIo } from './io';

/** Options every command accepts (declared once on the root program). */
export interface GlobalOptions {
  json?: boolean;
  address?: string;
  namespace?: string;
  config?: string;
  /** Seconds to wait for a workflow to answer a query or update. */
  timeout: number;
}

/**
 * What a command runs with: where to print, which Temporal, and a client opened on first use (so
 * `--help` and bad input never dial out). One context per CLI run; runCli closes it.
 */
export class CommandContext {
  private session?: TemporalSession;
  private resolved?: ConnectionTarget;
  /** The workflow the command is about, so a Temporal error can name it. */
  workflowId?: string;

  constructor(
    readonly io: CliIo,
    readonly options: GlobalOptions,
  ) {}

  get json(): boolean {
    return this.options.json === true;
  }

  target(): ConnectionTarget {
    this.resolved ??= resolveTarget(this.options, this.io.env, this.io.cwd);
    return this.resolved;
  }

  async client(): Promise<Client> {
    this.session ??= await openSession(this.target(), Math.min(this.options.timeout, 5));
    return this.session.client;
  }

  async close(): Promise<void> {
    await this.session?.close();
    this.session = undefined;
  }

  /** Runs a call against the workflow with the `--timeout` deadline, so a missing worker cannot hang the CLI. */
  async withDeadline<T>(fn: () => Promise<T>): Promise<T> {
    const client = await this.client();
    return client.connection.withDeadline(Date.now() + this.options.timeout * 1000, fn);
  }

  /**
   * Who is acting: `cli:<OS user>`, recorded by workflows and checked by the deploy's approval rule
   * (approvers, nobody approves their own deploy). Only as strong as Temporal namespace access: anyone
   * who can reach the namespace can send any identity with an SDK, so give each person their own mTLS
   * certificate or API key. FLEETOPS_OPERATOR is no longer read: free text is not an identity.
   */
  operator(): string {
    let user: string;
    try {
      user = this.io.user();
    } catch {
      // No passwd entry (a container run with an arbitrary uid): the uid is still the OS's word, not the caller's.
      user = `uid${process.getuid?.() ?? 'unknown'}`;
    }
    return `cli:${user}`;
  }

  /** `--json`: one JSON document on stdout; otherwise the human lines. */
  print(data: unknown, human: string | string[]): void {
    if (this.json) this.io.stdout(`${JSON.stringify(data, null, 2)}\n`);
    else this.io.stdout(`${Array.isArray(human) ? human.join('\n') : human}\n`);
  }
}
