/**
 * Errors a HostBackend throws from its live actions, shared by the virsh and simulated backends
 * so the apply layer can tell "the host cannot do this" from "this attempt failed".
 */

/**
 * The host refuses the action for a structural reason that retrying will not change: a numatune
 * nodeset change in strict mode, vCPU unplug without guest support, hot-plug during a migration.
 * The planner should stop proposing it for that VM; `reason` carries libvirt's/QEMU's text.
 */
export class HostLimitationError extends Error {
  constructor(
    readonly vm: string,
    readonly action: string,
    readonly reason: string,
  ) {
    super(`${action} on ${JSON.stringify(vm)} is not possible on this host: ${reason}`);
    this.name = 'HostLimitationError';
  }
}

/**
 * The action was rejected for this value or this moment (CPU not online, out of range, no free
 * slot, unknown VM); `detail` is the text libvirt would print after "error: ".
 */
export class HostActionError extends Error {
  constructor(
    readonly vm: string,
    readonly action: string,
    readonly detail: string,
  ) {
    super(`${action} on ${JSON.stringify(vm)} failed: ${detail}`);
    this.name = 'HostActionError';
  }
}
