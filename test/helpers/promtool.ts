/** promtool (Debian package "prometheus"): required under CI=true, optional on a dev machine. */
import { execa } from 'execa';

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
  if (process.env.CI === 'true') throw new Error('promtool not found: CI must install it (Debian package "prometheus", installed by scripts/hypervisor-up.sh from .ci/run)');
  console.log('      (skipped: promtool not installed; apt-get install prometheus)');
  ctx.skip();
}

/** Run `promtool ...args` (stdin from `input`); returns exit code and combined output. */
export async function promtool(args: string[], input = ''): Promise<{ exitCode: number; output: string }> {
  const r = await execa('promtool', args, { input, reject: false });
  return { exitCode: r.exitCode ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
}
