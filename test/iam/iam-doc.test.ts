import { readFileSync } from 'node:fs';
import { IAM_DOC, renderIamDoc, statementComments } from '../../scripts/iam/iam-doc';
import { join } from 'node:path';
import { ROOT } from '../../testkit/paths';

test('docs/iam.md is what scripts/iam/iam-doc.ts generates from the kit (run it with --write after changing deploy/aws/)', () => {
  expect(readFileSync(IAM_DOC, 'utf8')).toBe(renderIamDoc());
});

test('the doc takes each statement\'s reason from the comment above it in the template', () => {
  const why = statementComments(join(ROOT, 'deploy', 'aws', 'fleetops-events.yaml'));
  expect(why.FleetopsTerminatePoolInstances).toMatch(/pools' instances/);
  expect(why.FleetopsListenerRules).toMatch(/fleetops:service/);
});
