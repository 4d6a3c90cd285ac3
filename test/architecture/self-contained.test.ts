import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ROOT } from '../../testkit/paths';

/**
 * Everything a reader needs is in the repository. A comment or doc that cites a spec file kept
 * elsewhere, or an issue number from a tracker a reader cannot see, sends them nowhere: cite
 * docs/contract.md for the outside contract, and say what the thing does instead of which issue
 * asked for it. Test titles follow the same rule.
 */

/** Not the project's own text: dependencies, build output, local state, tool links, recorded histories. */
const SKIP = new Set(['node_modules', 'dist', 'artifacts', 'histories']);
const TEXT = /\.(ts|js|mjs|cjs|md|ya?ml|py|sh|toml|txt)$|^(Makefile|Dockerfile)$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name.startsWith('.') || SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return TEXT.test(name) ? [relative(ROOT, path).split(sep).join('/')] : [];
  });
}

const all = files(ROOT);
const isTest = (f: string): boolean => f.startsWith('test/');
const lines = (f: string): { f: string; n: number; line: string }[] =>
  readFileSync(join(ROOT, f), 'utf8')
    .split('\n')
    .map((line, i) => ({ f, n: i + 1, line }));
const show = (hits: { f: string; n: number; line: string }[]): string[] => hits.map((h) => `${h.f}:${h.n}: ${h.line.trim()}`);

/** The outside spec's file name, spelled so that this file does not mention it itself. */
const SPEC_FILE = new RegExp(['PRODUCT', 'md'].join('\\.'));
const ISSUE_NUMBER = /\bissues? \d+\b/i;
const TEST_TITLE = /\b(?:it|test|describe)(?:\.each\([^)]*\))?\(\s*(['"`])(.*?)\1/;

describe('the repository stands on its own', () => {
  it('sees the project (a check over nothing proves nothing)', () => {
    expect(all).toEqual(expect.arrayContaining(['README.md', 'docs/contract.md', 'Makefile', 'router/routes.ts', 'deploy/aws/fleetops-events.yaml']));
    expect(all.filter(isTest).length).toBeGreaterThan(50);
  });

  it('no source or doc cites the spec file kept outside the repository (docs/contract.md is the contract)', () => {
    const hits = all.filter((f) => !isTest(f)).flatMap(lines).filter((l) => SPEC_FILE.test(l.line));
    expect(show(hits)).toEqual([]);
  });

  it('no test title cites that spec file either', () => {
    const hits = all
      .filter(isTest)
      .flatMap(lines)
      .filter((l) => SPEC_FILE.test(TEST_TITLE.exec(l.line)?.[2] ?? '') || /PRODUCT\b/.test(TEST_TITLE.exec(l.line)?.[2] ?? ''));
    expect(show(hits)).toEqual([]);
  });

  it('no source, doc or test cites an issue number', () => {
    const hits = all.flatMap(lines).filter((l) => ISSUE_NUMBER.test(l.line));
    expect(show(hits)).toEqual([]);
  });
});
