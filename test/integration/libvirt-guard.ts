/** Whether the real-libvirt tests can run here: null when they can, else the reason. */
import { spawnSync } from 'node:child_process';

export function libvirtAvailable(uri: string, needRunning: string[] = []): string | null {
  const r = spawnSync('virsh', ['-q', '-c', uri, 'list', '--name', '--state-running'], { encoding: 'utf8', timeout: 30000 });
  if (r.error) return `virsh not runnable (${r.error.message}); run scripts/hypervisor-up.sh as root`;
  if (r.status !== 0) return `libvirt at ${uri} does not answer (${r.stderr.trim()}); run scripts/hypervisor-up.sh as root`;
  const running = new Set(r.stdout.split('\n').map((l) => l.trim()));
  const missing = needRunning.filter((n) => !running.has(n));
  if (missing.length) return `test VM(s) not running: ${missing.join(', ')}; run scripts/hypervisor-up.sh as root`;
  return null;
}
