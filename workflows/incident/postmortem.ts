import type { ActionItem, LessonKind } from '../../common/incident/model';
import type { IncidentTimelineEntry } from '../../contracts/incident/input';
import { postmortemDueAt } from './reminders';
import { iso, type IncidentState, type Lesson } from './state';

/**
 * The postmortem as Markdown, in the shape of the Google SRE book's example postmortem: title, date,
 * authors, status, summary, impact, root causes, trigger, resolution, detection, action items,
 * lessons learned, timeline. Pure (state and `now` in, text out), so the workflow answers the
 * `postmortem` query with it and the activity writes the same text.
 *
 * Blameless by construction: sections describe systems, signals and decisions; people appear only
 * as role holders, authors and owners of follow-up work, never as a cause.
 */

const NOT_RECORDED = '_Not recorded yet._';

const BLAMELESS_NOTE =
  'This postmortem is blameless. It describes what the systems did and which decisions were made ' +
  'with the information available at the time, so that the fixes go to systems and processes rather than to people.';

function day(ms: number): string {
  return iso(ms).slice(0, 10);
}

function clock(time: string): string {
  const t = Date.parse(time);
  return Number.isNaN(t) ? time : `${iso(t).slice(0, 10)} ${iso(t).slice(11, 19)}`;
}

/** One line: Markdown list items and table cells cannot hold raw newlines. */
function inline(text: string): string {
  return text.replace(/\r?\n+/g, ' ').trim();
}

function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|');
}

function block(text: string | undefined, fallback = NOT_RECORDED): string {
  return text && text.trim() ? text.trim() : fallback;
}

export function postmortemStatus(state: IncidentState): string {
  if (state.abortedAt !== undefined) return 'Closed without a postmortem';
  if (state.closedAt !== undefined) {
    const openItems = state.postmortem.actionItems.length;
    return openItems > 0 ? `Complete, ${openItems} action item${openItems === 1 ? '' : 's'} in progress` : 'Complete';
  }
  const due = postmortemDueAt(state);
  if (due !== undefined) return `Draft, due ${day(due)}`;
  return 'Draft, incident ongoing';
}

export function postmortemAuthors(state: IncidentState): string[] {
  const names = [state.roles.commander, state.roles.scribe, ...state.postmortem.authors].filter((n): n is string => Boolean(n));
  return [...new Set(names)];
}

/** Where the signal came from, when nobody wrote a Detection section. */
function detectedBy(state: IncidentState): string {
  const first = state.timeline.find((e) => e.kind === 'alarm' || e.kind === 'automation');
  switch (state.source.kind) {
    case 'alarm':
      return `CloudWatch alarm \`${state.source.alarmName}\` opened the incident${first ? ` (${clock(first.time)} UTC: ${inline(first.text)})` : ''}.`;
    case 'workflow':
      return `Automation workflow \`${state.source.workflowId}\` reported the problem and opened the incident.`;
    case 'event':
      return `Declared through an Incident Declared event${state.source.by ? ` by ${state.source.by}` : ''}.`;
    case 'cli':
      return `Declared from the fleetops CLI by ${state.source.by}.`;
    case 'chat':
      return `Declared in chat by ${state.source.by}${state.source.channel ? ` in ${state.source.channel}` : ''}.`;
  }
}

function resolutionText(state: IncidentState): string {
  if (state.postmortem.resolution) return state.postmortem.resolution.trim();
  const parts: string[] = [];
  const mitigated = state.checks.mitigated?.note;
  if (mitigated) parts.push(`Mitigation: ${mitigated}`);
  const resolved = state.checks.resolved?.note ?? state.timeline.find((e) => e.kind === 'checklist' && e.text.startsWith('resolved: '))?.text.slice(10);
  if (resolved) parts.push(`Resolution: ${resolved}`);
  return parts.length > 0 ? parts.join('\n\n') : NOT_RECORDED;
}

function rootCauseText(state: IncidentState): string {
  if (state.postmortem.rootCause) return state.postmortem.rootCause.trim();
  return state.policy?.requireRootCause === false ? `_Not required for ${state.severity}; not analysed._` : NOT_RECORDED;
}

function actionItemsTable(items: ActionItem[]): string {
  if (items.length === 0) return NOT_RECORDED;
  const rows = items.map((i) => `| ${i.id} | ${cell(i.text)} | ${i.type} | ${cell(i.owner)} | ${i.trackingLink ? cell(i.trackingLink) : 'not filed'} |`);
  return ['| Id | Action item | Type | Owner | Tracking |', '|---|---|---|---|---|', ...rows].join('\n');
}

