/**
 * Every workflow the workers register (contracts/registry.ts lists them). One workflow per file; its
 * input, signals, queries, updates and start options are its contract, contracts/<folder>/, which the
 * workflow and its clients both import.
 */
export { spotDrain } from './spot-drain/workflow';
export { incident } from './incident/workflow';
export { capacity } from './capacity/workflow';
export { canaryDeploy } from './canary-deploy/workflow';
export { launch } from './launch/workflow';
export { drainCoordinator } from './drain-coordinator/workflow';
export { drainBudget } from './drain-budget/workflow';
export { readiness } from './readiness/workflow';
export { deployTrigger } from './deploy-trigger/workflow';
export { readinessTrigger } from './readiness-trigger/workflow';
export { readinessFeed } from './readiness-feed/workflow';
export { release } from './release/workflow';
export { releaseTrigger } from './release-trigger/workflow';
