import { startSlackStandIn, type SlackStandIn } from '../../stack/slack-stand-in';

/**
 * The Web API stand-in holds requests to Slack's documented shape (pages named in
 * stack/slack-stand-in.ts): a request real Slack would refuse is refused here, with Slack's error
 * code, so the product cannot pass a test by sending what Slack would not accept.
 */

const TOKEN = 'xoxb-stand-in-test';
let s: SlackStandIn;

beforeAll(async () => {
  s = await startSlackStandIn({ botToken: TOKEN, channels: { C0ONE: { members: ['U0A'] } }, usergroups: { S0G: ['U0A'] } });
});
afterAll(async () => s?.close());

async function call(method: string, args: Record<string, unknown>, how: { json?: boolean; token?: string | null; tokenInBody?: boolean } = {}) {
  const token = how.token === undefined ? TOKEN : how.token;
  const headers: Record<string, string> = {};
  let body: string;
  if (how.json) {
    headers['content-type'] = 'application/json; charset=utf-8';
    body = JSON.stringify(how.tokenInBody ? { ...args, token } : args);
  } else {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(args)) form.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    if (how.tokenInBody && token) form.set('token', token);
    body = form.toString();
  }
  if (token && !how.tokenInBody) headers.authorization = `Bearer ${token}`;
  return (await (await fetch(`${s.apiUrl}${method}`, { method: 'POST', headers, body })).json()) as Record<string, any>;
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (action_id: string, text = 'Go') => ({ type: 'button', action_id, text: { type: 'plain_text', text }, value: 'v' });

