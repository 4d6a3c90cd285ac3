import { z } from 'zod';

/**
 * Reading an iCalendar feed over HTTP(S), for `fleetops readiness import <url>` and the feed's polls
 * (activities/readiness-calendar.ts): a bounded time and size, so a slow or huge answer fails the
 * read instead of holding a worker slot or its memory.
 */

/** How long a read may take, and how large a calendar may be. */
export const FEED_TIMEOUT_MS = 20_000;
export const FEED_MAX_BYTES = 2 * 1024 * 1024;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Redirects followed, each checked as the URL given was. */
const MAX_REDIRECTS = 5;

const allowedUrl = (text: string): boolean => {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
  } catch {
    return false;
  }
};

/** An https URL; plain http only to this machine (a local proxy, a test), where nothing on the way can change the calendar. */
export const feedUrlSchema = z.string().max(2000).refine(allowedUrl, 'must be an https:// URL (http:// only to localhost)');

/** The read failed: the message says how (status, timeout, size), for the CLI and the feed's run. */
export class FeedReadError extends Error {
  override readonly name = 'FeedReadError';
  constructor(
    message: string,
    /** Worth trying again later: a timeout, a network error or a 5xx, not a 404 or a calendar too large. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** The feed's text, read within FEED_TIMEOUT_MS and FEED_MAX_BYTES. */
/**
 * A feed URL as people and logs may see it: its origin only. Calendar feeds often carry their secret
 * in the path or the query (a private address), which must not reach summaries, errors or logs.
 */
export function shownFeedUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && u.search === '' ? u.origin : `${u.origin}/…`;
  } catch {
    return '(a feed URL)';
  }
}

export async function fetchCalendarFeed(url: string, opts: { fetch?: typeof fetch; timeoutMs?: number; maxBytes?: number } = {}): Promise<string> {
  const maxBytes = opts.maxBytes ?? FEED_MAX_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? FEED_TIMEOUT_MS);
  let res: Response | undefined;
  // Redirects by hand: one to plain http elsewhere (an instance's metadata service) is refused, not followed.
  for (let at = url, hops = 0; res === undefined; hops += 1) {
    let r: Response;
    try {
      r = await (opts.fetch ?? fetch)(at, { signal, headers: { accept: 'text/calendar, */*;q=0.5' }, redirect: 'manual' });
    } catch (err) {
      throw new FeedReadError(`could not read ${shownFeedUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, true);
    }
    const location = r.headers.get('location');
    if (r.status < 300 || r.status >= 400 || location === null) {
      res = r;
      break;
    }
    await r.body?.cancel().catch(() => undefined);
    const next = new URL(location, at).toString();
    if (!allowedUrl(next)) throw new FeedReadError(`${shownFeedUrl(url)} redirects to ${shownFeedUrl(next)}, which is not https`, false);
    if (hops >= MAX_REDIRECTS) throw new FeedReadError(`${shownFeedUrl(url)} redirects more than ${MAX_REDIRECTS} times`, false);
    at = next;
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new FeedReadError(`could not read ${shownFeedUrl(url)}: HTTP ${res.status}`, res.status >= 500 || res.status === 429);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new FeedReadError(`${shownFeedUrl(url)} is ${declared} bytes, over the ${maxBytes} a calendar may be`, false);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new FeedReadError(`${shownFeedUrl(url)} is over the ${maxBytes} bytes a calendar may be`, false);
      chunks.push(chunk);
    }
  } catch (err) {
    await res.body?.cancel().catch(() => undefined);
    if (err instanceof FeedReadError) throw err;
    throw new FeedReadError(`could not read ${shownFeedUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, true);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}