function lessons(all: Lesson[], kind: LessonKind): string {
  const of = all.filter((l) => l.kind === kind);
  return of.length > 0 ? of.map((l) => `- ${inline(l.text)}`).join('\n') : NOT_RECORDED;
}

/** Sorted by time; entries with equal times keep the order they were recorded in. */
export function sortedTimeline(entries: IncidentTimelineEntry[]): IncidentTimelineEntry[] {
  return entries
    .map((e, i) => ({ e, i, t: Date.parse(e.time) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
}

/** The current severity, and how it got there when it changed. */
function severityLine(state: IncidentState): string {
  if (state.severityChanges.length === 0) return state.severity;
  const changes = state.severityChanges.map((c) => `${c.from} → ${c.to} ${clock(c.at)} by ${inline(c.by)} (${inline(c.reason)})`);
  return `${state.severity} (opened as ${state.severityChanges[0]!.from}; ${changes.join('; ')})`;
}

function recurrenceLines(state: IncidentState): string[] {
  const lines: string[] = [];
  const prev = state.previousIncident;
  if (prev) {
    const where = [prev.postmortem?.stored, prev.postmortem?.pullRequest].filter(Boolean).join(', ');
    lines.push(`**Recurrence of:** ${prev.workflowId} (run ${prev.runId}${prev.closedAt ? `, closed ${clock(prev.closedAt)}` : ''}; postmortem ${where || 'not stored'})`);
  }
  if (state.reopenings.length > 0) {
    lines.push(`**Reopened:** ${state.reopenings.map((r) => `${clock(iso(r.at))} (${inline(r.reason)})`).join('; ')}`);
  }
  return lines;
}

function reviewLines(state: IncidentState): string[] {
  if (state.review) return [`**Review:** held ${clock(state.review.at)} by ${inline(state.review.by)}${state.review.note ? ` — ${inline(state.review.note)}` : ''}`];
  return state.policy?.reviewReminderEveryHours !== undefined ? ['**Review:** not held yet'] : [];
}

export function renderPostmortem(state: IncidentState): string {
  const authors = postmortemAuthors(state);
  const roles = [
    `on-call ${state.roles.onCall ?? 'unassigned'}`,
    `incident commander ${state.roles.commander ?? 'unassigned'}`,
    `scribe ${state.roles.scribe ?? 'unassigned'}`,
  ].join(', ');
  const timeline = sortedTimeline(state.timeline).map((e) => `- ${clock(e.time)} · ${e.kind} · ${inline(e.author)}: ${inline(e.text)}`);
  const sections: [string, string][] = [
    ['Summary', block(state.postmortem.summary ?? state.summary)],
    ['Impact', block(state.postmortem.impact)],
    ['Root Causes', rootCauseText(state)],
    ['Trigger', block(state.postmortem.trigger)],
    ['Resolution', resolutionText(state)],
    ['Detection', block(state.postmortem.detection, detectedBy(state))],
    ['Action Items', actionItemsTable(state.postmortem.actionItems)],
    [
      'Lessons Learned',
      [
        '### What went well',
        lessons(state.postmortem.lessons, 'went-well'),
        '### What went wrong',
        lessons(state.postmortem.lessons, 'went-wrong'),
        '### Where we got lucky',
        lessons(state.postmortem.lessons, 'lucky'),
      ].join('\n\n'),
    ],
    ['Timeline', ['All times UTC.', timeline.join('\n')].join('\n\n')],
  ];
  const header = [
    `# ${inline(state.title)} — postmortem`,
    '',
    `**Date:** ${day(state.openedAt)}`,
    `**Authors:** ${authors.length > 0 ? authors.join(', ') : 'none recorded'}`,
    `**Status:** ${postmortemStatus(state)}`,
    `**Severity:** ${severityLine(state)}`,
    `**Incident:** ${state.workflowId}`,
    ...recurrenceLines(state),
    `**Roles:** ${roles}`,
    ...reviewLines(state),
    '',
    `> ${BLAMELESS_NOTE}`,
  ];
  return [...header, ...sections.flatMap(([title, body]) => ['', `## ${title}`, '', body])].join('\n') + '\n';
}

/**
 * `<date>-<slug>.md`, the slug made from the incident key (workflow id and first run), so an alarm's
 * incidents, which reuse one workflow id, never share a file; safe as an S3 key, a git path and a file name.
 */
export function postmortemFileName(state: IncidentState): string {
  const slug = state.incidentKey
    .replace(/^incident-/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return `${day(state.openedAt)}-${slug || 'incident'}.md`;
}
