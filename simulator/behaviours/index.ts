import type { BehaviourFactory } from '../behaviour';

/**
 * Every behaviour module the simulator loads, in the order their `intercept` and `afterResponse`
 * hooks run. Add a module as `simulator/behaviours/<name>.ts` exporting a `BehaviourFactory` and
 * list it here.
 */
export const BEHAVIOURS: readonly BehaviourFactory[] = [];
