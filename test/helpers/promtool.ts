/** promtool (Debian package "prometheus"): required under CI=true, optional on a dev machine. */
import { execa } from 'execa';
import { requireOrSkip } from './skip.js';

let found: Promise<boolean> | undefined;

function available(): Promise<boolean> {
  found ??= execa('promtool', ['--version'], { stdin: 'ignore' }).then(
    () => true,
    () => false,
  );
  return found;
}

/**
 * Call at the top of a test that runs promtool. Under CI a missing promtool fails the test;
 * elsewhere the test is skipped with a printed reason.
 */
export async function needPromtool(ctx: Mocha.Context): Promise<void> {
  if (await available()) return;
  requireOrSkip(ctx, 'promtool not found', 'apt-get install prometheus (scripts/hypervisor-up.sh installs it)');
}

/** Run `promtool ...args` (stdin from `input`); returns exit code and combined output. */
export async function promtool(args: string[], input = ''): Promise<{ exitCode: number; output: string }> {
  const r = await execa('promtool', args, { input, reject: false });
  return { exitCode: r.exitCode ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
}
