/**
 * What a check of dashboards and alert rules needs to know of PromQL without a parser: the metric names an
 * expression reads, and a Grafana query with its template variables filled in. Prometheus itself judges
 * the syntax when the expression is evaluated (testkit/prometheus-check.ts); this only has to find names.
 */

const KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan', 'start', 'end', 'atan2',
]);

/**
 * The metric names an expression selects: identifiers that are neither a function or aggregation (followed
 * by a parenthesis), nor a keyword, nor inside braces (label names and values), a grouping list
 * (`by (…)`, `on (…)`, …), a range (`[5m]`) or a string. `{__name__="x"}` selectors are named too.
 */
export function metricNamesOf(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(m[1]!);
  const plain = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/#[^\n]*/g, ' ')
    // A Grafana variable left in (`offset $__range`) is no metric.
    .replace(/\$\{?\w+\}?|\[\[\w+\]\]/g, ' ');
  for (const m of plain.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    // The look-behind already skips what follows a digit: `5m` after offset, `1e3`.
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names].sort();
}

/**
 * A Grafana query with its variables replaced: `$name`, `${name}` and `[[name]]` by `values[name]`, and
 * Grafana's own `$__rate_interval`, `$__interval` and `$__range` by the given windows. A variable left
 * over (one the dashboard does not define, or a typo) stays, and `unfilledVariables` reports it.
 */
export function fillVariables(query: string, values: Record<string, string>, windows: { rateInterval: string; interval: string; range: string }): string {
  const builtins: Record<string, string> = { __rate_interval: windows.rateInterval, __interval: windows.interval, __range: windows.range };
  const all = { ...builtins, ...values };
  return query.replace(/\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    return name in all ? all[name]! : whole;
  });
}

export function unfilledVariables(query: string): string[] {
  return [...query.matchAll(/\$\{?(\w+)\}?|\[\[(\w+)\]\]/g)].map((m) => m[1] ?? m[2]!);
}

/** `label_values(metric, label)` or `label_values(label)`: a Prometheus query variable's two common forms. */
export function parseLabelValues(query: string): { metric?: string; label: string } | undefined {
  const m = /^\s*label_values\(\s*(?:([^,()]+?)\s*,\s*)?(\w+)\s*\)\s*$/.exec(query);
  if (!m) return undefined;
  return { ...(m[1] ? { metric: m[1] } : {}), label: m[2]! };
}
