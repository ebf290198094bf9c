/**
 * The systemd notification protocol (sd_notify(3)) for a Type=notify unit: READY=1 once serving,
 * WATCHDOG=1 while cycles progress, STOPPING=1 on the way out. Node has no AF_UNIX datagram
 * socket, so each message goes through systemd's own `systemd-notify` (the unit sets
 * NotifyAccess=all and the message names our pid). Outside systemd (no NOTIFY_SOCKET) it does nothing.
 */
import { execa } from 'execa';

export interface ServiceNotifier {
  /** The watchdog interval systemd asked for (WatchdogSec=), or null when there is none. */
  readonly watchdogMs: number | null;
  notify(state: 'READY=1' | 'WATCHDOG=1' | 'STOPPING=1' | `STATUS=${string}`): Promise<void>;
}

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env, pid = process.pid, command = 'systemd-notify'): ServiceNotifier | null {
  if (!env.NOTIFY_SOCKET) return null;
  const usec = Number(env.WATCHDOG_USEC);
  // WATCHDOG_PID, when set, names the process systemd watches: only that one pings.
  const watched = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  return {
    watchdogMs: watched && Number.isFinite(usec) && usec > 0 ? usec / 1000 : null,
    async notify(state) {
      // A lost notification must never stop the daemon: systemd acts on the silence itself.
      await execa(command, [`--pid=${pid}`, state], { env: { NOTIFY_SOCKET: env.NOTIFY_SOCKET }, extendEnv: false, reject: false, timeout: 5000, stdin: 'ignore' });
    },
  };
}
