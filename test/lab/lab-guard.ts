/** Skip (dev machine, reason printed) or fail loudly (CI=true) when the NUMA lab cannot run here. */
import { labUnavailableReason } from './numa-lab.js';

export function requireLab(ctx: Mocha.Context): void {
  // The lab boots a kernel per test file and takes minutes: always under CI=true, on request elsewhere.
  if (process.env.CI !== 'true' && process.env.NUMAPLACE_LAB !== '1') {
    console.log('      skipped: NUMA lab tests run under CI=true or NUMAPLACE_LAB=1 (each file boots a multi-node kernel in QEMU: minutes)');
    ctx.skip();
  }
  const reason = labUnavailableReason();
  if (reason === null) return;
  const fix = 'run scripts/hypervisor-up.sh and scripts/numa-lab-up.sh as root';
  if (process.env.CI === 'true') throw new Error(`CI=true and the NUMA lab cannot run: ${reason}; ${fix}`);
  console.log(`      skipped: NUMA lab unavailable: ${reason}; ${fix}`);
  ctx.skip();
}

/** One line per measured timing, printed with the test output (the report quotes them). */
export function note(msg: string): void { console.log(`      [lab] ${msg}`); }
