import type { LessonKind } from '../../common/incident/model';
import type { IncidentPolicy } from '../../config/incident-policy';
import { ACTION_ITEM_TYPES, INCIDENT_ROLES, LESSON_KINDS, POSTMORTEM_FIELDS } from '../../common/incident/model';
import { INCIDENT_SEVERITIES } from '../../common/incident/severity';
import type {
  ActionItemRequest,
  AssignRequest,
  CheckRequest,
  LessonRequest,
  LinkActionItemRequest,
  NoteRequest,
  PostmortemFieldsRequest,
  ResolveRequest,
  ReviewHeldRequest,
  SeverityChangeRequest,
} from '../../contracts/incident/messages';
import { NAME_LIMIT, TEXT_LIMIT, type IncidentState } from './state';

/**
 * Validation of every update, as the update validators run it: each function returns the rejection
 * message, or undefined when the request is acceptable. Nothing here changes the state.
 */

function textProblem(value: unknown, field: string, limit = TEXT_LIMIT): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return `${field} is required`;
  if (value.length > limit) return `${field} is longer than ${limit} characters`;
  return undefined;
}

function optionalTextProblem(value: unknown, field: string, limit = TEXT_LIMIT): string | undefined {
  return value === undefined ? undefined : textProblem(value, field, limit);
}

function openProblem(state: IncidentState): string | undefined {
  if (state.abortedAt !== undefined) return 'the incident was closed without a postmortem';
  if (state.closedAt !== undefined) return 'the incident is closed';
  if (!state.policy) return 'the incident is still loading its severity config; retry in a moment';
  return undefined;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): string | undefined {
  return allowed.includes(value as T) ? undefined : `${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`;
}

export function assignProblem(state: IncidentState, req: AssignRequest | undefined): string | undefined {
  if (!req) return 'assign needs { role, person, by }';
  return openProblem(state) ?? oneOf(req.role, INCIDENT_ROLES, 'role') ?? textProblem(req.person, 'person', NAME_LIMIT) ?? textProblem(req.by, 'by', NAME_LIMIT);
}

export function noteProblem(state: IncidentState, req: NoteRequest | undefined): string | undefined {
  if (!req) return 'note needs { text, by }';
  return (
    openProblem(state) ??
    textProblem(req.text, 'text') ??
    textProblem(req.by, 'by', NAME_LIMIT) ??
    (req.kind === undefined ? undefined : oneOf(req.kind, ['note', 'status-update'], 'kind'))
  );
}

/** Which list an item is on, and its position. */
function locateItem(policy: IncidentPolicy, item: string): { list: 'response' | 'postmortem'; index: number } | undefined {
  const r = policy.checklist.response.indexOf(item);
  if (r >= 0) return { list: 'response', index: r };
  const p = policy.checklist.postmortem.indexOf(item);
  if (p >= 0) return { list: 'postmortem', index: p };
  return undefined;
}

function commanderProblem(state: IncidentState, policy: IncidentPolicy, what: string): string | undefined {
  if (policy.requireCommanderToMitigate && !state.roles.commander) {
    return `${state.severity} cannot be ${what} without an incident commander: assign one first (update "assign" with role "commander")`;
  }
  return undefined;
}

function rootCauseProblem(state: IncidentState, policy: IncidentPolicy): string | undefined {
  if (policy.requireRootCause && !state.postmortem.rootCause) {
    return `${state.severity} needs a root cause before the postmortem closes (update "editPostmortem" with rootCause)`;
  }
  return undefined;
}

function lessonProblem(state: IncidentState, kind: LessonKind, item: string): string | undefined {
  return state.postmortem.lessons.some((l) => l.kind === kind)
    ? undefined
    : `"${item}" needs at least one "${kind}" lesson first (update "addLesson" with kind "${kind}")`;
}

