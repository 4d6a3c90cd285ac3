import { KeyedBatcher } from '../../common/batching';

/**
 * The batcher under the router's head start (router/head-start.ts): a storm's warnings arrive as many
 * requests a few milliseconds apart, and should reach the drain coordinator in as few signals as
 * possible without holding a lone request back.
 */
function recorder(opts: { maxBatch: number; lingerMs: number; quietMs?: number }) {
  const flushed: { at: number; items: number[] }[] = [];
  const start = Date.now();
  const batcher = new KeyedBatcher<string, number, true>({
    ...opts,
    flush: async (_key, items) => {
      flushed.push({ at: Date.now() - start, items });
      return items.map(() => true as const);
    },
  });
  return { batcher, flushed };
}

/** Adds items 0…count-1, one every `everyMs`, as concurrent requests' notices arrive; their results. */
function addEvery(batcher: KeyedBatcher<string, number, true>, count: number, everyMs: number): Promise<true[]> {
  const results: Promise<true>[] = [];
  for (let i = 0; i < count; i += 1) {
    results.push(batcher.add('coordinator', i));
    jest.advanceTimersByTime(everyMs);
  }
  return Promise.all(results);
}

describe('KeyedBatcher with a quiet period', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends items that keep arriving close together in one batch', async () => {
    const { batcher, flushed } = recorder({ maxBatch: 1_000, lingerMs: 100, quietMs: 20 });
    const results = addEvery(batcher, 5, 10);
    expect(flushed).toEqual([]);
    jest.advanceTimersByTime(20);
    await results;
    expect(flushed).toEqual([{ at: 60, items: [0, 1, 2, 3, 4] }]);
  });

  it('sends a lone item once the quiet period has passed, not after the whole linger', async () => {
    const { batcher, flushed } = recorder({ maxBatch: 1_000, lingerMs: 100, quietMs: 20 });
    const result = batcher.add('coordinator', 7);
    jest.advanceTimersByTime(19);
    expect(flushed).toEqual([]);
    jest.advanceTimersByTime(1);
    await result;
    expect(flushed).toEqual([{ at: 20, items: [7] }]);
  });

  it('holds no batch past the linger, however steadily items arrive', async () => {
    const { batcher, flushed } = recorder({ maxBatch: 1_000, lingerMs: 100, quietMs: 20 });
    const results = addEvery(batcher, 15, 10);
    jest.advanceTimersByTime(20);
    await results;
    expect(flushed.map((f) => f.at)).toEqual([100, 160]);
    expect(flushed.map((f) => f.items.length)).toEqual([10, 5]);
  });

  it('sends a full batch at once', async () => {
    const { batcher, flushed } = recorder({ maxBatch: 3, lingerMs: 100, quietMs: 20 });
    const results = [1, 2, 3].map((i) => batcher.add('coordinator', i));
    await Promise.all(results);
    expect(flushed).toEqual([{ at: 0, items: [1, 2, 3] }]);
  });

  it('without a quiet period, waits the linger from the first item as before', async () => {
    const { batcher, flushed } = recorder({ maxBatch: 1_000, lingerMs: 25 });
    const first = batcher.add('cluster', 1);
    jest.advanceTimersByTime(20);
    const second = batcher.add('cluster', 2);
    jest.advanceTimersByTime(5);
    await Promise.all([first, second]);
    expect(flushed).toEqual([{ at: 25, items: [1, 2] }]);
  });
});
