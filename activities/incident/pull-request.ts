import { failureFor, type GitHubClient } from './github';

/**
 * The closed postmortem proposed as a pull request that adds `postmortems/<date>-<slug>.md` to the
 * postmortem repository, through GitHub's REST API as it documents the three steps: create a branch
 * (`POST /repos/{owner}/{repo}/git/refs` from the base branch's head, `GET …/git/ref/heads/{base}`),
 * put the file on it (`PUT /repos/{owner}/{repo}/contents/{path}` with base64 content, and the blob
 * `sha` when the file is already there), and open the pull request (`POST /repos/{owner}/{repo}/pulls`).
 *
 * Idempotent across retries, whichever step an earlier attempt reached: a pull request from the
 * incident's branch is looked up first (`GET …/pulls?head=owner:branch&state=all`); a branch that
 * exists (422 "Reference already exists") is reused; a file already holding the same text is not
 * committed again; a pull request that exists (422 "A pull request already exists") is looked up.
 * Writes are never retried inside the client (a lost answer may hide a success): the activity's
 * Temporal retry starts over from the lookup.
 */

export const POSTMORTEM_DIRECTORY = 'postmortems';

export interface PostmortemPullRequestInput {
  incidentKey: string;
  workflowId: string;
  title: string;
  severity: string;
  fileName: string;
  markdown: string;
}

export interface PostmortemPullRequest {
  url: string;
  number: number;
  branch: string;
  path: string;
  /** false when an earlier attempt had opened it. */
  created: boolean;
}

/** Hidden in the pull request body: which incident it proposes. */
export function postmortemMarker(incidentKey: string): string {
  return `<!-- fleetops-postmortem: ${incidentKey} -->`;
}

interface RequestErrorLike {
  status?: number;
  message?: string;
  response?: { data?: { message?: string; errors?: { message?: string }[] } };
}

/** A 422 whose message (or one of its errors) says `what`: GitHub's way of answering "already there". */
function isUnprocessable(err: unknown, what: RegExp): boolean {
  const e = err as RequestErrorLike;
  if (e.status !== 422) return false;
  const texts = [e.response?.data?.message, e.message, ...(e.response?.data?.errors ?? []).map((x) => x.message)];
  return texts.some((t) => typeof t === 'string' && what.test(t));
}

export function createPostmortemPullRequestApi(octokit: GitHubClient, opts: { repo: string; baseBranch?: string }) {
  const [owner, repo] = opts.repo.split('/') as [string, string];

  async function existing(branch: string): Promise<{ html_url: string; number: number } | undefined> {
    const res = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: 'all', per_page: 10 });
    return res.data[0];
  }

  async function baseBranch(): Promise<string> {
    if (opts.baseBranch) return opts.baseBranch;
    return (await octokit.rest.repos.get({ owner, repo })).data.default_branch;
  }

  /** The file's blob sha on the branch and whether it already holds `text`; undefined when it is not there. */
  async function fileOnBranch(path: string, branch: string, text: string): Promise<{ sha: string; same: boolean } | undefined> {
    try {
      const res = await octokit.rest.repos.getContent({ owner, repo, path, ref: branch });
      const data = res.data;
      if (Array.isArray(data) || data.type !== 'file') throw new Error(`${path} on ${branch} is not a file`);
      const current = 'content' in data && typeof data.content === 'string' ? Buffer.from(data.content, 'base64').toString('utf8') : undefined;
      return { sha: data.sha, same: current === text };
    } catch (err) {
      if ((err as RequestErrorLike).status === 404) return undefined;
      throw err;
    }
  }

  return {
    async open(req: PostmortemPullRequestInput): Promise<PostmortemPullRequest> {
      const slug = req.fileName.replace(/\.md$/, '');
      const branch = `fleetops/postmortem-${slug}`;
      const path = `${POSTMORTEM_DIRECTORY}/${req.fileName}`;
      let step = 'list pull requests';
      try {
        const found = await existing(branch);
        if (found) return { url: found.html_url, number: found.number, branch, path, created: false };

        step = 'read the base branch';
        const base = await baseBranch();
        const head = await octokit.rest.git.getRef({ owner, repo, ref: `heads/${base}` });

        step = 'create the branch';
        try {
          await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: head.data.object.sha, request: { retries: 0 } });
        } catch (err) {
          if (!isUnprocessable(err, /Reference already exists/i)) throw err;
        }

        step = 'put the postmortem file';
        const file = await fileOnBranch(path, branch, req.markdown);
        if (!file?.same) {
          await octokit.rest.repos.createOrUpdateFileContents({
            owner,
            repo,
            path,
            branch,
            message: `Postmortem: ${req.title} (${req.severity})`.slice(0, 200),
            content: Buffer.from(req.markdown, 'utf8').toString('base64'),
            ...(file ? { sha: file.sha } : {}),
            request: { retries: 0 },
          });
        }

        step = 'open the pull request';
        try {
          const pr = await octokit.rest.pulls.create({
            owner,
            repo,
            head: branch,
            base,
            title: `Postmortem: ${req.title} (${req.severity})`.slice(0, 256),
            body: [
              `The blameless postmortem of **${req.title}** (${req.severity}), written by fleetops when every postmortem item was checked.`,
              '',
              `Incident workflow: \`${req.workflowId}\``,
              '',
              postmortemMarker(req.incidentKey),
            ].join('\n'),
            request: { retries: 0 },
          });
          return { url: pr.data.html_url, number: pr.data.number, branch, path, created: true };
        } catch (err) {
          if (!isUnprocessable(err, /pull request already exists/i)) throw err;
          const again = await existing(branch);
          if (!again) throw err;
          return { url: again.html_url, number: again.number, branch, path, created: false };
        }
      } catch (err) {
        throw failureFor(err, `postmortem pull request (${step})`);
      }
    },
  };
}

export type PostmortemPullRequestApi = ReturnType<typeof createPostmortemPullRequestApi>;