describe('Slack Web API stand-in', () => {
  test('authentication: bearer header or form field; a JSON body cannot carry the token', async () => {
    expect(await call('auth.test', {})).toMatchObject({ ok: true, user_id: expect.any(String), bot_id: expect.any(String) });
    expect(await call('auth.test', {}, { tokenInBody: true })).toMatchObject({ ok: true });
    expect(await call('auth.test', {}, { json: true, tokenInBody: true })).toEqual({ ok: false, error: 'not_authed' });
    expect(await call('auth.test', {}, { token: null })).toEqual({ ok: false, error: 'not_authed' });
    expect(await call('auth.test', {}, { token: 'xoxb-other' })).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await call('chat.scheduleMessage', { channel: 'C0ONE', text: 'x' })).toEqual({ ok: false, error: 'unknown_method' });
  });

  test('chat.postMessage needs a known channel and text or blocks; blocks within Block Kit limits', async () => {
    expect(await call('chat.postMessage', { text: 'x' })).toEqual({ ok: false, error: 'channel_not_found' });
    expect(await call('chat.postMessage', { channel: 'C0NONE', text: 'x' })).toEqual({ ok: false, error: 'channel_not_found' });
    expect(await call('chat.postMessage', { channel: 'C0ONE' })).toEqual({ ok: false, error: 'no_text' });
    for (const blocks of [
      [{ type: 'carousel' }],
      [section('x'.repeat(3001))],
      [{ type: 'actions', elements: [button('a', 'x'.repeat(76))] }],
      [{ type: 'actions', elements: [button('a'), button('a')] }],
      [{ type: 'actions', elements: [{ ...button('a'), style: 'purple' }] }],
      Array.from({ length: 51 }, () => section('x')),
    ]) {
      expect(await call('chat.postMessage', { channel: 'C0ONE', blocks })).toEqual({ ok: false, error: 'invalid_blocks' });
    }
    const form = await call('chat.postMessage', { channel: 'C0ONE', text: 'hi', blocks: [section('hi'), { type: 'actions', elements: [button('a'), button('b')] }] });
    expect(form).toMatchObject({ ok: true, channel: 'C0ONE', ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    const json = await call('chat.postMessage', { channel: 'C0ONE', text: 'reply', thread_ts: form.ts, reply_broadcast: true }, { json: true });
    expect(s.messages().find((m) => m.ts === json.ts)).toMatchObject({ thread_ts: form.ts, reply_broadcast: true, via: 'chat.postMessage' });
  });

  test('chat.update changes only a message the app posted; chat.postEphemeral needs the user in the channel', async () => {
    const posted = await call('chat.postMessage', { channel: 'C0ONE', text: 'before' });
    expect(await call('chat.update', { channel: 'C0ONE', ts: '1.000001', text: 'x' })).toEqual({ ok: false, error: 'message_not_found' });
    expect(await call('chat.update', { channel: 'C0ONE', ts: posted.ts })).toEqual({ ok: false, error: 'no_text' });
    expect(await call('chat.update', { channel: 'C0ONE', ts: posted.ts, text: 'after' })).toMatchObject({ ok: true, ts: posted.ts });
    expect(s.messages().find((m) => m.ts === posted.ts)).toMatchObject({ text: 'after', edited: { times: 1 } });
    expect(await call('chat.postEphemeral', { channel: 'C0ONE', user: 'U0B', text: 'psst' })).toEqual({ ok: false, error: 'user_not_in_channel' });
    const eph = await call('chat.postEphemeral', { channel: 'C0ONE', user: 'U0A', text: 'psst' });
    expect(eph).toMatchObject({ ok: true, message_ts: expect.any(String) });
    expect(await call('chat.update', { channel: 'C0ONE', ts: eph.message_ts, text: 'x' })).toEqual({ ok: false, error: 'message_not_found' });
  });

  test('usergroups.users.list and conversations.replies (metadata only when asked for)', async () => {
    expect(await call('usergroups.users.list', { usergroup: 'S0G' })).toEqual({ ok: true, users: ['U0A'] });
    expect(await call('usergroups.users.list', { usergroup: 'S0NONE' })).toEqual({ ok: false, error: 'no_such_subteam' });
    const root = await call('chat.postMessage', { channel: 'C0ONE', text: 'root', metadata: { event_type: 'fleetops_incident', event_payload: { workflow_id: 'incident-x' } } });
    expect(await call('chat.postMessage', { channel: 'C0ONE', text: 'x', metadata: { event_payload: {} } })).toEqual({ ok: false, error: 'invalid_metadata_format' });
    expect((await call('conversations.replies', { channel: 'C0ONE', ts: root.ts, limit: '1' })).messages[0].metadata).toBeUndefined();
    expect((await call('conversations.replies', { channel: 'C0ONE', ts: root.ts, limit: '1', include_all_metadata: 'true' })).messages[0].metadata).toEqual({
      event_type: 'fleetops_incident',
      event_payload: { workflow_id: 'incident-x' },
    });
    expect(await call('conversations.replies', { channel: 'C0ONE', ts: '1.000009' })).toEqual({ ok: false, error: 'thread_not_found' });
  });

  test('a response_url takes JSON, at most five times; every call is on the record without its token', async () => {
    const url = s.responseUrl('C0ONE', 'U0A');
    const post = (body: string, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('text=hi', 'application/x-www-form-urlencoded')).status).toBe(400);
    expect((await post(JSON.stringify({ text: 'x', response_type: 'everyone' }))).status).toBe(400);
    for (let i = 0; i < 5; i++) expect((await post(JSON.stringify({ text: `answer ${i}`, response_type: i === 0 ? 'in_channel' : 'ephemeral' }))).status).toBe(200);
    expect((await post(JSON.stringify({ text: 'sixth' }))).status).toBe(404);
    const answers = s.messages().filter((m) => m.via === 'response_url');
    expect(answers.map((m) => [m.text, m.ephemeralTo ?? null])).toEqual([['answer 0', null], ...[1, 2, 3, 4].map((i) => [`answer ${i}`, 'U0A'])]);
    const record = JSON.stringify(await (await fetch(s.messagesUrl)).json());
    expect(record).toContain('"method":"chat.postMessage"');
    expect(record).not.toContain(TOKEN);
  });
});
