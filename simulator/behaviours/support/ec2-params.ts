/**
 * Reading the EC2 Query protocol's numbered parameters (`Prefix.1.Field`), and rewriting the items
 * of an EC2 response set, for behaviours that answer or amend EC2 calls
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html).
 */

/** `Prefix.1.Field`, `Prefix.2.Field`... → one record per index. */
export function indexed(params: Record<string, unknown>, prefix: string): Record<string, string>[] {
  const out = new Map<number, Record<string, string>>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.(.+)$`);
  for (const [k, v] of Object.entries(params)) {
    const m = re.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    const rec = out.get(i) ?? {};
    rec[m[2]!] = String(v);
    out.set(i, rec);
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}

export function param(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  return v === undefined ? undefined : String(v);
}

/** The tags a CreateFleet request puts on the instances it launches. */
export function instanceTagsOf(params: Record<string, unknown>): { Key: string; Value: string }[] {
  return indexed(params, 'TagSpecification')
    .map((t, i) => ({ type: t.ResourceType, tags: indexed(params, `TagSpecification.${i + 1}.Tag`).map((x) => ({ Key: x.Key ?? '', Value: x.Value ?? '' })) }))
    .filter((t) => t.type === 'instance')
    .flatMap((t) => t.tags);
}

/** Rewrites each top-level `<item>` of the `<set>` element (nested items, e.g. launch specs, stay inside their parent). */
export function topLevelItems(xml: string, set: string, rewrite: (item: string) => string, element = 'item'): string {
  const open = xml.indexOf(`<${set}>`);
  const close = xml.indexOf(`</${set}>`);
  if (open < 0 || close < 0) return xml;
  const start = open + set.length + 2;
  const inner = xml.slice(start, close);
  let out = '';
  let depth = 0;
  let itemStart = -1;
  const tag = new RegExp(`<(\\/?)${element}>`, 'g');
  let last = 0;
  for (let m = tag.exec(inner); m; m = tag.exec(inner)) {
    if (m[1] === '') {
      if (depth === 0) {
        out += inner.slice(last, m.index);
        itemStart = m.index;
      }
      depth += 1;
    } else {
      depth -= 1;
      if (depth === 0 && itemStart >= 0) {
        const end = m.index + m[0].length;
        out += rewrite(inner.slice(itemStart, end));
        last = end;
        itemStart = -1;
      }
    }
  }
  out += inner.slice(last);
  return xml.slice(0, start) + out + xml.slice(close);
}
