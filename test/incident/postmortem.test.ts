import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentPolicy } from '../../config/incident-policy';
import { postmortemFileName, renderPostmortem } from '../../workflows/incident/postmortem';
import { addBusinessDays } from '../../workflows/incident/reminders';
import { initialState, type IncidentState } from '../../workflows/incident/state';
import {
  applyActionItem,
  applyAlarmEvent,
  applyAssign,
  applyCheck,
  applyLesson,
  applyNote,
  applyPostmortemFields,
  applyResolve,
} from '../../workflows/incident/transitions';
import { incidentTestConfig } from './fixtures';

const MIN = 60_000;
const T0 = Date.parse('2025-03-04T10:00:00.000Z'); // a Tuesday

function policy(severity: 'sev1' | 'sev3'): IncidentPolicy {
  const config = incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'pm-')) });
  return { ...config.incidents.severities[severity], severity, githubFiling: false };
}

function closedSev1(): IncidentState {
  const s = initialState({
    workflowId: 'incident-alarm-api-5xx',
    firstRunId: '0123456789abcdef',
    title: 'API | 5xx above threshold',
    severity: 'sev1',
    source: { kind: 'alarm', alarmName: 'api-5xx' },
    onCall: 'oncall-primary',
    now: T0,
  });
  s.policy = policy('sev1');
  applyAlarmEvent(s, { alarmName: 'api-5xx', state: 'ALARM', reason: '5xx > 50', time: new Date(T0 - 2 * MIN).toISOString(), eventId: 'e1' }, T0);
  applyAssign(s, { role: 'commander', person: 'alice', by: 'alice' }, T0 + 5 * MIN);
  applyAssign(s, { role: 'scribe', person: 'bob', by: 'alice' }, T0 + 6 * MIN);
  applyCheck(s, { item: 'commander-assigned', by: 'alice' }, T0 + 7 * MIN);
  applyCheck(s, { item: 'channel-opened', by: 'bob', link: '#inc-api' }, T0 + 8 * MIN);
  applyCheck(s, { item: 'status-page-updated', by: 'bob', link: 'https://status.example/1' }, T0 + 9 * MIN);
  applyCheck(s, { item: 'stakeholders-informed', by: 'bob', note: 'support' }, T0 + 10 * MIN);
  applyNote(s, { text: 'rollback started\nsecond line', by: 'alice', kind: 'status-update' }, T0 + 20 * MIN);
  applyCheck(s, { item: 'mitigated', by: 'alice', note: 'rolled back to revision 41' }, T0 + 40 * MIN);
  applyResolve(s, { by: 'alice', text: 'flag removed and api redeployed' }, T0 + 90 * MIN);
  applyPostmortemFields(
    s,
    { by: 'bob', summary: 'The api failed 12% of requests for 90 minutes.', impact: '12% of requests failed.', rootCause: 'Pool too small for the new code path.', trigger: 'Flag `bulk-sync` enabled.' },
    T0 + 2 * 24 * 60 * MIN,
  );
  applyLesson(s, { by: 'bob', kind: 'went-well', text: 'Alarm fired within 3 minutes.' }, T0 + 2 * 24 * 60 * MIN);
  applyLesson(s, { by: 'carol', kind: 'went-wrong', text: 'Rollout skipped the canary.' }, T0 + 2 * 24 * 60 * MIN);
  applyLesson(s, { by: 'bob', kind: 'lucky', text: 'Traffic was low.' }, T0 + 2 * 24 * 60 * MIN);
  applyActionItem(s, { by: 'bob', type: 'mitigate', text: 'Raise pool | size', owner: 'dana', trackingLink: 'https://t.example/1' }, T0 + 2 * 24 * 60 * MIN);
  applyActionItem(s, { by: 'bob', type: 'prevent', text: 'Canary flags', owner: 'erin', trackingLink: 'https://t.example/2' }, T0 + 2 * 24 * 60 * MIN);
  for (const item of s.policy.checklist.postmortem) applyCheck(s, { item, by: 'bob' }, T0 + 3 * 24 * 60 * MIN);
  return s;
}

/** `## Heading` → body, in document order. */
function sections(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of doc.split(/^## /m).slice(1)) {
    const [heading, ...body] = part.split('\n');
    out.set(heading, body.join('\n').trim());
  }
  return out;
}

