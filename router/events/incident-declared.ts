import { z } from 'zod';
import { INCIDENT_SEVERITIES } from '../../common/incident/severity';
import { declaredIncidentWorkflowId } from '../../common/workflow-ids';
import { incidentStartOptions } from '../../contracts/incident/start';
import { dryRunOf, shortIdOf, targetOf } from '../routing/decision';
import { defineEventKind } from './kind';

/** `fleetops` / `Incident Declared`: a person (or a tool acting for one) opens an incident. */
export const incidentDeclared = defineEventKind({
  kind: 'incident-declared',
  source: 'fleetops',
  detailType: 'Incident Declared',
  detail: z
    .object({
      title: z.string().trim().min(1).max(200),
      severity: z.enum(INCIDENT_SEVERITIES),
      summary: z.string().max(4000).optional(),
      declaredBy: z.string().min(1).max(255).optional(),
      onCall: z.string().min(1).max(255).optional(),
      dryRun: z.boolean().optional(),
    })
    .strict(),
  rule: { id: 'IncidentDeclaredRule', does: 'incident', bus: 'commands' },
  route: ({ envelope, detail: d }, _config, opts) => {
    const start = incidentStartOptions(
      declaredIncidentWorkflowId(d.title, shortIdOf(envelope.id)),
      {
        title: d.title,
        severity: d.severity,
        ...(d.summary ? { summary: d.summary } : {}),
        source: { kind: 'event', eventId: envelope.id, ...(d.declaredBy ? { by: d.declaredBy } : {}) },
        ...(d.onCall ? { onCall: d.onCall } : {}),
        ...dryRunOf(opts, d.dryRun),
      },
      {
        // The id is per event: a closed incident must not be reopened by a late redelivery.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      },
    );
    return { action: 'start', ...targetOf(start) };
  },
});
