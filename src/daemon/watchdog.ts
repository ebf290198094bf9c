/**
 * When the daemon feeds systemd's watchdog: while no cycle has run for half the interval. A cycle
 * stuck longer (a virsh call that never returns, a wedged libvirtd) stops the pings, and systemd
 * restarts the daemon at most 1.5 intervals after the hang began; crash recovery then undoes
 * any half-applied VM.
 */
export function watchdogPingDue(cycleRunningForMs: number, watchdogMs: number): boolean {
  return cycleRunningForMs < watchdogMs / 2;
}
