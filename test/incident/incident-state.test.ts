import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentPolicy } from '../../config/incident-policy';
import type { IncidentSeverity } from '../../common/incident/severity';
import { nextReminder, takeReminder } from '../../workflows/incident/reminders';
import { initialState, type IncidentState } from '../../workflows/incident/state';
import { phaseOf, statusOf } from '../../workflows/incident/status';
import { applyAlarmEvent, applyAssign, applyCheck, applyFacts, applyNote, applyResolve, mergeChecklist } from '../../workflows/incident/transitions';
import { assignProblem, checkProblem, noteProblem, resolveProblem } from '../../workflows/incident/validation';
import { incidentTestConfig } from './fixtures';

/**
 * The incident's state and its rules without a server: what the workflow's handlers call, driven
 * directly with explicit times (the workflow passes workflow time).
 */

const MIN = 60_000;
const T0 = Date.parse('2025-03-04T10:00:00.000Z'); // a Tuesday

function policy(severity: IncidentSeverity): IncidentPolicy {
  const config = incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'state-')) });
  return { ...config.incidents.severities[severity], severity, githubFiling: false };
}

function opened(severity: IncidentSeverity, loaded = true): IncidentState {
  const s = initialState({
    workflowId: 'incident-db-failover-0a1b2c3d',
    firstRunId: '0123456789abcdef',
    title: 'DB failover',
    severity,
    source: { kind: 'event', eventId: 'evt-1', by: 'pager' },
    now: T0,
  });
  if (loaded) s.policy = policy(severity);
  return s;
}

