import { fillVariables, metricNamesOf, parseLabelValues, unfilledVariables } from '../../testkit/promql';
import { failuresOf, panelQueries, type GrafanaDashboard, type PrometheusCheck } from '../../testkit/prometheus-check';

/** The small PromQL reading the dashboards' and rules' check relies on (testkit/promql.ts), and how it reports. */

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

describe("the check's failures", () => {
  const check = (over: Partial<PrometheusCheck>): PrometheusCheck => ({ metricNames: 10, variables: [], queries: [], rules: [], ...over });
  const query = { dashboard: 'd.json (D)', panel: 'p', refId: 'A', expr: 'x', series: 2, missingMetrics: [] };
  const rule = { group: 'g', name: 'R', expr: 'y > 0', missingMetrics: [], health: 'ok' };

  it('none when every query returns series and every rule reads scraped metrics and evaluates', () => {
    expect(failuresOf(check({ queries: [query], rules: [rule], variables: [{ dashboard: 'd', name: 'cluster', query: 'q', values: ['demo'], chosen: 'demo' }] }), { rulesLoaded: true })).toEqual([]);
  });

  it('a query with no series, a metric never scraped, an error, a variable with no values, a rule not loaded: each one line', () => {
    const failures = failuresOf(
      check({
        variables: [{ dashboard: 'd', name: 'cluster', query: 'label_values(m, cluster)', values: [], error: 'offers no values' }],
        queries: [
          { ...query, series: 0 },
          { ...query, panel: 'q', series: 0, missingMetrics: ['m'] },
          { ...query, panel: 'r', error: 'bad_data: parse error' },
        ],
        rules: [
          { ...rule, missingMetrics: ['n'] },
          { ...rule, name: 'S', health: undefined },
        ],
      }),
      { rulesLoaded: true },
    );
    expect(failures).toEqual([
      'd: variable $cluster (label_values(m, cluster)) offers no values',
      'd.json (D): panel "p" (A) x: returned no series',
      'd.json (D): panel "q" (A) x: reads metrics Prometheus has never scraped: m',
      'd.json (D): panel "r" (A) x: bad_data: parse error',
      'rule g/R: reads metrics Prometheus has never scraped: n',
      'rule g/S: Prometheus evaluates it with health (not loaded)',
    ]);
  });
});
