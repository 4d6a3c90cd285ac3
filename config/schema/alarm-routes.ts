import { z } from 'zod';
import { INCIDENT_SEVERITIES } from '../../common/incident/severity';
import { name } from './fields';

/** `alarmRoutes[]`: which CloudWatch alarms scale a cluster out or in, or open an incident. */

export const alarmRouteSchema = z
  .object({
    /** Matches an alarm by exact name or by name prefix; exactly one. */
    alarmName: z.string().min(1).optional(),
    alarmPrefix: z.string().min(1).optional(),
    action: z.enum(['scale-out', 'scale-in', 'incident']),
    /**
     * The cluster a scale route scales (required there). On an incident route, optional: the incident
     * is tagged FleetopsCluster=<cluster>, and while a sev1/sev2 one is open, deploys to it are refused.
     */
    cluster: name.optional(),
    severity: z.enum(INCIDENT_SEVERITIES).optional(),
    /** Units for scale-out/scale-in; the cluster's stepUnits when unset. */
    units: z.number().int().positive().optional(),
  })
  .strict()
  .refine((r) => Boolean(r.alarmName) !== Boolean(r.alarmPrefix), { message: 'set exactly one of alarmName or alarmPrefix' })
  .refine((r) => r.action === 'incident' || Boolean(r.cluster), { message: 'scale-out and scale-in routes need a cluster', path: ['cluster'] })
  .refine((r) => r.action !== 'incident' || Boolean(r.severity), { message: 'incident routes need a severity', path: ['severity'] });

export type AlarmRoute = z.infer<typeof alarmRouteSchema>;