describe('incident state (no server)', () => {
  it('starts with an opening timeline entry and an incident key from the first run id', () => {
    const s = opened('sev2', false);
    expect(s.incidentKey).toBe('incident-db-failover-0a1b2c3d/01234567');
    expect(s.timeline).toEqual([{ time: '2025-03-04T10:00:00.000Z', author: 'pager', kind: 'opened', text: 'sev2 incident opened: DB failover' }]);
    expect(phaseOf(s, T0)).toBe('opening');
    // Until the severity config is loaded, updates are refused with a hint to retry.
    expect(noteProblem(s, { text: 'x', by: 'a' })).toBe('the incident is still loading its severity config; retry in a moment');
  });

  it('validates before it applies: roles, checklist order, and the commander rule of sev1/sev2', () => {
    const s = opened('sev1');
    expect(assignProblem(s, { role: 'boss' as never, person: 'alice', by: 'alice' })).toBe('role must be one of onCall, commander, scribe (got "boss")');
    expect(checkProblem(s, { item: 'channel-opened', by: 'bob', link: '#inc' })).toBe('"channel-opened" comes after "commander-assigned", not checked yet');
    expect(checkProblem(s, { item: 'commander-assigned', by: 'bob' })).toBe(
      '"commander-assigned" needs a commander: assign one first (update "assign" with role "commander")',
    );
    expect(checkProblem(s, { item: 'nope', by: 'bob' })).toMatch(/^unknown checklist item "nope" for sev1; items are: commander-assigned, /);
    expect(checkProblem(s, { item: 'timeline-reviewed', by: 'bob' })).toBe('"timeline-reviewed" is a postmortem item: resolve the incident first');

    expect(assignProblem(s, { role: 'commander', person: 'alice', by: 'alice' })).toBeUndefined();
    applyAssign(s, { role: 'commander', person: 'alice', by: 'alice' }, T0 + MIN);
    applyAssign(s, { role: 'commander', person: 'carol', by: 'alice' }, T0 + 2 * MIN);
    expect(s.roles).toEqual({ commander: 'carol' });
    expect(s.timeline.filter((e) => e.kind === 'role').map((e) => e.text)).toEqual([
      'incident commander: alice',
      'incident commander changed from alice to carol',
    ]);
    expect(resolveProblem(s, { by: 'carol', text: 'done' })).toMatch(/^cannot resolve before "commander-assigned", /);
  });

  it('walks sev2 from open through mitigated and resolved into its postmortem (due in business days)', () => {
    const s = opened('sev2');
    expect(checkProblem(s, { item: 'mitigated', by: 'bob', note: 'failover' })).toBe(
      'sev2 cannot be marked mitigated without an incident commander: assign one first (update "assign" with role "commander")',
    );
    applyAssign(s, { role: 'commander', person: 'bob', by: 'bob' }, T0 + MIN);
    expect(checkProblem(s, { item: 'mitigated', by: 'bob' })).toBe('"mitigated" needs note (what mitigated the impact)');
    applyCheck(s, { item: 'mitigated', by: 'bob', note: 'failover' }, T0 + 10 * MIN);
    expect(phaseOf(s, T0 + 10 * MIN)).toBe('mitigated');

    applyResolve(s, { by: 'bob', text: 'primary back' }, T0 + 30 * MIN);
    expect(s.checks.resolved).toEqual({ by: 'bob', at: '2025-03-04T10:30:00.000Z', note: 'primary back' });
    expect(s.outbox.map((n) => n.idempotencyKey)).toEqual(['incident-db-failover-0a1b2c3d/01234567/resolved']);
    const status = statusOf(s, T0 + 31 * MIN);
    expect(status).toMatchObject({
      phase: 'postmortem',
      resolvedAt: '2025-03-04T10:30:00.000Z',
      // 5 business days after a Tuesday.
      postmortemDueAt: '2025-03-11T10:30:00.000Z',
      checklist: {
        response: [
          { item: 'mitigated', done: true, by: 'bob' },
          { item: 'resolved', done: true, by: 'bob' },
        ],
        postmortem: [
          { item: 'timeline-reviewed', done: false },
          { item: 'action-items-filed', done: false },
        ],
      },
    });
    expect(phaseOf(s, Date.parse('2025-03-11T10:30:00.000Z'))).toBe('postmortem-overdue');

    applyCheck(s, { item: 'timeline-reviewed', by: 'bob' }, T0 + 60 * MIN);
    expect(checkProblem(s, { item: 'action-items-filed', by: 'bob' })).toBe('"action-items-filed" needs at least one action item (update "addActionItem")');
    expect(s.closedAt).toBeUndefined();
  });

  it('records alarm events and automation facts once, however often they are redelivered', () => {
    const s = opened('sev3');
    const ev = { alarmName: 'db-cpu', state: 'ALARM' as const, reason: 'cpu > 90', time: new Date(T0 - MIN).toISOString(), eventId: 'e1' };
    expect(applyAlarmEvent(s, ev, T0)).toBe(true);
    expect(applyAlarmEvent(s, ev, T0 + MIN)).toBe(false);
    expect(applyAlarmEvent(s, { ...ev, eventId: 'e2', reason: 'still' }, T0 + 2 * MIN)).toBe(true);
    const facts = { key: 'drain-i-1/run/deadline-missed', entries: [{ time: new Date(T0).toISOString(), author: 'drain-i-1', kind: 'automation' as const, text: 'tasks left: 3' }] };
    expect(applyFacts(s, facts, T0 + 3 * MIN)).toBe(true);
    expect(applyFacts(s, facts, T0 + 4 * MIN)).toBe(false);
    expect(s.timeline.slice(1).map((e) => `${e.kind}: ${e.text}`)).toEqual([
      'alarm: alarm db-cpu in ALARM: cpu > 90',
      'alarm: alarm db-cpu in ALARM again (2 times so far): still',
      'automation: tasks left: 3',
    ]);
  });

  it('owes a status-update reminder one cadence after the last status update, each with its own key', () => {
    const s = opened('sev2'); // every 60 min
    expect(nextReminder(s)).toEqual({ kind: 'status-update', at: T0 + 60 * MIN, n: 1 });
    applyNote(s, { text: 'investigating', by: 'bob', kind: 'status-update' }, T0 + 20 * MIN);
    expect(nextReminder(s)).toEqual({ kind: 'status-update', at: T0 + 80 * MIN, n: 1 });
    const due = nextReminder(s)!;
    const n = takeReminder(s, due, due.at + 5);
    expect(n.idempotencyKey).toBe('incident-db-failover-0a1b2c3d/01234567/status-update/1');
    expect(n.title).toBe('sev2 DB failover: status update due');
    // The cadence counts from the planned time, not from when the workflow got to it.
    expect(nextReminder(s)).toEqual({ kind: 'status-update', at: T0 + 140 * MIN, n: 2 });
    expect(statusOf(s, T0 + 81 * MIN).reminders.statusReminders).toBe(1);
  });

  it('after resolution nudges about the postmortem from its due date and escalates once', () => {
    const s = opened('sev1'); // due in 5 business days, nudges every 24 h, escalation after 2
    s.checks = Object.fromEntries(s.policy!.checklist.response.slice(0, -1).map((i) => [i, { by: 'x', at: 'x' }]));
    s.roles.commander = 'alice';
    applyResolve(s, { by: 'alice', text: 'fixed' }, T0);
    const due = Date.parse('2025-03-11T10:00:00.000Z');
    const kinds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = nextReminder(s)!;
      kinds.push(`${r.kind}/${r.n}@${(r.at - due) / (60 * MIN)}h`);
      takeReminder(s, r, r.at);
    }
    expect(kinds).toEqual(['postmortem-nudge/1@0h', 'postmortem-nudge/2@24h', 'postmortem-escalation/1@48h', 'postmortem-nudge/3@72h']);
    expect(statusOf(s, due + 72 * 60 * MIN).reminders).toMatchObject({ postmortemReminders: 4, escalated: true });
  });
});

describe('severity checklist merge', () => {
  const sev3 = ['mitigated', 'resolved'];
  const sev1 = ['commander-assigned', 'channel-opened', 'status-page-updated', 'stakeholders-informed', 'mitigated', 'resolved'];

  it('escalating takes the new list; done items it already has stay where the new list puts them', () => {
    expect(mergeChecklist(sev1, sev3, (i) => i === 'mitigated')).toEqual(sev1);
  });

  it('de-escalating keeps the done items the new list lacks, after the item they followed, and drops the undone ones', () => {
    const done = new Set(['commander-assigned', 'channel-opened']);
    expect(mergeChecklist(sev3, sev1, (i) => done.has(i))).toEqual(['commander-assigned', 'channel-opened', 'mitigated', 'resolved']);
    const doneLater = new Set(['stakeholders-informed']);
    expect(mergeChecklist(['mitigated', 'resolved'], ['mitigated', 'stakeholders-informed', 'resolved'], (i) => doneLater.has(i))).toEqual([
      'mitigated',
      'stakeholders-informed',
      'resolved',
    ]);
  });
});
