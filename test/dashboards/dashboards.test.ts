import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS } from '../../scripts/dashboards/index';
import { toJson } from '../../scripts/dashboards/lib';
import { GRAFANA_DIR } from '../../scripts/dashboards/generate';
import { panelQueries, readDashboards } from '../../testkit/prometheus-check';
import { metricNamesOf } from '../../testkit/promql';

/**
 * The Grafana dashboards are code (scripts/dashboards/); deploy/grafana/*.json is what they generate, and
 * what a user imports. Their queries are checked against a real Prometheus in test/e2e/stack-e2e.test.ts.
 */

const committed = readDashboards(GRAFANA_DIR);

describe('Grafana dashboards', () => {
  it('deploy/grafana/ holds exactly what scripts/dashboards/ generate (npx tsx scripts/dashboards/generate.ts)', () => {
    expect(readdirSync(GRAFANA_DIR).sort()).toEqual(Object.keys(DASHBOARDS).sort());
    for (const [file, make] of Object.entries(DASHBOARDS)) {
      expect({ file, json: readFileSync(join(GRAFANA_DIR, file), 'utf8') }).toEqual({ file, json: toJson(make()) });
    }
  });

  it('are five, each with its own uid and panels numbered once', () => {
    expect(committed.map((d) => d.dashboard.uid).sort()).toEqual(['fleetops-capacity', 'fleetops-deploys-incidents', 'fleetops-drains', 'fleetops-fleet', 'fleetops-router-sqs']);
    for (const { dashboard } of committed) {
      const ids = (dashboard.panels ?? []).map((p) => (p as { id?: number }).id);
      expect({ uid: dashboard.uid, ids }).toEqual({ uid: dashboard.uid, ids: ids.map((_, i) => i + 1) });
    }
  });

  it('ask for a Prometheus data source on import, and every query reads the one chosen', () => {
    for (const { file } of committed) {
      const raw = JSON.parse(readFileSync(join(GRAFANA_DIR, file), 'utf8')) as { templating: { list: { type: string; name: string; query: unknown }[] }; panels: { type: string; datasource?: unknown; targets?: { datasource?: unknown }[] }[] };
      expect(raw.templating.list.filter((v) => v.type === 'datasource')).toEqual([expect.objectContaining({ name: 'datasource', query: 'prometheus' })]);
      for (const p of raw.panels.filter((x) => x.type !== 'row')) {
        expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const t of p.targets ?? []) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });

  it('every dashboard with per-cluster metrics has a multi-value cluster variable, and its queries match it', () => {
    for (const { file, dashboard } of committed) {
      const cluster = dashboard.templating?.list?.find((v) => v.name === 'cluster') as { multi?: boolean; includeAll?: boolean; query?: string } | undefined;
      const queries = panelQueries(dashboard).map((q) => q.expr ?? '');
      // The router exports no cluster label: its dashboard has no cluster variable, and no query names one.
      if (file === 'router-sqs.json') {
        expect(cluster).toBeUndefined();
        expect(queries.filter((q) => q.includes('$cluster'))).toEqual([]);
        continue;
      }
      expect({ file, multi: cluster?.multi, includeAll: cluster?.includeAll, query: cluster?.query }).toEqual({ file, multi: true, includeAll: true, query: expect.stringMatching(/^label_values\(fleetops_\w+, cluster\)$/) });
      // A fixed cluster= would ignore the variable's other values.
      expect(queries.filter((q) => /cluster\s*=\s*"/.test(q))).toEqual([]);
      expect(queries.filter((q) => q.includes('$cluster')).length).toBeGreaterThan(0);
    }
  });

  it('every panel has a query, and every query reads fleetops or Temporal SDK metrics', () => {
    const all = committed.flatMap(({ file, dashboard }) => panelQueries(dashboard).map((q) => ({ file, ...q })));
    expect(all.length).toBeGreaterThan(40);
    expect(all.filter((q) => !q.expr)).toEqual([]);
    const foreign = all.flatMap((q) => metricNamesOf(q.expr ?? '').filter((n) => !/^(fleetops|temporal)_/.test(n)).map((n) => `${q.file} ${q.panel}: ${n}`));
    expect(foreign).toEqual([]);
  });
});
