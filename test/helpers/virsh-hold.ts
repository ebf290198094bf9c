/**
 * A `virsh` for integration tests that stops the daemon at an exact point: put a directory holding
 * the launcher from `installVirshHold` first in the daemon's PATH. Every call runs the real virsh,
 * except the first, once the test armed the hold (`armVirshHold`), whose arguments match
 * NUMAPLACE_TEST_HOLD_ON (a regular expression over the arguments joined by blanks), which writes
 * its pid to NUMAPLACE_TEST_HOLD_FILE and then:
 *   after  (default): runs the real virsh, then never returns (its caller is killed meanwhile);
 *   before: waits until the test deletes the file, then runs the real virsh.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** From now on the next matching call holds. */
export function armVirshHold(file: string): void {
  writeFileSync(`${file}.arm`, '');
}

/** Writes an executable `virsh` launcher into `dir`; returns the environment for the daemon. */
export function installVirshHold(dir: string, opts: { on: string; file: string; mode?: 'after' | 'before' }): NodeJS.ProcessEnv {
  const launcher = join(dir, 'virsh');
  writeFileSync(launcher, `#!${process.execPath}\nimport(${JSON.stringify(fileURLToPath(import.meta.url))});\n`);
  chmodSync(launcher, 0o755);
  const real = (process.env.PATH ?? '').split(':').map((d) => join(d, 'virsh')).find((f) => !f.startsWith(tmpdir()) && existsSync(f)) ?? '/usr/bin/virsh';
  return {
    ...process.env,
    PATH: `${dir}:${process.env.PATH ?? ''}`,
    NUMAPLACE_TEST_REAL_VIRSH: real,
    NUMAPLACE_TEST_HOLD_ON: opts.on,
    NUMAPLACE_TEST_HOLD_FILE: opts.file,
    NUMAPLACE_TEST_HOLD_MODE: opts.mode ?? 'after',
  };
}


function runReal(args: string[]): number {
  const r = spawnSync(process.env.NUMAPLACE_TEST_REAL_VIRSH!, args, { stdio: 'inherit' });
  return r.status ?? 1;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = process.env.NUMAPLACE_TEST_HOLD_FILE;
  const on = process.env.NUMAPLACE_TEST_HOLD_ON;
  // Armed by the test; `.done` marks the hold as taken: only the first matching call holds.
  if (!file || !on || !existsSync(`${file}.arm`) || existsSync(`${file}.done`) || !new RegExp(on).test(args.join(' '))) {
    process.exit(runReal(args));
  }
  writeFileSync(`${file}.done`, '');
  if (process.env.NUMAPLACE_TEST_HOLD_MODE === 'before') {
    writeFileSync(file, String(process.pid));
    const wait = setInterval(() => {
      if (existsSync(file)) return;
      clearInterval(wait);
      process.exit(runReal(args));
    }, 50);
    return;
  }
  runReal(args);
  // Only now, with the action taken effect, may the test kill the caller.
  writeFileSync(file, String(process.pid));
  setInterval(() => undefined, 60_000); // the caller never hears back
}

if (process.env.NUMAPLACE_TEST_REAL_VIRSH && process.argv[1]?.endsWith('virsh')) main();
