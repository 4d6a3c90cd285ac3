import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { EVENTS_KIT_TEMPLATE, MEMBER_KIT_TEMPLATE } from '../stack/events-kit';
import { generateKit, type KitTemplate } from '../stack/kit-rules';
import { ROOT } from '../stack/settings';

/**
 * `make kit`: rewrites the generated parts of the AWS kit's templates (the EventBridge rules and the
 * queue policies' lists of them) from the event kinds in router/events/ (stack/kit-rules.ts).
 * Everything outside the marked regions is left as it is.
 */
const TEMPLATES: [string, KitTemplate][] = [
  [EVENTS_KIT_TEMPLATE, 'events'],
  [MEMBER_KIT_TEMPLATE, 'member'],
];

for (const [path, template] of TEMPLATES) {
  const text = readFileSync(path, 'utf8');
  const generated = generateKit(text, template);
  if (generated === text) {
    console.log(`${relative(ROOT, path)}: up to date`);
  } else {
    writeFileSync(path, generated);
    console.log(`${relative(ROOT, path)}: rewritten`);
  }
}
