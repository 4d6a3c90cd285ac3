import { fillVariables, metricNamesOf, parseLabelValues, unfilledVariables } from '../../testkit/promql';
import { panelQueries, type GrafanaDashboard } from '../../testkit/prometheus-check';

/** The small PromQL reading the dashboards' and rules' check relies on (testkit/promql.ts). */

describe('metric names in an expression', () => {
  it('finds selected metrics, not functions, aggregations, keywords, labels, strings or durations', () => {
    expect(metricNamesOf('sum by (cluster) (increase(fleetops_drains_finished_total{outcome="deadline-missed"}[15m]))')).toEqual(['fleetops_drains_finished_total']);
    expect(metricNamesOf('histogram_quantile(0.9, sum by (le) (rate(x_bucket{cluster=~"a|b"}[5m])))')).toEqual(['x_bucket']);
    expect(metricNamesOf('(a > 0) or (b unless b offset 15m) or vector(0)')).toEqual(['a', 'b']);
    expect(metricNamesOf('max by (cluster) (u) > 600 and on (cluster) max(v) > 0')).toEqual(['u', 'v']);
    expect(metricNamesOf('sum(rate(r{route="/events",code="503"}[5m])) / sum(rate(r[5m])) > 0.1')).toEqual(['r']);
    expect(metricNamesOf('sum(p{task_queue="fleetops-critical"}) < 1 or absent(p{task_queue="fleetops-critical"})')).toEqual(['p']);
    expect(metricNamesOf('{__name__="named_only", job="x"}')).toEqual(['named_only']);
    expect(metricNamesOf('count(q > 1e3) by (instance)')).toEqual(['q']);
    expect(metricNamesOf('(increase(s{c=~"$cluster"}[$__range]) and s offset $__range) or (s unless s offset ${range})')).toEqual(['s']);
  });
});

describe('Grafana variables', () => {
  const windows = { rateInterval: '1m', interval: '15s', range: '6h' };

  it('fills $name, ${name}, [[name]] and the built-in windows; reports what is left', () => {
    const q = fillVariables('increase(x{cluster=~"$cluster", a="${a}", b="[[b]]"}[$__rate_interval]) offset $__range', { cluster: 'demo', a: '1', b: '2' }, windows);
    expect(q).toBe('increase(x{cluster=~"demo", a="1", b="2"}[1m]) offset 6h');
    expect(unfilledVariables(q)).toEqual([]);
    expect(unfilledVariables(fillVariables('x{c=~"$clustr"}[$__interval]', { cluster: 'demo' }, windows))).toEqual(['clustr']);
  });

  it('reads label_values() in both forms and nothing else', () => {
    expect(parseLabelValues('label_values(fleetops_fleet_units, cluster)')).toEqual({ metric: 'fleetops_fleet_units', label: 'cluster' });
    expect(parseLabelValues('label_values(up{job="w"}, instance)')).toEqual({ metric: 'up{job="w"}', label: 'instance' });
    expect(parseLabelValues('label_values(cluster)')).toEqual({ label: 'cluster' });
    expect(parseLabelValues('query_result(up)')).toBeUndefined();
  });

  it('lists every panel query, rows included, and a panel with none', () => {
    const d: GrafanaDashboard = {
      uid: 'u',
      title: 't',
      panels: [
        { type: 'row', title: 'r', panels: [{ type: 'stat', title: 'inside', targets: [{ refId: 'A', expr: 'a' }] }] },
        { type: 'timeseries', title: 'two', targets: [{ refId: 'A', expr: 'b' }, { refId: 'B', expr: 'c' }] },
        { type: 'text', title: 'none' },
      ],
    };
    expect(panelQueries(d)).toEqual([
      { panel: 'inside', refId: 'A', expr: 'a' },
      { panel: 'two', refId: 'A', expr: 'b' },
      { panel: 'two', refId: 'B', expr: 'c' },
      { panel: 'none', refId: '-', expr: undefined },
    ]);
  });
});
