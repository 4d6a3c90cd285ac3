/** What `make up` prints on its console: its own progress lines, prefixed `stack:`, and durations. */
export const print = (line: string): void => void process.stdout.write(`${line}\n`);
export const say = (line: string): void => print(`stack: ${line}`);
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
