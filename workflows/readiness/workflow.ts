import { condition, setHandler } from '@temporalio/workflow';
import { statusQuery } from '../../contracts/controls';
import type { ReadinessInput } from '../../contracts/readiness/input';
import { cancelUpdate, changeUpdate, type ReadinessStatus, type ReadinessWorkflow } from '../../contracts/readiness/messages';
import { escalateByIncident, escalateByNotification, floorActive, holdFloor, releaseFloor, tell } from './floor';
import { ReadinessWindow } from './window';

/**
 * `readiness-<cluster>-<id>`: one readiness window on one cluster, on durable timers.
 *
 * At start minus the level's lead time it raises the floor through the capacity workflow (a
 * `readinessFloor` signal; capacity chooses the pools and keeps scale-ins above it). Until the start
 * it checks that the floor's units are ACTIVE and says so; not there at half the lead time, it tells
 * people, and at three quarters it opens a sev2 incident. Inside the window the capacity workflow
 * holds the floor (and deploys are frozen if the level says so: FleetopsPhase `holding-frozen`).
 * After the end it releases the floor; capacity then scales in as demand says. `change` moves the
 * times or level at any point; `cancel` releases at once.
 */

/** How often the floor is checked for ACTIVE units between its raise and the start. */
const CHECK_MS = 30_000;

export async function readiness(input: ReadinessInput): Promise<ReadinessStatus> {
  // State before handlers: a message in the first workflow task reads it.
  const w = new ReadinessWindow(input);
  setHandler(statusQuery, () => w.status());
  setHandler(changeUpdate, (c) => (w.change(c), w.status()), { validator: (c) => w.validateChange(c), description: 'New times or level for the window.' });
  setHandler(cancelUpdate, (c) => (w.cancel(c), w.status()), { validator: (_c) => w.validateCancel(), description: 'Cancel the window: its floor is released at once.' });
  w.note(`window added${input.requestedBy ? ` by ${input.requestedBy}` : ''}: level ${w.level.level}, ${input.reason}`);

  const waitUntil = async (at: number): Promise<void> => {
    const v = w.version;
    const ms = at - Date.now();
    if (ms > 0) await condition(() => w.version !== v, ms);
  };

  for (;;) {
    if (w.cancelRequest) {
      await releaseFloor(w, `cancelled${w.cancelRequest.by ? ` by ${w.cancelRequest.by}` : ''}`);
      w.setPhase('cancelled');
      await tell(w, 'cancelled', 'cancelled', w.summary());
      return w.status();
    }
    const now = Date.now();
    const t = w.timeline();
    if (w.floorStale) {
      w.floorStale = false;
      if (now < t.raiseAt) {
        // The raise moved later: nothing is held until then.
        await releaseFloor(w, 'the window moved later');
        w.floorUnits = undefined;
        w.setPhase('waiting');
      } else await holdFloor(w);
      continue;
    }
    if (now >= w.end) {
      await releaseFloor(w, 'the window ended');
      w.setPhase('released');
      await tell(w, 'released', 'window over, floor released', w.summary());
      return w.status();
    }
    if (now >= w.start) {
      if (w.phase !== 'holding' && w.phase !== 'holding-frozen') {
        if (!w.floorRaised()) await holdFloor(w);
        const reached = await floorActive(w);
        w.setPhase(w.level.freezeDeploys ? 'holding-frozen' : 'holding');
        w.note(`window started${w.floorUnits !== undefined ? `, ${w.activeUnits} of ${w.floorUnits} units ACTIVE` : ''}`);
        await tell(w, 'started', reached ? 'window started, floor in place' : 'window started below its floor', w.summary());
      }
      await waitUntil(w.end);
      continue;
    }
    if (now < t.raiseAt) {
      w.setPhase('waiting');
      await waitUntil(t.raiseAt);
      continue;
    }
    if (w.phase === 'waiting') {
      await holdFloor(w);
      w.setPhase('raising');
    }
    const reached = await floorActive(w);
    if (reached && w.reachedAt === undefined) {
      w.reachedAt = Date.now();
      w.setPhase('ready');
      w.note(`floor ACTIVE: ${w.activeUnits ?? 0} units`);
      await tell(w, 'ready', 'floor ACTIVE before the window', w.summary());
    } else if (!reached) {
      w.setPhase('raising');
      w.reachedAt = undefined;
      if (Date.now() >= t.notifyAt && w.notifiedAt === undefined) await escalateByNotification(w);
      if (Date.now() >= t.incidentAt && w.incident === undefined) await escalateByIncident(w);
    }
    const next = [Date.now() + CHECK_MS, w.start, ...[t.notifyAt, t.incidentAt].filter((x) => x > Date.now())];
    await waitUntil(Math.min(...next));
  }
}

// Clients type their handles with ReadinessWorkflow (contracts/readiness/messages.ts).
readiness satisfies ReadinessWorkflow;
