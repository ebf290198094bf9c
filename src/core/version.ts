/** numaplace's version, read once from the package.json beside the compiled tree (dist/src/core -> ../../../). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function numaplaceVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
