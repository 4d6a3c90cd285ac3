import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { fillVariables, metricNamesOf, parseLabelValues, unfilledVariables } from './promql';
import { until } from './poll';

/**
 * Checks Grafana dashboards (deploy/grafana/*.json) and Prometheus alert rules (deploy/prometheus/rules.yml)
 * against a real Prometheus through its HTTP API, as a test or a person would after `make up` with
 * FLEETOPS_STACK_PROMETHEUS=1. Strict on purpose: a panel whose query returns no series, a query or rule
 * reading a metric Prometheus has never scraped, a variable that offers no values, a rule Prometheus
 * cannot evaluate: each is a failure, named with its dashboard, panel and query.
 */

const apiResponse = z.object({ status: z.string(), data: z.unknown().optional(), error: z.string().optional() });
const queryData = z.object({ resultType: z.string(), result: z.union([z.array(z.unknown()), z.tuple([z.number(), z.string()])]) });
const targetsData = z.object({ activeTargets: z.array(z.object({ scrapeUrl: z.string(), health: z.string(), lastScrape: z.string(), lastError: z.string() })) });
const rulesData = z.object({
  groups: z.array(z.object({ name: z.string(), rules: z.array(z.object({ name: z.string(), health: z.string(), lastError: z.string().optional() })) })),
});

async function api(base: string, path: string, params: Record<string, string> = {}): Promise<unknown> {
  const url = new URL(`/api/v1/${path}`, base);
  for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = apiResponse.parse(await res.json());
  if (body.status !== 'success') throw new Error(body.error ?? `${path}: status ${body.status} (HTTP ${res.status})`);
  return body.data;
}

/** Every metric name Prometheus holds a series of. */
export async function scrapedMetricNames(base: string): Promise<Set<string>> {
  return new Set(z.array(z.string()).parse(await api(base, 'label/__name__/values')));
}

/** Waits until every target is up and was scraped after `sinceMs`: what the stack did before then is in. */
export async function untilScrapedSince(base: string, sinceMs: number, timeoutMs = 15_000): Promise<void> {
  await until(
    `every Prometheus target scraped after ${new Date(sinceMs).toISOString()}`,
    async () => {
      const { activeTargets } = targetsData.parse(await api(base, 'targets', { state: 'active' }));
      const fresh = activeTargets.length > 0 && activeTargets.every((t) => t.health === 'up' && Date.parse(t.lastScrape) > sinceMs);
      return fresh ? true : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** An instant query's series (a scalar counts as one). */
export async function instantSeries(base: string, expr: string): Promise<number> {
  const data = queryData.parse(await api(base, 'query', { query: expr }));
  return data.resultType === 'scalar' || data.resultType === 'string' ? 1 : data.result.length;
}

// ---- what the check reads: dashboards and rules ----

interface GrafanaTarget {
  refId?: string;
  expr?: string;
}
interface GrafanaPanel {
  type: string;
  title?: string;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}
interface GrafanaVariable {
  type: string;
  name: string;
  query?: string | { query?: string };
}
export interface GrafanaDashboard {
  uid: string;
  title: string;
  panels?: GrafanaPanel[];
  templating?: { list?: GrafanaVariable[] };
}

/** Every dashboard JSON in a folder, by file name. */
export function readDashboards(dir: string): { file: string; dashboard: GrafanaDashboard }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dir, file), 'utf8')) as GrafanaDashboard }));
}

export interface AlertRule {
  group: string;
  name: string;
  expr: string;
}

const rulesFile = z.object({
  groups: z.array(z.object({ name: z.string(), rules: z.array(z.object({ alert: z.string().optional(), record: z.string().optional(), expr: z.string() }).loose()) })),
});

export function readAlertRules(file: string): AlertRule[] {
  return rulesFile.parse(parse(readFileSync(file, 'utf8'))).groups.flatMap((g) => g.rules.map((r) => ({ group: g.name, name: r.alert ?? r.record ?? '?', expr: r.expr })));
}

