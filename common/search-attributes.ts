import type { WorkflowKind } from './workflow-kinds';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes operators filter on in the Web UI (docs/contract.md, Search attributes). All Keyword.
 * Registered by the local stack at start and by `fleetops setup` against a real cluster.
 */
export const FleetopsKind = defineSearchAttributeKey('FleetopsKind', SearchAttributeType.KEYWORD);
export const FleetopsCluster = defineSearchAttributeKey('FleetopsCluster', SearchAttributeType.KEYWORD);
export const FleetopsService = defineSearchAttributeKey('FleetopsService', SearchAttributeType.KEYWORD);
export const FleetopsInstanceId = defineSearchAttributeKey('FleetopsInstanceId', SearchAttributeType.KEYWORD);
export const FleetopsPhase = defineSearchAttributeKey('FleetopsPhase', SearchAttributeType.KEYWORD);
export const FleetopsSeverity = defineSearchAttributeKey('FleetopsSeverity', SearchAttributeType.KEYWORD);
/** The AWS account and region a workflow acts in (set where the config places clusters in several accounts). */
export const FleetopsAccount = defineSearchAttributeKey('FleetopsAccount', SearchAttributeType.KEYWORD);
export const FleetopsRegion = defineSearchAttributeKey('FleetopsRegion', SearchAttributeType.KEYWORD);

/** FleetopsAccount and FleetopsRegion of a placement; none when there is none (single-account configs). */
export const placementAttributes = (p: { account: string; region: string } | undefined) =>
  p
    ? [
        { key: FleetopsAccount, value: p.account },
        { key: FleetopsRegion, value: p.region },
      ]
    : [];

export const ALL_SEARCH_ATTRIBUTES = [
  FleetopsKind,
  FleetopsCluster,
  FleetopsService,
  FleetopsInstanceId,
  FleetopsPhase,
  FleetopsSeverity,
  FleetopsAccount,
  FleetopsRegion,
] as const;

/** `FleetopsKind` values: one per workflow kind. */
export type FleetopsKindValue = WorkflowKind;
