/**
 * Reading IAM documents from moto's own IAM for behaviours that decide access (sts-assume-role): the
 * IAM API's GetRole, ListRolePolicies/GetRolePolicy (inline) and ListAttachedRolePolicies/GetPolicy/
 * GetPolicyVersion (managed), whose documents come URL-encoded in the XML answers (IAM API Reference,
 * "GetRolePolicy": "The policy document returned in this structure is URL-encoded compliant with RFC 3986").
 * These calls go to moto directly: they are the emulator reading its state, not calls to record.
 */

export async function motoQuery(motoUrl: string, service: string, form: Record<string, string>, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(motoUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=fleetops/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
      ...headers,
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, text: await res.text() };
}

export const xmlField = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
const xmlFields = (xml: string, name: string): string[] => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);
const unescapeXml = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** A policy document from an IAM XML answer (URL-encoded, XML-escaped). */
export function iamDocument(raw: string | undefined): unknown {
  const doc = parseDocument(raw);
  // moto's CloudFormation keeps a statement that `Fn::If` resolved to AWS::NoValue as null; AWS drops it.
  if (doc && typeof doc === 'object' && Array.isArray((doc as { Statement?: unknown }).Statement)) {
    const d = doc as { Statement: unknown[] };
    return { ...d, Statement: d.Statement.filter((st) => st !== null) };
  }
  return doc;
}

function parseDocument(raw: string | undefined): unknown {
  const unescaped = unescapeXml(raw ?? '');
  const text = unescaped.trimStart().startsWith('{') ? unescaped : decodeURIComponent(unescaped);
  try {
    return JSON.parse(text);
  } catch (err) {
    // moto keeps the inline policies of roles CloudFormation made as Python's repr of the document
    // ({'Version': '2012-10-17', ...}); policy documents hold no quotes or booleans of their own.
    if (!text.trimStart().startsWith("{'")) throw err;
    return JSON.parse(text.replace(/'/g, '"').replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false').replace(/\bNone\b/g, 'null'));
  }
}

/** A role's identity policies (inline and attached managed) as documents. */
export async function callerPolicies(motoUrl: string, account: string, roleName: string): Promise<unknown[]> {
  const iam = (form: Record<string, string>) => motoQuery(motoUrl, 'iam', { Version: '2010-05-08', ...form }, { 'x-moto-account-id': account });
  const out: unknown[] = [];
  const inline = await iam({ Action: 'ListRolePolicies', RoleName: roleName });
  for (const name of xmlFields(inline.text, 'member')) {
    const p = await iam({ Action: 'GetRolePolicy', RoleName: roleName, PolicyName: name });
    if (p.status === 200) out.push(iamDocument(xmlField(p.text, 'PolicyDocument')));
  }
  const attached = await iam({ Action: 'ListAttachedRolePolicies', RoleName: roleName });
  for (const arn of xmlFields(attached.text, 'PolicyArn')) {
    const policy = await iam({ Action: 'GetPolicy', PolicyArn: arn });
    const version = xmlField(policy.text, 'DefaultVersionId');
    if (!version) continue;
    const v = await iam({ Action: 'GetPolicyVersion', PolicyArn: arn, VersionId: version });
    if (v.status === 200) out.push(iamDocument(xmlField(v.text, 'Document')));
  }
  return out;
}
