/**
 * The AWS Query protocol (ELBv2, Auto Scaling, CloudWatch Query) flattens structures into form fields:
 * `Actions.member.2.ForwardConfig.TargetGroups.member.1.Weight=90`. `unflattenQuery` turns them back
 * into the structure the API reference describes (`member.N` lists become arrays, in N order), so a
 * behaviour can validate a call against the documented shape.
 */
export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };

type Node = { [key: string]: Node | string };

function toValue(node: Node | string): QueryValue {
  if (typeof node === 'string') return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0] === 'member') {
    const members = node.member as Node;
    return Object.keys(members)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => toValue(members[k]!));
  }
  return Object.fromEntries(keys.map((k) => [k, toValue(node[k]!)]));
}

export function unflattenQuery(fields: Record<string, unknown>): Record<string, QueryValue> {
  const root: Node = {};
  for (const [path, raw] of Object.entries(fields)) {
    if (typeof raw !== 'string') continue;
    const parts = path.split('.');
    let node = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node[part] = raw;
        return;
      }
      const next = node[part];
      if (typeof next !== 'object') node[part] = {};
      node = node[part] as Node;
    });
  }
  return toValue(root) as Record<string, QueryValue>;
}