/** Field and state requirements of the items fleetops knows; items a config adds have only the order rule. */
function itemRequirementProblem(state: IncidentState, policy: IncidentPolicy, req: CheckRequest): string | undefined {
  switch (req.item) {
    case 'commander-assigned':
      return state.roles.commander ? undefined : '"commander-assigned" needs a commander: assign one first (update "assign" with role "commander")';
    case 'channel-opened':
    case 'status-page-updated':
      return req.link ? undefined : `"${req.item}" needs link (the channel or status page)`;
    case 'stakeholders-informed':
      return req.note ? undefined : '"stakeholders-informed" needs note (who was informed, and how)';
    case 'mitigated':
      return commanderProblem(state, policy, 'marked mitigated') ?? (req.note ? undefined : '"mitigated" needs note (what mitigated the impact)');
    case 'resolved':
      return resolveRequirementProblem(state, policy, req.note);
    case 'what-went-well':
      return lessonProblem(state, 'went-well', req.item);
    case 'what-went-wrong':
      return lessonProblem(state, 'went-wrong', req.item);
    case 'where-we-got-lucky':
      return lessonProblem(state, 'lucky', req.item);
    case 'root-cause':
      return state.postmortem.rootCause ? undefined : '"root-cause" needs a root cause (update "editPostmortem" with rootCause)';
    case 'action-items-filed':
      return actionItemsProblem(state, policy);
    default:
      return undefined;
  }
}

function resolveRequirementProblem(state: IncidentState, policy: IncidentPolicy, text: string | undefined): string | undefined {
  return commanderProblem(state, policy, 'resolved') ?? (text ? undefined : 'resolving needs text (how the incident was resolved)');
}

function actionItemsProblem(state: IncidentState, policy: IncidentPolicy): string | undefined {
  const items = state.postmortem.actionItems;
  if (items.length === 0) return '"action-items-filed" needs at least one action item (update "addActionItem")';
  if (state.filingActionItems) return 'action items are being filed; retry when that finishes';
  if (!policy.githubFiling) {
    const unlinked = items.filter((i) => !i.trackingLink).map((i) => i.id);
    if (unlinked.length > 0) {
      return `action items ${unlinked.join(', ')} have no tracking link and GitHub filing is not configured (incidents.github): add trackingLink`;
    }
  }
  return undefined;
}

export function checkProblem(state: IncidentState, req: CheckRequest | undefined): string | undefined {
  if (!req) return 'check needs { item, by }';
  const basic =
    openProblem(state) ??
    textProblem(req.item, 'item', NAME_LIMIT) ??
    textProblem(req.by, 'by', NAME_LIMIT) ??
    optionalTextProblem(req.note, 'note') ??
    optionalTextProblem(req.link, 'link', 2000);
  if (basic) return basic;
  const policy = state.policy as IncidentPolicy;
  const where = locateItem(policy, req.item);
  if (!where) {
    const all = [...policy.checklist.response, ...policy.checklist.postmortem];
    return `unknown checklist item "${req.item}" for ${state.severity}; items are: ${all.join(', ')}`;
  }
  const done = state.checks[req.item];
  if (done) return `"${req.item}" is already checked (by ${done.by} at ${done.at})`;
  if (where.list === 'postmortem' && state.resolvedAt === undefined) {
    return `"${req.item}" is a postmortem item: resolve the incident first`;
  }
  const list = policy.checklist[where.list];
  const missing = list.slice(0, where.index).filter((i) => !state.checks[i]);
  if (missing.length > 0) {
    return `"${req.item}" comes after ${missing.map((m) => `"${m}"`).join(', ')}, not checked yet`;
  }
  const requirement = itemRequirementProblem(state, policy, req);
  if (requirement) return requirement;
  const closesPostmortem = where.list === 'postmortem' && where.index === list.length - 1;
  return closesPostmortem ? rootCauseProblem(state, policy) : undefined;
}

export function resolveProblem(state: IncidentState, req: ResolveRequest | undefined): string | undefined {
  if (!req) return 'resolve needs { by, text }';
  const basic = openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT) ?? textProblem(req.text, 'text');
  if (basic) return basic;
  if (state.resolvedAt !== undefined) return 'the incident is already resolved';
  const policy = state.policy as IncidentPolicy;
  const pending = policy.checklist.response.filter((i) => i !== 'resolved' && !state.checks[i]);
  if (pending.length > 0) return `cannot resolve before ${pending.map((p) => `"${p}"`).join(', ')} are checked`;
  return resolveRequirementProblem(state, policy, req.text);
}

