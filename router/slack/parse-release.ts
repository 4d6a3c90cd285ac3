import { clusterNameSchema, imageSchema, textSchema } from '../../common/operator-input';
import { z } from 'zod';
import { releaseIdSchema, releaseSelectorSchema, waveSizeSchema, type ReleaseSelector, type WaveSize } from '../../contracts/release/input';
import { CommandError, parse, rest, tokens } from './parse-words';

/**
 * `/fleetops release …`, in the words of the other commands: the release id, then `keyword value`
 * pairs, a free text last (`change …`, a rollback's reason). Values go through the schemas the CLI and
 * the Release Requested event use (contracts/release/input.ts). Pure, as parse.ts is.
 */

export type ReleaseCommand =
  | { kind: 'release-start'; id: string; selector: ReleaseSelector; waves?: WaveSize[]; change?: string }
  | { kind: 'release-status'; id: string }
  | { kind: 'release-approve'; id: string; wave?: number }
  | { kind: 'release-continue'; id: string }
  | { kind: 'release-skip'; id: string; service: string }
  | { kind: 'release-rollback'; id: string; reason: string };

export const RELEASE_START_USAGE = 'usage: /fleetops release start <id> image <image> [cluster <cluster>] [services <glob>] [tag <key=value>] [waves 1,10%,25%,100%] [change <text>]';
const RELEASE_USAGE = `${RELEASE_START_USAGE}; release status|approve|continue <id>; release skip <id> <service>; release rollback <id> <reason>`;

const serviceArg = z.string().regex(/^([A-Za-z0-9_-]{1,255}\/)?[A-Za-z0-9_-]{1,255}$/, 'must be <cluster>/<service> or <service>');
const waveNumber = z.coerce.number().int().min(1).max(20);

/** A release id as given, or as its workflow id `release-<id>`. */
function releaseId(word: string | undefined): string {
  const w = word ?? '';
  return parse(releaseIdSchema, w.startsWith('release-') ? w.slice('release-'.length) : w, 'release id');
}

const START_KEYS = ['image', 'cluster', 'services', 'tag', 'waves'];

function parseStart(text: string): ReleaseCommand {
  const m = /^([\s\S]*?)(?:^|\s)change(?:\s+([\s\S]*))?$/.exec(text.trim());
  const head = m ? m[1]! : text.trim();
  const change = m ? parse(textSchema(200), m[2] ?? '', 'change') : undefined;
  const words = tokens(head);
  const id = releaseId(words[0]?.text);
  const opts = new Map<string, string>();
  for (let i = 1; i < words.length; i += 2) {
    const key = words[i]!.text;
    if (words[i]!.quoted || !START_KEYS.includes(key)) throw new CommandError(`unexpected "${key}"; ${RELEASE_START_USAGE}`);
    if (opts.has(key)) throw new CommandError(`"${key}" given twice; ${RELEASE_START_USAGE}`);
    const value = words[i + 1];
    if (value === undefined) throw new CommandError(`"${key}" needs a value; ${RELEASE_START_USAGE}`);
    opts.set(key, value.text);
  }
  const image = opts.get('image');
  if (image === undefined) throw new CommandError(RELEASE_START_USAGE);
  const cluster = opts.get('cluster');
  const services = opts.get('services');
  const tag = opts.get('tag');
  const selector = parse(
    releaseSelectorSchema,
    {
      image: parse(imageSchema, image, 'image'),
      ...(cluster !== undefined ? { cluster: parse(clusterNameSchema, cluster, 'cluster') } : {}),
      ...(services !== undefined ? { service: services } : {}),
      ...(tag !== undefined ? { tag } : {}),
    },
    'selector',
  );
  const waves = opts.get('waves');
  return {
    kind: 'release-start',
    id,
    selector,
    ...(waves !== undefined ? { waves: waves.split(',').map((w, i) => parse(waveSizeSchema, /^\d+$/.test(w) ? Number(w) : w, `waves[${i}]`)) } : {}),
    ...(change !== undefined ? { change } : {}),
  };
}

/** `/fleetops release <sub> …`; `text` is the whole command text. */
export function parseRelease(text: string): ReleaseCommand {
  const words = text.trim().split(/\s+/);
  const [, sub, idWord] = words;
  switch (sub) {
    case 'start':
      return parseStart(rest(text, 2));
    case 'status':
    case 'continue':
      if (words.length !== 3) throw new CommandError(`usage: /fleetops release ${sub} <id>`);
      return { kind: sub === 'status' ? 'release-status' : 'release-continue', id: releaseId(idWord) };
    case 'approve': {
      const usage = 'usage: /fleetops release approve <id> [wave <n>]';
      if (words.length === 3) return { kind: 'release-approve', id: releaseId(idWord) };
      if (words.length !== 5 || words[3] !== 'wave') throw new CommandError(usage);
      return { kind: 'release-approve', id: releaseId(idWord), wave: parse(waveNumber, words[4], 'wave') };
    }
    case 'skip':
      if (words.length !== 4) throw new CommandError('usage: /fleetops release skip <id> <service> (<cluster>/<service>, or the service when one cluster has it)');
      return { kind: 'release-skip', id: releaseId(idWord), service: parse(serviceArg, words[3], 'service') };
    case 'rollback': {
      const reason = rest(text, 3);
      if (reason === '') throw new CommandError('usage: /fleetops release rollback <id> <reason>');
      return { kind: 'release-rollback', id: releaseId(idWord), reason: parse(textSchema(1000), reason, 'reason') };
    }
    default:
      throw new CommandError(RELEASE_USAGE);
  }
}
