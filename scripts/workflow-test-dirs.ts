import { WORKFLOW_LIST } from '../contracts/registry';

/** The test folders that record the workflows' histories (contracts/registry.ts), one line: `make record-histories` runs them. */
console.log([...new Set(WORKFLOW_LIST.map((w) => w.testDir))].join(' '));