export function postmortemFieldsProblem(state: IncidentState, req: PostmortemFieldsRequest | undefined): string | undefined {
  if (!req) return 'editPostmortem needs { by, ...fields }';
  const basic = openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT);
  if (basic) return basic;
  const given = POSTMORTEM_FIELDS.filter((f) => req[f] !== undefined);
  if (given.length === 0) return `editPostmortem needs at least one of ${POSTMORTEM_FIELDS.join(', ')}`;
  for (const f of given) {
    const p = textProblem(req[f], f, 20_000);
    if (p) return p;
  }
  return undefined;
}

export function lessonRequestProblem(state: IncidentState, req: LessonRequest | undefined): string | undefined {
  if (!req) return 'addLesson needs { by, kind, text }';
  return openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT) ?? oneOf(req.kind, LESSON_KINDS, 'kind') ?? textProblem(req.text, 'text');
}

export function actionItemProblem(state: IncidentState, req: ActionItemRequest | undefined): string | undefined {
  if (!req) return 'addActionItem needs { by, type, text, owner }';
  const basic =
    openProblem(state) ??
    textProblem(req.by, 'by', NAME_LIMIT) ??
    oneOf(req.type, ACTION_ITEM_TYPES, 'type') ??
    textProblem(req.text, 'text') ??
    textProblem(req.owner, 'owner', NAME_LIMIT);
  if (basic) return basic;
  if (req.trackingLink !== undefined && !/^https?:\/\/\S+$/.test(req.trackingLink)) return 'trackingLink must be an http(s) URL';
  if (state.checks['action-items-filed']) return 'action items were already filed; add follow-ups in the tracker';
  return undefined;
}

export function linkActionItemProblem(state: IncidentState, req: LinkActionItemRequest | undefined): string | undefined {
  if (!req) return 'linkActionItem needs { by, id, trackingLink }';
  const basic = openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT) ?? textProblem(req.id, 'id', NAME_LIMIT);
  if (basic) return basic;
  if (!state.postmortem.actionItems.some((i) => i.id === req.id)) {
    return `unknown action item "${req.id}"; items are: ${state.postmortem.actionItems.map((i) => i.id).join(', ') || 'none'}`;
  }
  if (typeof req.trackingLink !== 'string' || !/^https?:\/\/\S+$/.test(req.trackingLink)) return 'trackingLink must be an http(s) URL';
  return undefined;
}

export function severityChangeProblem(state: IncidentState, req: SeverityChangeRequest | undefined): string | undefined {
  if (!req) return 'changeSeverity needs { severity, by, reason }';
  const basic =
    openProblem(state) ?? oneOf(req.severity, INCIDENT_SEVERITIES, 'severity') ?? textProblem(req.by, 'by', NAME_LIMIT) ?? textProblem(req.reason, 'reason');
  if (basic) return basic;
  if (req.severity === state.severity) return `the incident is already ${state.severity}`;
  if (state.changingSeverity) return 'a severity change is in progress; retry when it finishes';
  return undefined;
}

export function reviewHeldProblem(state: IncidentState, req: ReviewHeldRequest | undefined): string | undefined {
  if (!req) return 'markReviewHeld needs { by }';
  const basic = openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT) ?? optionalTextProblem(req.note, 'note') ?? optionalTextProblem(req.link, 'link', 2000);
  if (basic) return basic;
  if (state.resolvedAt === undefined) return 'the postmortem review comes after resolution: resolve the incident first';
  const policy = state.policy as IncidentPolicy;
  if (policy.reviewReminderEveryHours === undefined) return `${state.severity} has no postmortem review step (incidents.severities.${state.severity}.reviewReminderEveryHours)`;
  if (state.review) return `the review was already marked held (by ${state.review.by} at ${state.review.at})`;
  return undefined;
}
