import type { Client } from '@temporalio/client';
import type { FleetopsConfig } from '../config/schema';
import type { AwsClients } from './aws/clients';

/** What activities are built from: injected, so tests build them against the emulator or fakes. */
export interface ActivityDeps {
  aws: AwsClients;
  config: FleetopsConfig;
  /** fetch used for webhooks and the GitHub API; injectable for tests. */
  fetch?: typeof fetch;
  /** Client for activities that start or signal workflows (an automation opening an incident); when unset they use the activity context's client. */
  temporal?: { client: Client; namespace: string };
}
