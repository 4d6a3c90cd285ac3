import { z } from 'zod';
import { WORKFLOW_KINDS } from '../../common/workflow-kinds';
import { resolveSecret, secretFile, secretValue } from '../secrets';
import { isHttpUrl, name } from './fields';

/** `notifications.webhooks[]`: Slack-compatible webhooks each workflow kind's notifications go to. */

export const webhookSchema = z
  .object({
    name,
    /** The URL, or a `${ENV_VAR}` reference to it (webhook URLs are credentials); or urlFile. */
    url: secretValue.optional(),
    urlFile: secretFile.optional(),
    /** Kinds of workflow whose notifications go to this hook; all when unset. */
    kinds: z.array(z.enum(WORKFLOW_KINDS)).optional(),
  })
  .strict()
  .transform((h, ctx) => {
    const url = resolveSecret(h, 'url', ctx, { literal: true, required: true });
    if (url !== undefined && !isHttpUrl(url)) {
      // The value is not echoed: it may be a credential, or a token put in the wrong place.
      const field = h.urlFile !== undefined ? 'urlFile' : 'url';
      const what = field === 'urlFile' ? 'the content of urlFile' : h.url?.startsWith('${') ? `the value of ${h.url}` : 'the value';
      ctx.addIssue({ code: 'custom', path: [field], message: `${what} is not an http(s) URL` });
    }
    return { name: h.name, url: url ?? '', ...(h.kinds ? { kinds: h.kinds } : {}) };
  });
