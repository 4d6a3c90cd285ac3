import { releaseRequestSchema } from '../../contracts/release/input';
import { ReleaseRequestRefused, releaseStartFor } from '../../contracts/release/request';
import { dryRunOf, RouteValidationError, targetOf } from '../routing/decision';
import { defineEventKind } from './kind';

/**
 * `fleetops` / `Release Requested`: one change to many services in waves (contracts/release/), sent by
 * the CLI, a chat bot or a pipeline over HTTP or through EventBridge. Its detail is a release request: a
 * manifest, or one image and a selector. Every service and image is checked where `fleetops release
 * start` checks them; the release's id is used once, so a redelivered request is `duplicate`.
 */
export const releaseRequested = defineEventKind({
  kind: 'release-requested',
  source: 'fleetops',
  detailType: 'Release Requested',
  detail: releaseRequestSchema,
  rule: { id: 'ReleaseRequestedRule', does: 'release', bus: 'commands' },
  route: ({ envelope, detail: d }, config, opts) => {
    try {
      const start = releaseStartFor(config, {
        ...d,
        // Over HTTP the token's name (token:<name>); on the queue the event's own requestedBy.
        requestedBy: opts.requestedBy ?? d.requestedBy ?? `router:${envelope.id}`,
        ...dryRunOf(opts, d.dryRun),
      });
      return { action: 'start', ...targetOf(start) };
    } catch (err) {
      if (err instanceof ReleaseRequestRefused) throw new RouteValidationError(`detail.${err.field}`, err.message);
      throw err;
    }
  },
});
