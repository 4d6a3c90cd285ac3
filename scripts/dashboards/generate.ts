import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toJson } from './lib';
import { DASHBOARDS } from './index';

/**
 * `npx tsx scripts/dashboards/generate.ts`: writes every dashboard of scripts/dashboards/ to
 * deploy/grafana/<name>.json, and removes a JSON file there no dashboard makes any more.
 * test/dashboards/dashboards.test.ts fails when the committed files differ from what this writes.
 */
export const GRAFANA_DIR = resolve(__dirname, '..', '..', 'deploy', 'grafana');

function main(): void {
  mkdirSync(GRAFANA_DIR, { recursive: true });
  for (const [file, make] of Object.entries(DASHBOARDS)) writeFileSync(join(GRAFANA_DIR, file), toJson(make()));
  for (const file of readdirSync(GRAFANA_DIR)) if (file.endsWith('.json') && !(file in DASHBOARDS)) rmSync(join(GRAFANA_DIR, file));
  process.stdout.write(`wrote ${Object.keys(DASHBOARDS).length} dashboards to ${GRAFANA_DIR}\n`);
}

if (require.main === module) main();
