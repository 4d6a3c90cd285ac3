/**
 * Reads that callers asking together share: the first caller's call runs, the others join it, and
 * the next caller after it settles makes a new one (a drain's deregister and its move both list and
 * describe the same tasks within milliseconds).
 */
export class JoinedCalls {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  join<T>(key: string, call: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const p = call().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }
}
