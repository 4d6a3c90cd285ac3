import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../../testkit/paths';

/**
 * A doc that names a file which moved or never existed sends a newcomer nowhere. Every repository
 * path the README and docs/ name must exist: relative markdown links, and any word that starts with
 * one of the repository's top-level folders (`router/routes.ts`, `test/histories/released/<version>/`).
 * A `<placeholder>` segment matches any entry; a path with `…` or `*` is an example, not a path.
 */

/** Folders under the root that hold no repository files: build output, local run state, tool links. */
const NOT_IN_REPO = new Set(['node_modules', 'dist', 'artifacts']);

const topFolders = readdirSync(ROOT).filter((n) => !n.startsWith('.') && !NOT_IN_REPO.has(n) && statSync(join(ROOT, n)).isDirectory());

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => `docs/${n}`);
  return ['README.md', ...docs];
}

/** Does a repository-relative path exist, with `<…>` segments matching any entry? */
function exists(path: string): boolean {
  const segments = path.replace(/\/+$/, '').split('/');
  let candidates = [ROOT];
  for (const segment of segments) {
    if (!segment.includes('<')) {
      candidates = candidates.map((c) => join(c, segment)).filter((c) => existsSync(c));
      continue;
    }
    const pattern = new RegExp(`^${segment.split(/<[^>]+>/).map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
    candidates = candidates.flatMap((c) =>
      existsSync(c) && statSync(c).isDirectory()
        ? readdirSync(c)
            .filter((n) => pattern.test(n))
            .map((n) => join(c, n))
        : [],
    );
  }
  return candidates.length > 0;
}

/** Repository-relative paths a doc names: its relative links, and words starting with a top-level folder. */
function namedPaths(doc: string): { path: string; as: string }[] {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const found: { path: string; as: string }[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!.split('#')[0]!;
    if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    found.push({ path: relative(ROOT, resolve(dirname(join(ROOT, doc)), target)), as: m[0] });
  }
  const folders = topFolders.map((f) => f.replace(/[.-]/g, '\\$&')).join('|');
  const word = new RegExp(`(?<![\\w.\\/<>$~-])(?:${folders})\\/[\\w.\\/<>-]*`, 'g');
  for (const m of text.matchAll(word)) {
    const after = text[m.index + m[0].length];
    if (after === '…' || after === '*') continue;
    found.push({ path: m[0].replace(/[.,:;]+$/, ''), as: m[0] });
  }
  return found;
}

describe('paths named in the README and docs/', () => {
  it('reads the docs and finds paths in them (a check over nothing proves nothing)', () => {
    expect(docFiles()).toEqual(expect.arrayContaining(['README.md', 'docs/contributing.md', 'docs/operating.md']));
    expect(topFolders).toEqual(expect.arrayContaining(['router', 'workflows', 'test', 'docs']));
    expect(namedPaths('README.md').map((p) => p.path)).toEqual(expect.arrayContaining(['stack/ports.ts', 'docs/operating.md']));
  });

  it('every path a doc names exists in the repository', () => {
    const missing = docFiles().flatMap((doc) =>
      namedPaths(doc)
        .filter((p) => !exists(p.path))
        .map((p) => `${doc}: ${p.as}`),
    );
    expect(missing).toEqual([]);
  });

  it('a renamed file is caught: a path that does not exist is reported', () => {
    expect(exists('router/routes.ts')).toBe(true);
    expect(exists('test/histories/released/<version>/')).toBe(true);
    expect(exists('contracts/<wf>/messages.ts')).toBe(true);
    expect(exists('test/e2e/deploy.test.ts')).toBe(false);
    expect(exists('workflows/<wf>/no-such-file.ts')).toBe(false);
  });
});
