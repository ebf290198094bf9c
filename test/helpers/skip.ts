/**
 * One way for a suite to stand down when what it needs is missing: under CI=true it fails loudly (CI
 * installs everything), elsewhere it is skipped with the reason and how to enable it, and `npm test`
 * ends with the list of suites skipped (a mocha root hook: .mocharc.json requires this file).
 */
const skipped: { suite: string; reason: string; enable: string }[] = [];

/** Skip the suite (from a `before` hook, `function` not arrow), remembered for the closing summary. */
export function skipSuite(ctx: Mocha.Context, reason: string, enable: string): never {
  const suite = ctx.test?.parent?.fullTitle() || ctx.currentTest?.parent?.fullTitle() || 'a suite';
  console.log(`      skipped: ${reason}; ${enable}`);
  skipped.push({ suite, reason, enable });
  ctx.skip();
}

/** What a suite needs is missing: fail under CI=true, skip elsewhere. */
export function requireOrSkip(ctx: Mocha.Context, reason: string | null, enable: string): void {
  if (reason === null) return;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}: ${enable}`);
  skipSuite(ctx, reason, enable);
}

export const mochaHooks = {
  afterAll(): void {
    if (skipped.length === 0) return;
    console.log(`\n  ${skipped.length} suite(s) skipped on this machine (under CI=true they run, or fail):`);
    for (const s of skipped) console.log(`    - ${s.suite}: ${s.reason}\n      to run it: ${s.enable}`);
  },
};
