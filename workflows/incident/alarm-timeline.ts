import type { IncidentAlarmEvent } from '../../contracts/incident/input';
import { appendTimeline, type IncidentState } from './state';

/**
 * Why the alarm part of the timeline is bounded: a flapping alarm changes state every few minutes for
 * days, and each change was a timeline entry carried across continue-as-new in the workflow's input,
 * so the input grew until it passed Temporal's payload limit (2 MB by default) and the incident could
 * not continue. The first ALARM_ENTRIES_KEPT alarm changes stay as they came (how it began is what the
 * postmortem reads); after that each alarm has one summary entry, updated in place with its counts, and
 * alarms beyond ALARM_SUMMARIES_KEPT names share one. Counts, reopening and dedupe are unchanged.
 */
export const ALARM_ENTRIES_KEPT = 100;
export const ALARM_SUMMARIES_KEPT = 20;
const OTHER_ALARMS = '*';
const REASON_KEPT = 300;

export interface AlarmSummary {
  /** The alarm's name, or '*' for the alarms past ALARM_SUMMARIES_KEPT. */
  alarm: string;
  /** Where its entry is in the timeline. */
  index: number;
  counts: { ALARM: number; OK: number; INSUFFICIENT_DATA: number };
  first: string;
  last: string;
  lastState: IncidentAlarmEvent['state'];
  lastReason?: string;
}

export interface AlarmTimeline {
  /** Alarm changes written as entries of their own. */
  kept: number;
  summaries: AlarmSummary[];
}

/** For a state carried from a version that kept every change: count what is there, summarise nothing yet. */
export function alarmTimelineOf(state: IncidentState): AlarmTimeline {
  state.alarmTimeline ??= { kept: state.timeline.filter((e) => e.kind === 'alarm').length, summaries: [] };
  return state.alarmTimeline;
}

/** Puts one alarm change on the timeline: an entry of its own while under the bound, else into its summary. */
export function recordAlarmChange(state: IncidentState, ev: IncidentAlarmEvent, text: string, now: number): void {
  const bound = alarmTimelineOf(state);
  if (bound.kept < ALARM_ENTRIES_KEPT) {
    bound.kept += 1;
    appendTimeline(state, { time: ev.time, author: 'cloudwatch', kind: 'alarm', text }, now);
    return;
  }
  let summary = bound.summaries.find((s) => s.alarm === ev.alarmName);
  if (!summary && bound.summaries.length >= ALARM_SUMMARIES_KEPT) summary = bound.summaries.find((s) => s.alarm === OTHER_ALARMS);
  if (!summary) {
    const alarm = bound.summaries.length < ALARM_SUMMARIES_KEPT ? ev.alarmName : OTHER_ALARMS;
    summary = { alarm, index: state.timeline.length, counts: { ALARM: 0, OK: 0, INSUFFICIENT_DATA: 0 }, first: ev.time, last: ev.time, lastState: ev.state };
    bound.summaries.push(summary);
    appendTimeline(state, { time: ev.time, author: 'cloudwatch', kind: 'alarm', text: '' }, now);
  }
  summary.counts[ev.state] += 1;
  if (ev.time < summary.first) summary.first = ev.time;
  if (ev.time >= summary.last) {
    summary.last = ev.time;
    summary.lastState = ev.state;
    summary.lastReason = ev.reason?.slice(0, REASON_KEPT);
  }
  const entry = state.timeline[summary.index];
  if (entry) entry.text = summaryText(summary);
}

function summaryText(s: AlarmSummary): string {
  const n = s.counts.ALARM + s.counts.OK + s.counts.INSUFFICIENT_DATA;
  const who = s.alarm === OTHER_ALARMS ? 'other alarms' : `alarm ${s.alarm}`;
  const parts = [`${s.counts.ALARM} ALARM`, `${s.counts.OK} OK`, ...(s.counts.INSUFFICIENT_DATA ? [`${s.counts.INSUFFICIENT_DATA} INSUFFICIENT_DATA`] : [])];
  const reason = s.lastReason ? `: ${s.lastReason}` : '';
  return `${who} changed state ${n} more times between ${s.first} and ${s.last} (${parts.join(', ')}), summarised to keep the incident's state bounded; last ${s.lastState} at ${s.last}${reason}`;
}
