import { userInfo } from 'node:os';

/** Where a CLI run reads and writes: the process for `bin/fleetops`, buffers for in-process tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * The OS user the CLI runs as (os.userInfo()), its identity `cli:<user>` in requests and approvals.
   * Not read from the environment, so it cannot be typed in; in-process tests give their own.
   */
  user(): string;
}

export const processIo = (): CliIo => ({
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  user: () => userInfo().username,
});
