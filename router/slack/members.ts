import type { SlackHandlerContext } from './context';

/**
 * Whether a Slack user is on a list of users and user groups (`slack.deployers[…]`,
 * `slack.responders`). A group's members are known only to Slack: usergroups.users.list
 * (https://docs.slack.dev/reference/methods/usergroups.users.list), cached for a minute so a burst of
 * commands does not wait on Slack for each one. A group that cannot be read admits nobody.
 */

export interface MemberList {
  users: string[];
  groups: string[];
}

const GROUP_CACHE_MS = 60_000;
const groupCache = new Map<string, { users: string[]; at: number }>();

async function groupMembers(ctx: SlackHandlerContext, group: string): Promise<string[]> {
  const key = `${ctx.slack.apiUrl}|${group}`;
  const cached = groupCache.get(key);
  if (cached && Date.now() - cached.at < GROUP_CACHE_MS) return cached.users;
  if (!ctx.web) return [];
  const res = await ctx.web.usergroups.users.list({ usergroup: group });
  const users = res.users ?? [];
  groupCache.set(key, { users, at: Date.now() });
  return users;
}

/** The first of `groups` that `userId` is a member of, or undefined. */
export async function memberGroup(ctx: SlackHandlerContext, userId: string, groups: readonly string[]): Promise<string | undefined> {
  for (const group of groups) {
    try {
      if ((await groupMembers(ctx, group)).includes(userId)) return group;
    } catch (err) {
      ctx.log.warn({ group, err: err instanceof Error ? err.message : String(err) }, 'slack: cannot read user group members');
    }
  }
  return undefined;
}

export async function isListed(ctx: SlackHandlerContext, userId: string, list: MemberList | undefined): Promise<boolean> {
  if (!list) return false;
  return list.users.includes(userId) || (await memberGroup(ctx, userId, list.groups)) !== undefined;
}
