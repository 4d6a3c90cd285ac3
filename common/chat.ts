/**
 * What a workflow hands the notification activity so its chat messages (Slack, activities/chat/) form
 * one thread per workflow run, and what it gets back. Workflows keep the returned ChatThread and pass
 * it on the next notification without looking inside: the activity alone decides which message is
 * the thread's root and which is an open approval gate.
 */

/** Where a workflow's chat messages are. Opaque to workflows. */
export interface ChatThread {
  channel: string;
  /** The thread's root message. */
  ts: string;
  /** A gate message that still shows Approve and Abort buttons. */
  gateTs?: string;
}

/** How a human wait (deploy gate, inconclusive analysis) ended, for the gate message. */
export interface GateAnswer {
  kind: 'approved' | 'aborted' | 'timed-out' | 'closed';
  /** Who answered (`slack:U…` for a Slack user, a CLI operator, ...). */
  by?: string;
  /** When, ISO-8601 (workflow time). */
  at: string;
  /** The reason given, or what the deploy did instead. */
  text?: string;
}

/** What a deploy's phase notification says about the deploy, for its chat thread. */
export interface DeployChatFacts {
  phase: string;
  cluster: string;
  service: string;
  requestedBy?: string;
  /** A human wait that is open now: its message gets Approve and Abort buttons. */
  awaiting?: { kind: 'gate' | 'inconclusive'; timeoutAt: string; onTimeout: 'rollback' | 'promote' };
  /** How the last human wait ended, once it has. */
  answer?: GateAnswer;
}

/** `slack:U0123ABCDE`: how a Slack user is recorded as requester, approver or incident role. */
export const SLACK_PERSON_PREFIX = 'slack:';

export function slackPerson(userId: string): string {
  return `${SLACK_PERSON_PREFIX}${userId}`;
}

/** The Slack user id of a `slack:U…` person, or undefined for anyone else. */
export function slackUserIdOf(person: string | undefined): string | undefined {
  return person?.startsWith(SLACK_PERSON_PREFIX) ? person.slice(SLACK_PERSON_PREFIX.length) : undefined;
}
