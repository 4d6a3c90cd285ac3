import type { DeployChatFacts, GateAnswer } from '../../common/chat';
import type { AbortRequest } from '../../contracts/controls';
import type { DeployPhase } from '../../contracts/canary-deploy/messages';
import type { DeployState } from './state';

/**
 * What a deploy's phase notification tells its chat thread (activities/chat/post.ts): the phase, an
 * open human wait (its message gets Approve and Abort buttons) and, once it has ended, how: read from
 * the decisions the wait left, so the gate and analysis code need not know about chat.
 */
export function deployChatFacts(state: DeployState, abort: AbortRequest | undefined, phase: DeployPhase): DeployChatFacts {
  const { input, awaiting } = state;
  const answer = lastAnswer(state, abort);
  return {
    phase,
    cluster: input.cluster,
    service: input.service,
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    ...(awaiting ? { awaiting: { kind: awaiting.kind, timeoutAt: awaiting.timeoutAt, onTimeout: awaiting.onTimeout } } : {}),
    ...(answer ? { answer } : {}),
  };
}

const WAIT_ENTRIES = new Set(['enter awaiting-approval', 'enter inconclusive']);

/** The first decision after the last human wait began: approve, abort, or what the timeout did. */
function lastAnswer(state: DeployState, abort: AbortRequest | undefined): GateAnswer | undefined {
  const { decisions } = state;
  let start = -1;
  for (let i = decisions.length - 1; i >= 0; i--) {
    if (WAIT_ENTRIES.has(decisions[i].decision)) {
      start = i;
      break;
    }
  }
  if (start < 0) return undefined;
  const d = decisions.slice(start + 1).find((x) => !x.decision.startsWith('enter ') && x.decision !== 'notification failed');
  if (!d) return undefined;
  if (d.decision === 'approve') {
    return { kind: 'approved', at: d.at, ...(state.approval?.by ? { by: state.approval.by } : {}), ...(state.approval?.reason ? { text: state.approval.reason } : {}) };
  }
  if (d.decision === 'abort') return { kind: 'aborted', at: d.at, ...(abort?.by ? { by: abort.by } : {}), text: abort?.reason ?? d.reason };
  return { kind: /not (answered|judged) within/.test(d.reason) ? 'timed-out' : 'closed', at: d.at, text: d.reason };
}
