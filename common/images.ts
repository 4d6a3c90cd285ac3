/**
 * Which images a service may run: its config names image repositories (`services[].images`), and an
 * image deploy is allowed only when the image's repository is one of them, compared whole. So
 * `…/web-evil` and `evil.example/…/web` are not `…/web`, and nothing is normalised (`nginx` is not
 * `docker.io/library/nginx`): write the repository as deploys name it. Pure, so the starters (router,
 * CLI, Slack), the deploy workflow's preflight and the activity that registers the revision all decide
 * with the same code.
 *
 * Reference grammar as the distribution project's reference package documents it: an optional
 * registry host (with port), lower-case path components, then `:tag` and/or `@sha256:<64 hex>`.
 */

const DOMAIN = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\\d{1,5})?';
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = `(?:${DOMAIN}\\/)?${COMPONENT}(?:\\/${COMPONENT})*`;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const REFERENCE_RE = new RegExp(`^(${REPOSITORY})(?::(${TAG}))?(?:@(sha256:[a-f0-9]{64}))?$`);
const REPOSITORY_RE = new RegExp(`^${REPOSITORY}$`);
const MAX_REPOSITORY = 255;

export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
}

/** `repo`, `repo:tag`, `repo@sha256:…` or `repo:tag@sha256:…`; undefined when it is none of these. */
export function parseImageReference(image: string): ImageReference | undefined {
  if (image.length > 1024) return undefined;
  const m = REFERENCE_RE.exec(image);
  if (!m || m[1]!.length > MAX_REPOSITORY) return undefined;
  return { repository: m[1]!, ...(m[2] ? { tag: m[2] } : {}), ...(m[3] ? { digest: m[3] } : {}) };
}

/** A repository as config names it: no tag, no digest, lower case throughout (hosts included), so an exact compare is the whole rule. */
export function isImageRepository(s: string): boolean {
  return s.length <= MAX_REPOSITORY && REPOSITORY_RE.test(s) && s === s.toLowerCase();
}

/**
 * Why `image` may not be deployed to `service` with these allowed repositories, or undefined when it may.
 * `allowed` unset or empty: the service names no repositories, so no image deploy is allowed (a
 * task definition deploy still is: it names a revision someone with AWS rights registered).
 */
export function imageRefusal(service: string, image: string, allowed: readonly string[] | undefined): string | undefined {
  if (!allowed || allowed.length === 0) {
    return `${service} names no image repositories (services[].images): image deploys are refused; list the repository, or deploy a task definition`;
  }
  const ref = parseImageReference(image);
  if (!ref) return `image ${JSON.stringify(image.slice(0, 200))} is not an image reference (repository[:tag][@sha256:digest])`;
  if (!allowed.includes(ref.repository)) {
    return `image repository ${ref.repository} is not one ${service} may run (services[].images: ${allowed.join(', ')})`;
  }
  return undefined;
}
