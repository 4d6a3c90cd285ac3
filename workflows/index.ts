/**
 * Every workflow the workers register. One workflow per file; its signals, queries and updates are
 * defined beside it, and clients import them from there.
 */
export { spotDrain } from './spot-drain/workflow';
export { incident } from './incident/workflow';
export { capacity } from './capacity/workflow';
export { canaryDeploy } from './canary-deploy/workflow';
export { launch } from './launch/workflow';
export { drainCoordinator } from './drain-coordinator/workflow';
