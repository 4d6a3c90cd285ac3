import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKFLOW_LIST } from '../../contracts/registry';
import { ROOT } from '../../testkit/paths';

/**
 * The README's front-door table names every workflow the workers register, by the id it runs under
 * (contracts/registry.ts): a workflow added without its row, or a row left for one removed, fails here.
 */
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const rows = readme.split('\n').filter((l) => /^\| [a-z].*\(`[^`]+`/.test(l));
/** The fixed start of a workflow's id, e.g. `readiness-` of `readiness-<cluster>-<id>`. */
const idPrefix = (ids: string) => ids.split(/[<[ ]/)[0]!;

test('the README has a row for every workflow, and a row only for workflows that exist', () => {
  const prefixes = WORKFLOW_LIST.map((w) => idPrefix(w.ids));
  expect(prefixes.every((p) => p.length > 0)).toBe(true);
  for (const p of prefixes) expect([p, rows.some((r) => r.includes(`\`${p}`))]).toEqual([p, true]);
  expect(rows).toHaveLength(WORKFLOW_LIST.length);
  expect(readme).toContain(`${['No', 'One', 'Two', 'Three', 'Four', 'Five', 'Six', 'Seven', 'Eight', 'Nine', 'Ten', 'Eleven', 'Twelve', 'Thirteen', 'Fourteen'][WORKFLOW_LIST.length]} workflows do that work`);
});
