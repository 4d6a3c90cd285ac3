import { DashboardBuilder, DashboardCursorSync, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, SortOrder, TooltipDisplayMode, VizLegendOptionsBuilder, VizTooltipOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';

/**
 * What every fleetops dashboard shares (scripts/dashboards/*.ts build one each; generate.ts writes them to
 * deploy/grafana/). Every query reads the data source the `datasource` variable picks, so an import asks
 * nothing and works with any Prometheus that scrapes the worker and router; `cluster` is multi-valued,
 * and queries match it with `=~"$cluster"` (Grafana writes several values as a regex alternation).
 */

export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** `cluster=~"$cluster"`, for a selector's braces. */
export const CLUSTER = 'cluster=~"$cluster"';

/**
 * Events a counter counted over the dashboard's range, first ones included. The worker's counters
 * appear at their first increment, at 1, and increase() over a series takes nothing from its first
 * sample: so series that existed when the range began count their increase, and series new within it
 * count from 0 (their value). Sum it; `or vector(0)` makes "none" a 0 rather than no data.
 */
export function eventsIn(selector: string, range = '$__range'): string {
  return `(increase(${selector}[${range}]) and ${selector} offset ${range}) or (${selector} unless ${selector} offset ${range})`;
}

export interface Query {
  expr: string;
  legend?: string;
}

function target(q: Query, i: number): DataqueryBuilder {
  return new DataqueryBuilder()
    .datasource(DATASOURCE)
    .refId(String.fromCharCode(65 + i))
    .expr(q.expr)
    .legendFormat(q.legend ?? '__auto');
}

/** A time series panel, `w` of 24 columns wide. */
export function timeseries(title: string, description: string, unit: string, queries: Query[], w = 12): TimeseriesPanel {
  const p = new TimeseriesPanel()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(DATASOURCE)
    .height(8)
    .span(w)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
  queries.forEach((q, i) => p.withTarget(target(q, i)));
  return p;
}

/** A single figure: the last value of its one query. */
export function stat(title: string, description: string, unit: string, query: Query, w = 6): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(DATASOURCE)
    .height(4)
    .span(w)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(target(query, 0));
}

export const row = (title: string): RowBuilder => new RowBuilder(title);

/**
 * A dashboard with the data source variable and, when `clusterFrom` names a metric with a `cluster`
 * label, the cluster variable listing that label's values.
 */
export function dashboard(opts: { uid: string; title: string; description: string; clusterFrom?: string }): DashboardBuilder {
  const d = new DashboardBuilder(opts.title)
    .uid(opts.uid)
    .description(opts.description)
    .tags(['fleetops'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
  if (opts.clusterFrom) {
    const query = `label_values(${opts.clusterFrom}, cluster)`;
    d.withVariable(
      new QueryVariableBuilder('cluster')
        .label('Cluster')
        .datasource(DATASOURCE)
        .query(query)
        .definition(query)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    );
  }
  return d;
}

/** The dashboard with its panels numbered in order (Grafana links and edits a panel by its id). */
export function build(d: DashboardBuilder): Dashboard {
  const out = d.build();
  (out.panels ?? []).forEach((p, i) => (p.id = i + 1));
  return out;
}

/** The committed form: key order as built, two-space indent, a final newline. */
export function toJson(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/**
 * A gauge every worker exports with the same value (the fleet gauges are read from the capacity
 * workflows' status, not counted by the worker): one copy per series, whatever the number of workers
 * scraped, before any sum. Counters are per process and are summed as they are.
 */
export const oneCopy = (metric: string, selector: string): string => `max without (instance) (${metric}{${selector}})`;
