/**
 * The HTTP edge's bound on requests being worked on at once (POST /events). A request holds its place
 * until it is answered AND the Temporal calls it started have settled: a request answered 503 at its
 * deadline keeps its place while its calls run on, so what goes on in the background is bounded too
 * (places × the per-request fan-out limit). Over the limit a request is answered 503 at once, with
 * Retry-After, before its body is read.
 */
export interface Place {
  /** One more holder (the request's dispatch work): the place is free when every holder has released. */
  hold(): void;
  /** Idempotent per holder count: releasing more often than held does nothing. */
  release(): void;
}

export class InFlightLimit {
  private count = 0;

  constructor(readonly max: number) {}

  get inFlight(): number {
    return this.count;
  }

  /** A place held once (by the answer), or undefined when all are taken. */
  tryAcquire(): Place | undefined {
    if (this.count >= this.max) return undefined;
    this.count += 1;
    let holders = 1;
    return {
      hold: () => {
        if (holders > 0) holders += 1;
      },
      release: () => {
        if (holders <= 0) return;
        holders -= 1;
        if (holders === 0) this.count -= 1;
      },
    };
  }
}
