import type { RouterMetrics } from './metrics';

/**
 * Deletes of carried-out messages, batched (router/sqs-consumer.ts): each waits up to
 * DELETE_LINGER_MS for company, so up to 10 go in one DeleteMessageBatch call. The call itself is
 * the consumer's (`send`), which says per entry whether it failed.
 */

export const DELETE_BATCH = 10;
const DELETE_LINGER_MS = 20;

interface PendingDelete {
  receiptHandle: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** One DeleteMessageBatch call: entry ids are the positions in the batch; the answer lists those that failed. */
export type DeleteBatchCall = (entries: { Id: string; ReceiptHandle: string }[]) => Promise<{ Failed?: { Id?: string; Code?: string; Message?: string }[] }>;

export class DeleteBatcher {
  private pending: PendingDelete[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: DeleteBatchCall,
    private readonly metrics: RouterMetrics,
  ) {}

  /** Resolves once SQS deleted the message; rejects with the reason when it did not. */
  delete(receiptHandle: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ receiptHandle, resolve, reject });
      if (this.pending.length >= DELETE_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), DELETE_LINGER_MS);
    });
  }

  /** Sends every pending delete now (the consumer stops). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, DELETE_BATCH);
      const started = performance.now();
      this.send(batch.map((d, i) => ({ Id: String(i), ReceiptHandle: d.receiptHandle })))
        .then((res) => {
          this.metrics.sqsCall.observe({ operation: 'DeleteMessageBatch', outcome: res.Failed?.length ? 'partial' : 'ok' }, (performance.now() - started) / 1000);
          const failed = new Map((res.Failed ?? []).map((f) => [f.Id, f]));
          batch.forEach((d, i) => {
            const f = failed.get(String(i));
            if (f) d.reject(new Error(`delete failed: ${f.Code}: ${f.Message ?? ''}`));
            else d.resolve();
          });
        })
        .catch((err: unknown) => {
          this.metrics.sqsCall.observe({ operation: 'DeleteMessageBatch', outcome: 'error' }, (performance.now() - started) / 1000);
          for (const d of batch) d.reject(err instanceof Error ? err : new Error(String(err)));
        });
    }
  }
}
