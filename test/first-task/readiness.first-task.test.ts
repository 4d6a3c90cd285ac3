import type { ReadinessFloorRequest } from '../../activities/readiness';
import { statusQuery } from '../../contracts/controls';
import type { ReadinessInput } from '../../contracts/readiness/input';
import { cancelUpdate, changeUpdate, type ReadinessStatus } from '../../contracts/readiness/messages';
import { readinessStartOptions } from '../../contracts/readiness/start';
import { FakeCloud } from '../capacity/fake-cloud';
import { uniqueTaskQueue } from '../harness/temporal';
import { level } from '../readiness/harness';
import { accepted, expectUpdateInFirstTask, queryBeforeWorker, refused, startOnly, startWithUpdate, statusUntil, unique, useDevServer, withWorker, type StartOptions } from './first-task';

/**
 * Every message the readiness workflow accepts (`status`, `change`, `cancel`), delivered in its first
 * workflow task: the window answers it from the state it starts with, and goes on (or ends) as the
 * message says. A readiness run never continues as new, so a new run is the only case. The floor's
 * sends are recorded, not delivered; the cluster's units are test/capacity/fake-cloud.ts's.
 */

const devServer = useDevServer();
const HOUR = 3_600_000;

interface Case {
  cloud: FakeCloud;
  taskQueue: string;
  input: ReadinessInput;
  start: StartOptions;
  floors: ReadinessFloorRequest[];
  activities: Record<string, (...args: never[]) => Promise<unknown>>;
}

/** A window starting `startIn` ms from now, an hour long, level 3 (6 units, 300 s lead). */
function newCase(startIn: number): Case {
  const cloud = new FakeCloud();
  const taskQueue = uniqueTaskQueue('readiness-first-task');
  const now = Date.now();
  const input: ReadinessInput = { cluster: unique('first-task'), id: 'sale', start: new Date(now + startIn).toISOString(), end: new Date(now + startIn + HOUR).toISOString(), reason: 'TV spot', level: level() };
  const { workflowType, ...options } = readinessStartOptions(input);
  const floors: ReadinessFloorRequest[] = [];
  const sendReadinessFloor = async (req: ReadinessFloorRequest) => (floors.push(req), { workflowId: `capacity-${req.cluster}` });
  return { cloud, taskQueue, input, start: { workflowType, ...options, taskQueue }, floors, activities: { ...cloud.activities(), sendReadinessFloor } };
}

describe('readiness: a message in the first workflow task of a new run', () => {
  it('status query is answered waiting, with the window as it was added', async () => {
    const env = devServer();
    const c = newCase(2 * HOUR);
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      const s = (await answer) as ReadinessStatus;
      expect(s).toMatchObject({ phase: 'waiting', cluster: c.input.cluster, id: 'sale', start: c.input.start, end: c.input.end, reason: 'TV spot' });
      expect(s.events.map((e) => e.what)).toEqual(['window added: level 3, TV spot']);
      await handle.executeUpdate(cancelUpdate, { args: [{ by: 'jest' }] });
      expect(((await handle.result()) as ReadinessStatus).phase).toBe('cancelled');
      expect(c.floors).toEqual([]);
    });
  });

  it('change update is answered with the new times and level, and the window waits for its new raise', async () => {
    const env = devServer();
    const c = newCase(2 * HOUR);
    const start = new Date(Date.now() + 3 * HOUR).toISOString();
    const end = new Date(Date.now() + 4 * HOUR).toISOString();
    const { handle, answer } = await startWithUpdate(env, c.start, changeUpdate, [{ start, end, level: level({ level: 4, floor: { units: 8 } }), by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ start, end, level: { level: 4, floor: { units: 8 } } });
      await expectUpdateInFirstTask(handle, 'change');
      const s = await statusUntil<ReadinessStatus>(handle, 'the changed window to wait', (x) => x.phase === 'waiting');
      expect(Date.parse(s.raiseAt)).toBe(Date.parse(start) - 300_000);
      expect(s.events.map((e) => e.what)).toContainEqual(expect.stringMatching(/^changed by alice: .* level 4$/));
      expect(c.floors).toEqual([]);
      await handle.executeUpdate(cancelUpdate, { args: [{ by: 'jest' }] });
      await handle.result();
    });
  });

  it('change update with times out of order is refused, and the window keeps its own', async () => {
    const env = devServer();
    const c = newCase(2 * HOUR);
    const { handle, answer } = await startWithUpdate(env, c.start, changeUpdate, [{ end: new Date(Date.now() + HOUR).toISOString() }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await refused(answer)).toBe('a window ends after it starts');
      const s = await statusUntil<ReadinessStatus>(handle, 'the window to wait', (x) => x.phase === 'waiting');
      expect({ start: s.start, end: s.end }).toEqual({ start: c.input.start, end: c.input.end });
      await handle.executeUpdate(cancelUpdate, { args: [{ by: 'jest' }] });
      await handle.result();
    });
  });

  it('cancel update of a window whose raise is due ends it cancelled before any floor is sent', async () => {
    const env = devServer();
    // Starts within its lead time: without the cancel, the first task would raise the floor.
    const c = newCase(60_000);
    const { handle, answer } = await startWithUpdate(env, c.start, cancelUpdate, [{ by: 'alice', reason: 'campaign moved' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect((await accepted(answer)).events.map((e) => e.what)).toContain('cancel asked by alice: campaign moved');
      await expectUpdateInFirstTask(handle, 'cancel');
      const done = (await handle.result()) as ReadinessStatus;
      expect(done).toMatchObject({ phase: 'cancelled', summary: expect.stringMatching(/cancelled by alice: campaign moved$/) });
      expect(c.floors).toEqual([]);
      expect(c.cloud.notifications.map((n) => n.title)).toEqual([`readiness ${c.input.cluster} level 3: cancelled`]);
    });
  });
});
