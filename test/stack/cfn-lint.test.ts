import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../testkit/paths';

/**
 * Every CloudFormation template under deploy/ passes cfn-lint (AWS's own template linter, pinned in
 * tools/requirements-moto.txt, installed in .tools/venv by `make tools`) with no error and no warning.
 * A rule that must be ignored is ignored in .cfnlintrc with the reason beside it, not here.
 */

const CFN_LINT = join(ROOT, '.tools', 'venv', 'bin', 'cfn-lint');

function templates(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return templates(p);
    return /\.ya?ml$/.test(name) && /^AWSTemplateFormatVersion:/m.test(readFileSync(p, 'utf8')) ? [p] : [];
  });
}

describe('cfn-lint', () => {
  const found = templates(join(ROOT, 'deploy'));

  it('finds the kit templates', () => {
    expect(existsSync(CFN_LINT)).toBe(true);
    expect(found.map((f) => relative(ROOT, f)).sort()).toEqual(expect.arrayContaining(['deploy/aws/fleetops-events.yaml', 'deploy/aws/fleetops-member.yaml']));
  });

  it.each(found.map((f) => [relative(ROOT, f)]))('%s: no errors, no warnings', (file) => {
    const res = spawnSync(CFN_LINT, ['--format', 'parseable', '--', file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect({ status: res.status, out: `${res.stdout}${res.stderr}`.trim() }).toEqual({ status: 0, out: '' });
  });
});
