import { z } from 'zod';
import { INCIDENT_SEVERITIES } from '../../common/incident/severity';
import { defineEventKind } from './envelope';

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
});
