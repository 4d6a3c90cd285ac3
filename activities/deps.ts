import type { Client } from '@temporalio/client';
import type { FleetopsConfig } from '../config/schema';
import type { AwsClients } from './aws/clients';

/** What activities are built from: injected, so tests build them against the emulator or fakes. */
export interface ActivityDeps {
  /** The worker's own clients (its account and aws.region): the events queue, postmortems, and clusters placed there. */
  aws: AwsClients;
  /**
   * The clients for the cluster an activity acts on: its region, and its role's credentials when it is
   * in another account (activities/aws/cluster-clients.ts). Unset: every cluster uses `aws`.
   */
  clientsFor?: (cluster: string) => AwsClients;
  config: FleetopsConfig;
  /** fetch used for webhooks and the GitHub API; injectable for tests. */
  fetch?: typeof fetch;
  /** Client for activities that start or signal workflows (an automation opening an incident); when unset they use the activity context's client. */
  temporal?: { client: Client; namespace: string };
}

/** The AWS clients an activity uses for `cluster`. */
export const clientsFor = (deps: ActivityDeps, cluster: string): AwsClients => deps.clientsFor?.(cluster) ?? deps.aws;
