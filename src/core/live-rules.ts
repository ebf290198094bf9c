/**
 * libvirt's rules for changing a running VM, in one place (planner, executor and the simulated
 * host all follow them). Measured on libvirt 9.0; see also src/host/virsh-errors.ts.
 */

/** A running VM's numatune nodeset changes live only in mode `restrictive` (the mode itself never changes live). */
export function nodesetChangesLive(numatune: { mode: string; nodeset?: unknown } | null | undefined): boolean {
  return numatune?.mode === 'restrictive';
}

/** The numatune mode as a refusal names it; a VM with no <numatune> gets one strict nodeset live, then keeps it. */
export function describeNumatuneMode(numatune: { mode: string; nodeset: string | null } | null | undefined): string {
  return numatune?.nodeset ? numatune.mode : 'strict (no <numatune>: libvirt would take one live nodeset, then keep the VM strict for good)';
}
