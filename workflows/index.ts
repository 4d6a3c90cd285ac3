/**
 * Every workflow the workers register. One workflow per file; its signals, queries and updates are
 * defined beside it, and clients import them from there.
 */
export * from './spot-drain';
export * from './incident';
export * from './capacity';
export { canaryDeploy } from './canary-deploy/workflow';
