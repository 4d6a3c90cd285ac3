import type { WorkflowKind } from './workflow-kinds';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes operators filter on in the Web UI (PRODUCT.md, "Workflow surface"). All Keyword.
 * Registered by the local stack at start and by `fleetops setup` against a real cluster.
 */
export const FleetopsKind = defineSearchAttributeKey('FleetopsKind', SearchAttributeType.KEYWORD);
export const FleetopsCluster = defineSearchAttributeKey('FleetopsCluster', SearchAttributeType.KEYWORD);
export const FleetopsService = defineSearchAttributeKey('FleetopsService', SearchAttributeType.KEYWORD);
export const FleetopsInstanceId = defineSearchAttributeKey('FleetopsInstanceId', SearchAttributeType.KEYWORD);
export const FleetopsPhase = defineSearchAttributeKey('FleetopsPhase', SearchAttributeType.KEYWORD);
export const FleetopsSeverity = defineSearchAttributeKey('FleetopsSeverity', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  FleetopsKind,
  FleetopsCluster,
  FleetopsService,
  FleetopsInstanceId,
  FleetopsPhase,
  FleetopsSeverity,
] as const;

/** `FleetopsKind` values: one per workflow kind. */
export type FleetopsKindValue = WorkflowKind;
