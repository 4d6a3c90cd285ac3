import { upsertSearchAttributes } from '@temporalio/workflow';
import { readinessTimeline } from '../../common/readiness-floor';
import { FleetopsPhase } from '../../common/search-attributes';
import type { ReadinessChange, ReadinessInput, ReadinessLevelInput } from '../../contracts/readiness/input';
import type { ReadinessEvent, ReadinessPhase, ReadinessStatus } from '../../contracts/readiness/messages';

const KEEP_EVENTS = 30;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One window's state: its times and level (a `change` replaces them), its phase (kept in
 * FleetopsPhase: the deploy freeze reads `holding-frozen` from visibility), what the floor check saw,
 * and the events `status` shows. Handlers and the workflow body both work on it.
 */
export class ReadinessWindow {
  start: number;
  end: number;
  level: ReadinessLevelInput;
  reason: string;
  phase: ReadinessPhase = 'waiting';
  /** Bumped by every change: the body's waits end on it. */
  version = 0;
  /** A change after the floor was raised: the floor is sent again (or released if the raise moved later). */
  floorStale = false;
  cancelRequest: { by?: string; reason?: string } | undefined;
  floorUnits: number | undefined;
  onDemandUnits: number | undefined;
  activeUnits: number | undefined;
  reachedAt: number | undefined;
  notifiedAt: number | undefined;
  incident: string | undefined;
  readonly events: ReadinessEvent[] = [];

  constructor(readonly input: ReadinessInput) {
    this.start = Date.parse(input.start);
    this.end = Date.parse(input.end);
    this.level = input.level;
    this.reason = input.reason;
  }

  timeline() {
    return readinessTimeline(this.start, this.level.leadSeconds);
  }
  floorRaised(): boolean {
    return this.phase === 'raising' || this.phase === 'ready' || this.phase === 'holding' || this.phase === 'holding-frozen';
  }
  over(): boolean {
    return this.phase === 'released' || this.phase === 'cancelled';
  }

  setPhase(next: ReadinessPhase): void {
    if (next === this.phase) return;
    this.phase = next;
    upsertSearchAttributes([{ key: FleetopsPhase, value: next }]);
  }
  note(what: string): void {
    this.events.push({ at: iso(Date.now()), what });
    if (this.events.length > KEEP_EVENTS) this.events.splice(0, this.events.length - KEEP_EVENTS);
  }

  /** The `change` validator: refuses a change of a window that is over, or times out of order. */
  validateChange(c: ReadinessChange): void {
    if (this.over()) throw new Error(`the window is ${this.phase}`);
    const start = c.start !== undefined ? Date.parse(c.start) : this.start;
    const end = c.end !== undefined ? Date.parse(c.end) : this.end;
    if (!(end > start)) throw new Error('a window ends after it starts');
    if (end <= Date.now()) throw new Error('the new end has already passed');
  }
  change(c: ReadinessChange): void {
    if (c.start !== undefined) this.start = Date.parse(c.start);
    if (c.end !== undefined) this.end = Date.parse(c.end);
    if (c.level !== undefined) this.level = c.level;
    if (c.reason !== undefined) this.reason = c.reason;
    this.version += 1;
    if (this.floorRaised()) this.floorStale = true;
    // A new floor is checked afresh.
    this.reachedAt = undefined;
    this.note(`changed${c.by ? ` by ${c.by}` : ''}: ${iso(this.start)} → ${iso(this.end)}, level ${this.level.level}`);
  }
  validateCancel(): void {
    if (this.over()) throw new Error(`the window is ${this.phase}`);
  }
  cancel(c: { by?: string; reason?: string }): void {
    this.cancelRequest = c;
    this.version += 1;
    this.note(`cancel asked${c.by ? ` by ${c.by}` : ''}${c.reason ? `: ${c.reason}` : ''}`);
  }

  summary(): string {
    const lvl = `level ${this.level.level} on ${this.input.cluster}`;
    const floor = this.floorUnits !== undefined ? `floor ${this.floorUnits} units (${this.onDemandUnits ?? 0} on-demand), ${this.activeUnits ?? '?'} ACTIVE` : 'no floor raised';
    switch (this.phase) {
      case 'waiting':
        return `${lvl}: raises its floor at ${iso(this.timeline().raiseAt)}, window ${iso(this.start)} → ${iso(this.end)}`;
      case 'raising':
        return `${lvl}: ${floor}; not reached yet, window starts ${iso(this.start)}`;
      case 'ready':
        return `${lvl}: ${floor}; reached, window starts ${iso(this.start)}`;
      case 'holding':
      case 'holding-frozen':
        return `${lvl}: in the window until ${iso(this.end)}; ${floor}${this.phase === 'holding-frozen' ? '; deploys frozen' : ''}`;
      case 'released':
        return `${lvl}: window over, floor released`;
      case 'cancelled':
        return `${lvl}: cancelled${this.cancelRequest?.by ? ` by ${this.cancelRequest.by}` : ''}${this.cancelRequest?.reason ? `: ${this.cancelRequest.reason}` : ''}`;
    }
  }

  status(): ReadinessStatus {
    return {
      phase: this.phase,
      summary: this.summary(),
      cluster: this.input.cluster,
      id: this.input.id,
      start: iso(this.start),
      end: iso(this.end),
      ...(this.input.timeZone ? { timeZone: this.input.timeZone } : {}),
      reason: this.reason,
      level: this.level,
      raiseAt: iso(this.timeline().raiseAt),
      ...(this.floorUnits !== undefined ? { floorUnits: this.floorUnits, onDemandUnits: this.onDemandUnits ?? 0 } : {}),
      ...(this.activeUnits !== undefined ? { activeUnits: this.activeUnits } : {}),
      ...(this.reachedAt !== undefined ? { reachedAt: iso(this.reachedAt) } : {}),
      ...(this.notifiedAt !== undefined || this.incident !== undefined
        ? { escalated: { ...(this.notifiedAt !== undefined ? { notifiedAt: iso(this.notifiedAt) } : {}), ...(this.incident ? { incident: this.incident } : {}) } }
        : {}),
      events: this.events,
    };
  }
}
