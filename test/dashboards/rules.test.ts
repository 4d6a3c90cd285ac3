import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { z } from 'zod';
import { readAlertRules } from '../../testkit/prometheus-check';
import { ROOT } from '../../testkit/paths';

/**
 * The alert rules (deploy/prometheus/rules.yml) pass `promtool check rules` and their unit tests
 * (rules.test.yml, `promtool test rules`), and each alert has a case where it fires and one where it must
 * not. promtool is Debian's prometheus package (scripts/install-prometheus.sh; make test installs it).
 */

const run = promisify(execFile);
const PROMTOOL = '/usr/bin/promtool';
const RULES = join(ROOT, 'deploy', 'prometheus', 'rules.yml');
const RULE_TESTS = join(ROOT, 'deploy', 'prometheus', 'rules.test.yml');

const promtool = async (...args: string[]) => {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: run scripts/install-tools.sh prometheus (make test does)`);
  return run(PROMTOOL, args, { cwd: ROOT }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`promtool ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  });
};

const ruleTests = z
  .object({
    tests: z.array(z.object({ name: z.string(), alert_rule_test: z.array(z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()).nullish() })) })),
  })
  .parse(parse(readFileSync(RULE_TESTS, 'utf8')));

describe('alert rules', () => {
  it('are valid rules, six alerts in four groups', async () => {
    const { stdout } = await promtool('check', 'rules', RULES);
    expect(stdout).toContain('SUCCESS: 6 rules found');
    expect(readAlertRules(RULES).map((r) => `${r.group}/${r.name}`)).toEqual([
      'fleetops-drains/FleetopsDrainDeadlineMissed',
      'fleetops-capacity/FleetopsCapacityUnmet',
      'fleetops-capacity/FleetopsOnDemandShareHigh',
      'fleetops-router/FleetopsEventsDeadLetters',
      'fleetops-router/FleetopsRouter503s',
      'fleetops-worker/FleetopsNoCriticalPoller',
    ]);
  });

  it('pass their promtool unit tests', async () => {
    const { stdout } = await promtool('test', 'rules', RULE_TESTS);
    expect(stdout).toContain('SUCCESS');
  });

  it('each alert is tested firing and not firing', () => {
    const checks = ruleTests.tests.flatMap((t) => t.alert_rule_test);
    const cases = readAlertRules(RULES).map((r) => ({
      alert: r.name,
      fires: checks.some((c) => c.alertname === r.name && (c.exp_alerts ?? []).length > 0),
      silent: checks.some((c) => c.alertname === r.name && (c.exp_alerts ?? []).length === 0),
    }));
    expect(cases).toEqual(cases.map((c) => ({ alert: c.alert, fires: true, silent: true })));
  });

  it('each alert says how bad (severity) and what to do (summary, description)', () => {
    const raw = z
      .object({ groups: z.array(z.object({ rules: z.array(z.object({ alert: z.string(), labels: z.record(z.string(), z.string()), annotations: z.record(z.string(), z.string()) })) })) })
      .parse(parse(readFileSync(RULES, 'utf8')));
    for (const r of raw.groups.flatMap((g) => g.rules)) {
      expect({ alert: r.alert, severity: r.labels.severity, annotations: Object.keys(r.annotations).sort() }).toEqual({
        alert: r.alert,
        severity: expect.stringMatching(/^(page|ticket)$/),
        annotations: ['description', 'summary'],
      });
    }
  });
});
