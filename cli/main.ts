#!/usr/bin/env node
/**
 * `fleetops` — the operator CLI (docs/contract.md, Processes). Exit codes: 0 ok, 1 the operation failed
 * (workflow not found, update rejected, Temporal unreachable), 2 usage or bad input, with a message.
 */
import { processIo } from './io';
import { runCli } from './program';

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fleetops: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
