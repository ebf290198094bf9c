/**
 * config/README.md's key tables, rendered from the config table (src/core/config-table.ts):
 * `npm run docs:config` rewrites them between the markers, and a unit test fails when the
 * file differs from what the table gives.
 */
import { CONFIG_TABLE, configKeys } from '../core/config-table.js';

export const DOC_BEGIN = '<!-- config-keys:begin (generated from src/core/config-table.ts by `npm run docs:config`; do not edit) -->';
export const DOC_END = '<!-- config-keys:end -->';

/** Markdown of the default as config/README.md shows it. */
function shown(value: unknown): string {
  return '`' + JSON.stringify(value) + '`';
}

/** One table per section, in the order sections first appear in the table. */
export function configKeyTables(): string {
  const sections = new Map<string, string[]>();
  for (const k of configKeys()) {
    const spec = CONFIG_TABLE[k];
    const rows = sections.get(spec.section) ?? [];
    const restart = spec.reload === 'restart' ? ' Needs a restart: SIGHUP keeps the running value.' : '';
    rows.push(`| \`${k}\` | ${spec.allowed} | ${shown(spec.default)} | ${spec.doc}${restart} |`);
    sections.set(spec.section, rows);
  }
  const out: string[] = [];
  for (const [section, rows] of sections) {
    out.push(`### ${section}`, '', '| Key | Allowed values | Default | Meaning |', '|---|---|---|---|', ...rows, '');
  }
  return out.join('\n').trimEnd();
}

/** The README text with the generated part replaced (throws when the markers are missing). */
export function withKeyTables(readme: string): string {
  const a = readme.indexOf(DOC_BEGIN);
  const b = readme.indexOf(DOC_END);
  if (a < 0 || b < a) throw new Error(`config/README.md: the markers ${DOC_BEGIN} ... ${DOC_END} are missing`);
  return `${readme.slice(0, a + DOC_BEGIN.length)}\n\n${configKeyTables()}\n\n${readme.slice(b)}`;
}

/**
 * config/numaplace.schema.json, from the same table: every key with its type, bounds, default and
 * doc line; unknown keys are errors, as they are for the daemon. `"$schema"` may name this file.
 */
export function configJsonSchema(): Record<string, unknown> {
  type Node = { type: 'object'; additionalProperties: false; properties: Record<string, unknown> };
  const group = (): Node => ({ type: 'object', additionalProperties: false, properties: {} });
  const root: Node & Record<string, unknown> = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'numaplace configuration',
    description: 'The file numaplace reads (--config FILE, else /etc/numaplace/numaplace.json). Every key is optional; see config/README.md.',
    ...group(),
  };
  root.properties.$schema = { type: 'string', description: 'The schema this file follows (for editors); numaplace ignores it.' };
  for (const k of configKeys()) {
    const spec = CONFIG_TABLE[k];
    const parts = k.split('.');
    let node: Node = root;
    for (const p of parts.slice(0, -1)) node = (node.properties[p] ??= group()) as Node;
    node.properties[parts[parts.length - 1]] = { ...spec.check.schema, default: spec.default, description: spec.doc };
  }
  return root;
}
