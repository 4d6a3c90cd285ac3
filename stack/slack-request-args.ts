/**
 * A Web API request's arguments as Slack reads them (https://docs.slack.dev/apis/web-api/): a JSON
 * body, or a form whose JSON-based fields (blocks, attachments, metadata) are URL-encoded strings; the
 * token in a form field, never in a JSON body. A refusal is a SlackError carrying Slack's error code.
 */

export type Args = Record<string, unknown>;
export class SlackError extends Error {}

/** Form fields Slack documents as "JSON-based ... presented as a URL-encoded string". */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata']);

export function parseArgs(contentType: string, raw: string): { args: Args; formToken?: string } {
  if (contentType === 'application/json') {
    const parsed = JSON.parse(raw || '{}') as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SlackError('invalid_json');
    // Slack ignores a token in a JSON body (it reads the header only); the record never keeps one.
    const { token: _ignored, ...args } = parsed as Args;
    return { args };
  }
  if (contentType === 'application/x-www-form-urlencoded') {
    const args: Args = {};
    let formToken: string | undefined;
    for (const [k, v] of new URLSearchParams(raw)) {
      if (k === 'token') formToken = v;
      else if (JSON_FIELDS.has(k)) {
        try {
          args[k] = JSON.parse(v);
        } catch {
          throw new SlackError(k === 'blocks' ? 'invalid_blocks_format' : k === 'metadata' ? 'invalid_metadata_format' : 'invalid_attachments');
        }
      } else args[k] = v;
    }
    return { args, formToken };
  }
  throw new SlackError('invalid_form_data');
}

export const bool = (v: unknown): boolean => v === true || v === 'true' || v === '1';
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
