/**
 * A suite's own test VMs on the shared libvirt (qemu:///system): small TCG domains (64 MiB, no disk,
 * idle in SeaBIOS) named PREFIX-PID-WHAT, so a suite removes its own in `after` and, in `before`,
 * those a run that died left behind, never another suite's or the shared numaplace-test-* ones.
 */
import { existsSync } from 'node:fs';
import { runVirsh } from '../../src/host/virsh-exec.js';
import { TEST_URI } from './libvirt-available.js';

export const virsh = (...args: string[]) => runVirsh(args, { uri: TEST_URI, timeoutMs: 120_000 });

/** The domain XML of a test VM; `extra` goes beside <os> (e.g. <numatune>), `metadata` into <metadata>. */
export function ownVmXml(n: string, extra = '', metadata = ''): string {
  return `<domain type='qemu'>
  <name>${n}</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>1</vcpu>
  ${metadata ? `<metadata>${metadata}</metadata>` : ''}
  ${extra}
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model></cpu>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices><serial type='null'/><memballoon model='none'/></devices>
</domain>`;
}

export async function vmExists(n: string): Promise<boolean> {
  return virsh('domuuid', '--domain', n).then(() => true, () => false);
}

export async function removeVm(n: string): Promise<void> {
  if (!(await vmExists(n))) return;
  await virsh('destroy', '--domain', n).catch(() => undefined);
  await virsh('undefine', '--domain', n).catch(() => undefined); // a transient one is gone once destroyed
}

/** Removes the PREFIX-PID-* domains of runs whose process is gone (they died before their `after`). */
export async function removeStaleVms(prefix: string): Promise<void> {
  const names = (await virsh('list', '--all', '--name')).split('\n').map((l) => l.trim()).filter((n) => n.startsWith(prefix));
  for (const n of names) {
    const pid = /^(\d+)-/.exec(n.slice(prefix.length))?.[1];
    if (!pid || !existsSync(`/proc/${pid}`)) await removeVm(n);
  }
}
