import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Wire-protocol knowledge the simulator needs: which service and action a request is, and how that
 * service spells an error on the wire. Error shapes follow what AWS sends, so the real SDK parses a
 * simulated fault exactly as it would parse AWS's (error name, HTTP status, `$fault`, request id).
 *
 * Services are named by their SigV4 signing name (the credential scope): `ecs`, `ec2`, `autoscaling`,
 * `elasticloadbalancing` (ELBv2), `monitoring` (CloudWatch), `sqs`. `SERVICE_ALIASES` accepts the
 * friendlier names the AWS clients use (`cloudwatch`, `elbv2`) wherever rules name a service.
 */

export type WireProtocol = 'json' | 'ec2-query' | 'query' | 'unknown';

export const SERVICE_ALIASES: Readonly<Record<string, string>> = {
  cloudwatch: 'monitoring',
  elbv2: 'elasticloadbalancing',
  'auto-scaling': 'autoscaling',
};

export function canonicalService(name: string): string {
  return SERVICE_ALIASES[name] ?? name;
}

export interface CallIdentity {
  /** SigV4 signing name, or `unknown` for unsigned requests (e.g. moto's own /moto-api). */
  service: string;
  action: string;
  region: string;
  protocol: WireProtocol;
  /** JSON protocols: the parsed body; Query protocols: the form fields. */
  params: Record<string, unknown>;
}

const CREDENTIAL_SCOPE = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function formFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

export function identifyCall(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): CallIdentity {
  const scope = CREDENTIAL_SCOPE.exec(header(headers, 'authorization') ?? '');
  const region = scope?.[1] ?? 'unknown';
  const service = scope?.[2] ?? 'unknown';
  const target = header(headers, 'x-amz-target');
  if (target) {
    let params: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) params = parsed as Record<string, unknown>;
    } catch {
      params = { _unparsedBody: body.toString('utf8').slice(0, 2_000) };
    }
    return { service, region, protocol: 'json', action: target.slice(target.lastIndexOf('.') + 1), params };
  }
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const contentType = header(headers, 'content-type') ?? '';
  const fields = {
    ...formFields(query),
    ...(method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded') ? formFields(body.toString('utf8')) : {}),
  };
  if (fields.Action) {
    const { Action: action, ...params } = fields;
    return { service, region, protocol: service === 'ec2' ? 'ec2-query' : 'query', action, params };
  }
  return { service, region, protocol: 'unknown', action: `${method} ${url.split('?')[0]}`, params: {} };
}

/** A complete HTTP answer (simulated faults, behaviour responses, buffered moto responses). */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface AwsErrorSpec {
  status: number;
  code: string;
  message: string;
}

/** The JSON 1.0 services (SQS, CloudWatch) and JSON 1.1 (ECS) differ only in the content type. */
const JSON_VERSION: Readonly<Record<string, string>> = { sqs: '1.0', monitoring: '1.0' };

const XML_NAMESPACE: Readonly<Record<string, string>> = {
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  elasticloadbalancing: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
  monitoring: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
  sqs: 'http://queue.amazonaws.com/doc/2012-11-05/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  cloudformation: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
};

/** Escapes text for an XML element or attribute of a Query or EC2 response. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

export function newRequestId(): string {
  return randomUUID();
}

/** An AWS error as `protocol` puts it on the wire. */
export function awsErrorResponse(call: Pick<CallIdentity, 'service' | 'protocol'>, err: AwsErrorSpec): SimResponse {
  const requestId = newRequestId();
  switch (call.protocol) {
    case 'ec2-query': {
      const xml =
        `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(err.code)}</Code>` +
        `<Message>${escapeXml(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
      return { status: err.status, headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId }, body: Buffer.from(xml) };
    }
    case 'query': {
      const type = err.status >= 500 ? 'Receiver' : 'Sender';
      const ns = XML_NAMESPACE[call.service];
      const xml =
        `<ErrorResponse${ns ? ` xmlns="${ns}"` : ''}><Error><Type>${type}</Type><Code>${escapeXml(err.code)}</Code>` +
        `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      return {
        status: err.status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body: Buffer.from(xml),
      };
    }
    default: {
      // `unknown` requests are answered in JSON too: nothing better is known about them.
      return {
        status: err.status,
        headers: {
          'content-type': `application/x-amz-json-${JSON_VERSION[call.service] ?? '1.1'}`,
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': err.code,
        },
        body: Buffer.from(JSON.stringify({ __type: err.code, message: err.message })),
      };
    }
  }
}

/** The throttling error each service sends when its API rate limit is exceeded. */
export function throttlingError(call: Pick<CallIdentity, 'service' | 'protocol'>): AwsErrorSpec {
  switch (call.protocol) {
    case 'ec2-query':
      return { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' };
    case 'query':
      return { status: 400, code: 'Throttling', message: 'Rate exceeded' };
    default:
      return { status: 400, code: 'ThrottlingException', message: 'Rate exceeded' };
  }
}

/** The code a service uses for a bare 500 or 503 when the rule does not name one. */
export function defaultServerErrorCode(call: Pick<CallIdentity, 'protocol'>, status: number): string {
  const unavailable = status === 503;
  switch (call.protocol) {
    case 'ec2-query':
      return unavailable ? 'Unavailable' : 'InternalError';
    case 'query':
      return unavailable ? 'ServiceUnavailable' : 'InternalFailure';
    default:
      return unavailable ? 'ServiceUnavailableException' : 'InternalFailure';
  }
}

/**
 * Successful responses for behaviours that answer a call themselves. JSON: the object as the body;
 * Query: `<ActionResponse><ActionResult>inner</ActionResult><ResponseMetadata>` as AWS wraps it
 * (EC2 puts the result members directly under `<ActionResponse>` with a `requestId`).
 */
export function awsSuccessResponse(call: Pick<CallIdentity, 'service' | 'protocol' | 'action'>, result: { json?: unknown; xml?: string }): SimResponse {
  const requestId = newRequestId();
  if (call.protocol === 'json' || call.protocol === 'unknown') {
    return {
      status: 200,
      headers: { 'content-type': `application/x-amz-json-${JSON_VERSION[call.service] ?? '1.1'}`, 'x-amzn-requestid': requestId },
      body: Buffer.from(JSON.stringify(result.json ?? {})),
    };
  }
  const ns = XML_NAMESPACE[call.service];
  const open = `<${call.action}Response${ns ? ` xmlns="${ns}"` : ''}>`;
  const xml =
    call.protocol === 'ec2-query'
      ? `${open}<requestId>${requestId}</requestId>${result.xml ?? ''}</${call.action}Response>`
      : `${open}<${call.action}Result>${result.xml ?? ''}</${call.action}Result>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${call.action}Response>`;
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: Buffer.from(xml) };
}
