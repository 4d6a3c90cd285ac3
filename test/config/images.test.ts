import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { imageRefusal, isImageRepository, parseImageReference } from '../../common/images';
import { parseConfig } from '../../config/load';
import { ROOT } from '../../testkit/paths';

/** Which images a service may run (common/images.ts) and `services[].images` in the config. */

const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com/web';
const ALLOWED = [ECR, 'public.ecr.aws/nginx/nginx'];
const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    [`${ECR}:1.4.2`, { repository: ECR, tag: '1.4.2' }],
    [`${ECR}@${DIGEST}`, { repository: ECR, digest: DIGEST }],
    [`${ECR}:1.4.2@${DIGEST}`, { repository: ECR, tag: '1.4.2', digest: DIGEST }],
    ['public.ecr.aws/nginx/nginx', { repository: 'public.ecr.aws/nginx/nginx' }],
    ['registry.example:5000/web:2', { repository: 'registry.example:5000/web', tag: '2' }],
  ])('%s', (image, parsed) => {
    expect(parseImageReference(image)).toEqual(parsed);
  });

  it.each([`${ECR}:1.4.2`, `${ECR}@${DIGEST}`, 'public.ecr.aws/nginx/nginx:1.27.4'])('allows %s', (image) => {
    expect(imageRefusal('demo/web', image, ALLOWED)).toBeUndefined();
  });

  // Hostile or malformed: each refused, with the reason.
  it.each([
    ['registry.evil.example/backdoor:1', 'image repository registry.evil.example/backdoor is not one demo/web may run'],
    [`${ECR}-evil:1`, `image repository ${ECR}-evil is not one`],
    [`${ECR}evil:1`, 'is not one'],
    [`${ECR}/evil:1`, `image repository ${ECR}/evil is not one`],
    [`evil.example/${ECR}:1`, `image repository evil.example/${ECR} is not one`],
    [`123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/web:1`, 'is not one'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com:443/web:1', 'is not one'],
    ['web:1', 'image repository web is not one'],
    ['nginx:1.27.4', 'image repository nginx is not one'],
    ['docker.io/nginx/nginx:1', 'is not one'],
    [`${ECR.toUpperCase()}:1`, 'is not an image reference'],
    [`${ECR}:1 latest`, 'is not an image reference'],
    [`${ECR}:1\nx`, 'is not an image reference'],
    [`${ECR}@sha256:abc`, 'is not an image reference'],
    [`${ECR}@md5:${'a'.repeat(32)}`, 'is not an image reference'],
    [`${ECR}/../evil:1`, 'is not an image reference'],
    [`//${ECR}:1`, 'is not an image reference'],
    [`${ECR}:`, 'is not an image reference'],
    [`${ECR}:-1`, 'is not an image reference'],
    ['', 'is not an image reference'],
  ])('refuses %j', (image, reason) => {
    expect(imageRefusal('demo/web', image, ALLOWED)).toContain(reason);
  });

  it('a service with no list runs no image deploys', () => {
    expect(imageRefusal('demo/web', `${ECR}:1`, undefined)).toContain('names no image repositories (services[].images): image deploys are refused');
    expect(imageRefusal('demo/web', `${ECR}:1`, [])).toContain('image deploys are refused');
  });
});

describe('services[].images', () => {
  const base = () => parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as { services: Record<string, unknown>[] };
  const withImages = (images: unknown) => {
    const doc = base();
    doc.services[0] = { ...doc.services[0], images };
    return () => parseConfig(doc, 'images test');
  };

  it('takes repositories', () => {
    expect(withImages(ALLOWED)().services[0]!.images).toEqual(ALLOWED);
    expect(isImageRepository(ECR)).toBe(true);
  });

  it.each([
    [[`${ECR}:1`], 'services[0].images[0]: must be an image repository'],
    [[`${ECR}@${DIGEST}`], 'services[0].images[0]: must be an image repository'],
    [['Registry.Example/web'], 'services[0].images[0]: must be an image repository'],
    [[], 'services[0].images'],
  ])('refuses %j', (images, message) => {
    expect(withImages(images)).toThrow(message);
  });
});
