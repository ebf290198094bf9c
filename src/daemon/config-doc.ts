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