describe('postmortem rendering', () => {
  it('renders every field of the SRE-book template from the state', () => {
    const s = closedSev1();
    expect(s.closedAt).toBe(T0 + 3 * 24 * 60 * MIN);
    const doc = renderPostmortem(s);
    const lines = doc.split('\n');
    expect(lines[0]).toBe('# API | 5xx above threshold — postmortem');
    expect(lines).toContain('**Date:** 2025-03-04');
    expect(lines).toContain('**Authors:** alice, bob, carol');
    expect(lines).toContain('**Status:** Complete, 2 action items in progress');
    expect(lines).toContain('**Severity:** sev1');
    expect(lines).toContain('**Incident:** incident-alarm-api-5xx');
    expect(lines).toContain('**Roles:** on-call oncall-primary, incident commander alice, scribe bob');
    expect(doc).toMatch(/^> This postmortem is blameless\./m);

    const sec = sections(doc);
    expect([...sec.keys()]).toEqual(['Summary', 'Impact', 'Root Causes', 'Trigger', 'Resolution', 'Detection', 'Action Items', 'Lessons Learned', 'Timeline']);
    expect(sec.get('Summary')).toBe('The api failed 12% of requests for 90 minutes.');
    expect(sec.get('Impact')).toBe('12% of requests failed.');
    expect(sec.get('Root Causes')).toBe('Pool too small for the new code path.');
    expect(sec.get('Trigger')).toBe('Flag `bulk-sync` enabled.');
    expect(sec.get('Resolution')).toBe('Mitigation: rolled back to revision 41\n\nResolution: flag removed and api redeployed');
    expect(sec.get('Detection')).toBe('CloudWatch alarm `api-5xx` opened the incident (2025-03-04 09:58:00 UTC: alarm api-5xx in ALARM: 5xx > 50).');
    expect(sec.get('Action Items')?.split('\n')).toEqual([
      '| Id | Action item | Type | Owner | Tracking |',
      '|---|---|---|---|---|',
      '| AI-1 | Raise pool \\| size | mitigate | dana | https://t.example/1 |',
      '| AI-2 | Canary flags | prevent | erin | https://t.example/2 |',
    ]);
    expect(sec.get('Lessons Learned')).toBe(
      [
        '### What went well',
        '- Alarm fired within 3 minutes.',
        '### What went wrong',
        '- Rollout skipped the canary.',
        '### Where we got lucky',
        '- Traffic was low.',
      ].join('\n\n'),
    );
    const timeline = sec.get('Timeline')?.split('\n') ?? [];
    expect(timeline[0]).toBe('All times UTC.');
    // Sorted by time: the alarm (09:58) comes before the opening (10:00) although it was recorded after it.
    expect(timeline.slice(2, 5)).toEqual([
      '- 2025-03-04 09:58:00 · alarm · cloudwatch: alarm api-5xx in ALARM: 5xx > 50',
      '- 2025-03-04 10:00:00 · opened · router: sev1 incident opened: API | 5xx above threshold',
      '- 2025-03-04 10:05:00 · role · alice: incident commander: alice',
    ]);
    expect(timeline).toContain('- 2025-03-04 10:20:00 · status-update · alice: rollback started second line');
    expect(timeline).toContain('- 2025-03-04 10:40:00 · checklist · alice: checked "mitigated": rolled back to revision 41');
    expect(timeline.at(-1)).toBe('- 2025-03-07 10:00:00 · postmortem · bob: postmortem complete');
    // Date and incident key (workflow id and first run), so an alarm's incidents never share a file.
    expect(postmortemFileName(s)).toBe('2025-03-04-alarm-api-5xx-01234567.md');
  });

  it('says what is missing in a draft, and that a root cause was not required for sev3', () => {
    const s = initialState({
      workflowId: 'incident-disk-full-1a2b3c4d',
      firstRunId: 'ffffffff00000000',
      title: 'Disk full',
      severity: 'sev3',
      summary: 'Logs filled the disk of one node.',
      source: { kind: 'cli', by: 'gina' },
      now: T0,
    });
    s.policy = policy('sev3');
    let sec = sections(renderPostmortem(s));
    expect(renderPostmortem(s)).toContain('**Status:** Draft, incident ongoing');
    expect(renderPostmortem(s)).toContain('**Authors:** none recorded');
    expect(sec.get('Summary')).toBe('Logs filled the disk of one node.');
    expect(sec.get('Impact')).toBe('_Not recorded yet._');
    expect(sec.get('Root Causes')).toBe('_Not required for sev3; not analysed._');
    expect(sec.get('Detection')).toBe('Declared from the fleetops CLI by gina.');
    expect(sec.get('Action Items')).toBe('_Not recorded yet._');
    applyCheck(s, { item: 'mitigated', by: 'gina', note: 'logs rotated' }, T0 + 10 * MIN);
    applyResolve(s, { by: 'gina', text: 'log rotation fixed' }, T0 + 20 * MIN);
    sec = sections(renderPostmortem(s));
    expect(renderPostmortem(s)).toContain(`**Status:** Draft, due ${new Date(addBusinessDays(T0 + 20 * MIN, 5)).toISOString().slice(0, 10)}`);
    expect(sec.get('Resolution')).toBe('Mitigation: logs rotated\n\nResolution: log rotation fixed');
  });
});

describe('postmortem due date in business days', () => {
  const day = (iso: string, n: number) => new Date(addBusinessDays(Date.parse(iso), n)).toISOString();
  it('skips weekends and keeps the time of day', () => {
    expect(day('2025-03-04T10:00:00.000Z', 5)).toBe('2025-03-11T10:00:00.000Z'); // Tue → Tue
    expect(day('2025-03-07T16:30:00.000Z', 1)).toBe('2025-03-10T16:30:00.000Z'); // Fri → Mon
    expect(day('2025-03-08T09:00:00.000Z', 5)).toBe('2025-03-14T09:00:00.000Z'); // Sat → Fri
    expect(day('2025-03-09T09:00:00.000Z', 1)).toBe('2025-03-10T09:00:00.000Z'); // Sun → Mon
  });
});
