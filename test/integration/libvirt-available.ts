/**
 * Shared guard for tests that need a real libvirt + QEMU (scripts/hypervisor-up.sh brings one up).
 * Under CI=true an unreachable libvirt or missing test VMs FAIL the suite loudly; on a developer
 * machine without libvirt the tests are skipped with the reason printed.
 */
import { runVirsh } from '../../src/host/virsh-exec.js';
import { requireOrSkip } from '../helpers/skip.js';

export const TEST_URI = process.env.NUMAPLACE_TEST_URI ?? 'qemu:///system';
export const IDLE_VM = 'numaplace-test-idle';
export const BUSY_VM = 'numaplace-test-busy';
export const NUMA_VM = 'numaplace-test-numa';
/** Name with a blank, both quotes, ';' and $(...): it must stay one literal argument everywhere. */
export const ODD_VM = `numaplace-test-it's "odd"; $(touch numaplace-pwned) x`;
export const TEST_VMS = [IDLE_VM, BUSY_VM, NUMA_VM, ODD_VM];

/** Why libvirt cannot be used for the integration tests, or null when it can. */
export async function libvirtUnavailableReason(vms: readonly string[] = TEST_VMS): Promise<string | null> {
  let names: string[];
  try {
    names = (await runVirsh(['list', '--all', '--name'], { uri: TEST_URI, timeoutMs: 15_000 })).split('\n').filter(Boolean);
  } catch (e) {
    return `libvirt at ${TEST_URI} is not reachable (${(e as Error).message.split('\n')[0]})`;
  }
  const missing = vms.filter((v) => !names.includes(v));
  if (missing.length) return `test VMs not defined at ${TEST_URI}: ${missing.map((m) => JSON.stringify(m)).join(', ')}`;
  return null;
}

/**
 * Call from a mocha `before` hook (function, not arrow): skips the suite with a printed reason on a
 * dev machine, throws under CI=true.
 */
export async function requireLibvirt(ctx: Mocha.Context, vms: readonly string[] = TEST_VMS): Promise<void> {
  const reason = await libvirtUnavailableReason(vms);
  if (reason === null) return;
  requireOrSkip(ctx, reason, 'run scripts/hypervisor-up.sh as root (installs libvirt + QEMU, starts them, defines the test VMs)');
}
