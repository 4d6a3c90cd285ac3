import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchCalendarFeed, FeedReadError, feedUrlSchema } from '../../common/calendar-feed';

/** Reading a calendar feed (common/calendar-feed.ts): bounded in time and size, redirects checked as the URL was. */

let server: Server;
let base: string;
const routes: Record<string, (res: ServerResponse) => void> = {
  '/ok.ics': (res) => res.end('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'),
  '/big.ics': (res) => res.end('x'.repeat(5000)),
  '/gone.ics': (res) => res.writeHead(404).end(),
  '/busy.ics': (res) => res.writeHead(503).end(),
  '/hop.ics': (res) => res.writeHead(302, { location: '/ok.ics' }).end(),
  '/away.ics': (res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
  '/slow.ics': () => undefined,
};

beforeAll(async () => {
  server = createServer((req, res) => routes[req.url ?? '']?.(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => (err instanceof FeedReadError ? { transient: err.transient, message: err.message } : err));

describe('fetchCalendarFeed', () => {
  it('reads a calendar, following a redirect to an allowed URL', async () => {
    expect(await fetchCalendarFeed(`${base}/ok.ics`)).toBe('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n');
    expect(await fetchCalendarFeed(`${base}/hop.ics`)).toContain('BEGIN:VCALENDAR');
  });

  it('refuses what is too large, gone or redirected to plain http elsewhere for good; a 503 or a timeout may pass', async () => {
    expect(await failure(fetchCalendarFeed(`${base}/big.ics`, { maxBytes: 1000 }))).toEqual({ transient: false, message: expect.stringContaining('over the 1000') });
    expect(await failure(fetchCalendarFeed(`${base}/gone.ics`))).toEqual({ transient: false, message: expect.stringContaining('HTTP 404') });
    expect(await failure(fetchCalendarFeed(`${base}/away.ics`))).toEqual({ transient: false, message: expect.stringContaining('redirects to http://169.254.169.254/') });
    expect(await failure(fetchCalendarFeed(`${base}/busy.ics`))).toEqual({ transient: true, message: expect.stringContaining('HTTP 503') });
    expect(await failure(fetchCalendarFeed(`${base}/slow.ics`, { timeoutMs: 200 }))).toEqual({ transient: true, message: expect.stringContaining('could not read') });
  });

  it('takes https URLs, and plain http only to this machine', () => {
    expect(feedUrlSchema.safeParse('https://calendar.example/shop.ics').success).toBe(true);
    expect(feedUrlSchema.safeParse('http://localhost:8080/shop.ics').success).toBe(true);
    expect(feedUrlSchema.safeParse('http://calendar.example/shop.ics').success).toBe(false);
    expect(feedUrlSchema.safeParse('file:///etc/passwd').success).toBe(false);
  });
});