/** Panels with a query, rows' nested panels included; a non-row panel without one is listed with none. */
export function panelQueries(d: GrafanaDashboard): { panel: string; refId: string; expr: string | undefined }[] {
  const flat = (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  return flat.flatMap((p) => {
    const targets = p.targets ?? [];
    if (targets.length === 0) return [{ panel: p.title ?? '(untitled)', refId: '-', expr: undefined }];
    return targets.map((t) => ({ panel: p.title ?? '(untitled)', refId: t.refId ?? '?', expr: t.expr }));
  });
}

// ---- the check ----

export interface Windows {
  rateInterval: string;
  interval: string;
  range: string;
}

export interface VariableCheck {
  dashboard: string;
  name: string;
  query: string;
  values: string[];
  chosen?: string;
  error?: string;
}
export interface QueryCheck {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  series: number;
  missingMetrics: string[];
  error?: string;
}
export interface RuleCheck extends AlertRule {
  missingMetrics: string[];
  health?: string;
  error?: string;
}
export interface PrometheusCheck {
  metricNames: number;
  variables: VariableCheck[];
  queries: QueryCheck[];
  rules: RuleCheck[];
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function resolveVariable(base: string, dashboard: string, v: GrafanaVariable, prefer: Record<string, string>): Promise<VariableCheck> {
  const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
  const lv = parseLabelValues(query);
  const check: VariableCheck = { dashboard, name: v.name, query, values: [], chosen: prefer[v.name] };
  if (!lv) return { ...check, error: 'not a label_values() query: this check cannot resolve it' };
  try {
    check.values = z.array(z.string()).parse(await api(base, `label/${lv.label}/values`, lv.metric ? { 'match[]': lv.metric } : {}));
  } catch (err) {
    return { ...check, error: message(err) };
  }
  if (check.values.length === 0) return { ...check, error: 'offers no values' };
  if (check.chosen !== undefined && !check.values.includes(check.chosen)) return { ...check, error: `does not offer ${check.chosen} (offers ${check.values.join(', ')})` };
  return { ...check, chosen: check.chosen ?? check.values[0] };
}

/**
 * Evaluates every panel query of `dashboards` (variables filled: `prefer[name]` when given, else the
 * variable's first value) and every rule expression at Prometheus's now, and checks each metric name in
 * them against the names Prometheus holds. Datasource variables need no value: the query goes to `base`.
 */
export async function checkAgainstPrometheus(opts: {
  base: string;
  dashboards: { file: string; dashboard: GrafanaDashboard }[];
  rules: AlertRule[];
  windows: Windows;
  prefer?: Record<string, string>;
}): Promise<PrometheusCheck> {
  const names = await scrapedMetricNames(opts.base);
  const missing = (expr: string) => metricNamesOf(expr).filter((n) => !names.has(n));
  const out: PrometheusCheck = { metricNames: names.size, variables: [], queries: [], rules: [] };
  for (const { file, dashboard } of opts.dashboards) {
    const label = `${file} (${dashboard.title})`;
    const values: Record<string, string> = {};
    for (const v of dashboard.templating?.list ?? []) {
      if (v.type === 'datasource') continue;
      const check = await resolveVariable(opts.base, label, v, opts.prefer ?? {});
      out.variables.push(check);
      if (check.chosen !== undefined) values[v.name] = check.chosen;
    }
    for (const q of panelQueries(dashboard)) {
      const check: QueryCheck = { dashboard: label, panel: q.panel, refId: q.refId, expr: q.expr ?? '', series: 0, missingMetrics: [] };
      out.queries.push(check);
      if (!q.expr) {
        check.error = 'the panel has no PromQL query';
        continue;
      }
      check.expr = fillVariables(q.expr, values, opts.windows);
      const unfilled = unfilledVariables(check.expr);
      if (unfilled.length > 0) {
        check.error = `variables with no value: ${unfilled.join(', ')}`;
        continue;
      }
      check.missingMetrics = missing(check.expr);
      check.series = await instantSeries(opts.base, check.expr).catch((err: unknown) => ((check.error = message(err)), 0));
    }
  }
  const loaded = rulesData.parse(await api(opts.base, 'rules')).groups.flatMap((g) => g.rules.map((r) => ({ key: `${g.name}/${r.name}`, ...r })));
  for (const rule of opts.rules) {
    const check: RuleCheck = { ...rule, missingMetrics: missing(rule.expr) };
    out.rules.push(check);
    const inPrometheus = loaded.find((l) => l.key === `${rule.group}/${rule.name}`);
    check.health = inPrometheus?.health;
    if (inPrometheus?.lastError) check.error = inPrometheus.lastError;
    await instantSeries(opts.base, rule.expr).catch((err: unknown) => (check.error = message(err)));
  }
  return out;
}

/** One line per failure; empty when everything passed. Rules not loaded are failures only if `rulesLoaded`. */
export function failuresOf(check: PrometheusCheck, opts: { rulesLoaded: boolean }): string[] {
  const f: string[] = [];
  for (const v of check.variables) if (v.error) f.push(`${v.dashboard}: variable $${v.name} (${v.query}) ${v.error}`);
  for (const q of check.queries) {
    const at = `${q.dashboard}: panel "${q.panel}" (${q.refId}) ${q.expr}`;
    if (q.error) f.push(`${at}: ${q.error}`);
    else if (q.missingMetrics.length > 0) f.push(`${at}: reads metrics Prometheus has never scraped: ${q.missingMetrics.join(', ')}`);
    else if (q.series === 0) f.push(`${at}: returned no series`);
  }
  for (const r of check.rules) {
    const at = `rule ${r.group}/${r.name}`;
    if (r.missingMetrics.length > 0) f.push(`${at}: reads metrics Prometheus has never scraped: ${r.missingMetrics.join(', ')}`);
    if (r.error) f.push(`${at}: ${r.error}`);
    if (opts.rulesLoaded && r.health !== 'ok') f.push(`${at}: Prometheus evaluates it with health ${r.health ?? '(not loaded)'}`);
  }
  return f;
}
