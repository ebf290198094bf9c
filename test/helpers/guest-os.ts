/**
 * The hot-plug test guest (scripts/guest-os): Debian's kernel + a busybox initramfs with qemu-ga,
 * virtio-balloon, the seed's onlining rules, a CPU burner and a memory filler, booted by the machine's
 * own libvirt as a TCG domain. Helpers to build, boot, read its console report and remove it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { runVirsh } from '../../src/host/virsh-exec.js';

const run = promisify(execFile);
export const URI = process.env.NUMAPLACE_URI ?? 'qemu:///system';
export const virsh = (...args: string[]) => runVirsh(args, { uri: URI, timeoutMs: 300_000 });
/** Test domains are PREFIX + pid + '-' + role; the pid tells a live run's VMs from leftovers. */
export const PREFIX = 'numaplace-test-gos-';
export const LOG_DIR = '/var/log/numaplace-guest';
const SCRIPTS = join(process.cwd(), 'scripts', 'guest-os');

export interface GuestImage {
  kernel: string;
  initrd: string;
}

/** Fetch the kernel (apt, cached) and build the initramfs (cached by content). */
export async function buildGuestImage(): Promise<GuestImage> {
  const { stdout } = await run('bash', [join(SCRIPTS, 'build.sh')], { timeout: 600_000 });
  const [kernel, initrd] = stdout.trim().split('\n');
  return { kernel, initrd };
}

export interface GuestOptions {
  vcpuCurrent: number;
  vcpuMax: number;
  /** Kernel command line options for init.sh: np.burn=1, np.leave=MiB, np.online=0. */
  cmdline: string;
  /** Initial memory (two equal guest cells) and <maxMemory>, MiB; default 256 and 1024. */
  memoryMiB?: number;
  maxMemoryMiB?: number;
}

export function serialLog(name: string): string {
  return join(LOG_DIR, `${name}.log`);
}

export async function exists(name: string): Promise<boolean> {
  try {
    await virsh('domuuid', '--domain', name);
    return true;
  } catch {
    return false;
  }
}

export async function removeGuest(name: string): Promise<void> {
  if (await exists(name)) {
    await virsh('destroy', '--domain', name).catch(() => undefined);
    await virsh('undefine', '--domain', name);
  }
  rmSync(serialLog(name), { force: true });
}

/** Remove guests of runs that no longer exist (killed before their `after`). */
export async function removeStaleGuests(): Promise<void> {
  const names = (await virsh('list', '--all', '--name')).split('\n').map((l) => l.trim());
  for (const name of names) {
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    if (pid && !existsSync(`/proc/${pid}`)) await removeGuest(name).catch(() => undefined);
  }
  for (const f of existsSync(LOG_DIR) ? readdirSync(LOG_DIR) : []) {
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(f)?.[1];
    if (pid && !existsSync(`/proc/${pid}`)) rmSync(join(LOG_DIR, f), { force: true });
  }
}

/** What the guest's init prints every second (scripts/guest-os/init.sh). */
export interface GuestReport {
  up: number;
  online: string;
  burners: number;
  memTotalKiB: number;
  memAvailKiB: number;
  nodeKiB: number[];
  blockBytes: number;
  agent: boolean;
}

export function consoleLines(name: string): string[] {
  try {
    return readFileSync(serialLog(name), 'utf8').split(/\r?\n/);
  } catch {
    return [];
  }
}

export function lastReport(name: string): GuestReport | null {
  const line = consoleLines(name).filter((l) => l.startsWith('NPGUEST ')).at(-1);
  if (!line) return null;
  const f = Object.fromEntries(line.split(' ').slice(1).map((kv) => kv.split('=') as [string, string]));
  return {
    up: Number(f.up),
    online: f.online,
    burners: Number(f.burners),
    memTotalKiB: Number(f.memtotal),
    memAvailKiB: Number(f.memavail),
    nodeKiB: [Number(f.node0), Number(f.node1)],
    blockBytes: parseInt(f.block, 16),
    agent: f.ga === '1',
  };
}

/** The last `n` console lines that are not reports (kernel messages, rule lines), for error messages. */
export function consoleTail(name: string, n = 15): string {
  const lines = consoleLines(name);
  const reports = lines.filter((l) => l.startsWith('NPGUEST '));
  return `console of ${name}: ${reports.length} reports, last ${JSON.stringify(reports.at(-1) ?? null)}; other lines: ` +
    JSON.stringify(lines.filter((l) => l && !l.startsWith('NPGUEST ')).slice(-n));
}

/** The guest's NPRULE lines: what the onlining rule did ("add cpu cpu1 ok"). */
export function ruleLines(name: string): string[] {
  return consoleLines(name).filter((l) => l.startsWith('NPRULE ')).map((l) => l.slice(7));
}

/** Poll `check` every 500 ms until it returns a value (not undefined/false), at most `ms`. */
export async function waitFor<T>(
  what: string, ms: number, check: () => T | undefined | false | Promise<T | undefined | false>, context?: () => string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${context ? `; ${context()}` : ''}`);
    await sleep(500);
  }
}

/**
 * Define and start a guest, then wait until it reports, its agent channel is connected and the
 * balloon driver's statistics are in domstats. Returns the seconds from start to ready.
 */
export async function bootGuest(name: string, image: GuestImage, o: GuestOptions, dir: string): Promise<number> {
  await removeGuest(name);
  mkdirSync(LOG_DIR, { recursive: true });
  const { stdout: xml } = await run('bash', [join(SCRIPTS, 'domain-xml.sh'), name, serialLog(name), image.kernel, image.initrd,
    String(o.vcpuCurrent), String(o.vcpuMax), o.cmdline], { env: { ...process.env, MEM_MIB: String(o.memoryMiB ?? 256), MAXMEM_MIB: String(o.maxMemoryMiB ?? 1024) } });
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  await virsh('define', '--file', file);
  const t0 = Date.now();
  // Guest time runs slow on a busy shared host (TCG): up to 7 minutes to boot. A guest that stopped
  // (a kernel panic at boot: panic=-1 and on_reboot destroy) is started once more, then it fails.
  for (let attempt = 1; ; attempt++) {
    rmSync(serialLog(name), { force: true });
    await virsh('start', '--domain', name);
    let polls = 0;
    const up = await waitFor(`${name} to report on its console`, 420_000, async () => {
      if (lastReport(name)?.agent) return 'up';
      if (++polls % 6 === 0 && !/running/.test(await virsh('domstate', '--domain', name))) return 'stopped';
      return undefined;
    }, () => consoleTail(name));
    if (up === 'up') break;
    if (attempt >= 2) throw new Error(`${name} stopped while booting, twice; ${consoleTail(name)}`);
    console.log(`      ${name} stopped while booting (${consoleTail(name, 3)}); starting it again`);
  }
  await waitFor(`${name}'s guest agent`, 120_000, async () => (await virsh('dumpxml', '--domain', name)).includes("state='connected'"));
  await waitFor(`${name}'s balloon statistics`, 120_000, async () => /balloon\.usable=/.test(await virsh('domstats', '--balloon', name)));
  return (Date.now() - t0) / 1000;
}

/** Busy fraction of each online vCPU over `ms`, from domstats (outside numaplace). */
export async function vcpuLoads(name: string, ms: number): Promise<number[]> {
  const read = async () => {
    const text = await virsh('domstats', '--raw', '--vcpu', name);
    return new Map([...text.matchAll(/vcpu\.(\d+)\.time=(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]));
  };
  const a = await read();
  const t0 = Date.now();
  await sleep(ms);
  const b = await read();
  const wall = (Date.now() - t0) * 1e6;
  const out: number[] = [];
  for (const [id, t] of b) out[id] = (t - (a.get(id) ?? t)) / wall;
  return out;
}

export { threadAffinity } from './daemon-on-real-vms.js';

/**
 * A virsh for the daemon's backend that sees only `name` in the host-wide listings of its sampling
 * batch: the all-domains `domstats` is given the domain's name, and in the `list --uuid --name` and
 * `list --persistent --uuid` sections (found by the batch's own markers) only that domain's line, resp.
 * whole UUID lines, are kept. Other engineers' test VMs on a shared libvirtd (some with deliberately
 * hostile names holding a carriage return or a newline, which make virsh's listings unparseable) then
 * cannot fail this suite's cycles. Returns the wrapper's path (in `dir`).
 */
export function virshSeeingOnly(name: string, dir: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`virshSeeingOnly: a plain name is needed, not ${JSON.stringify(name)}`);
  const all = "'domstats' '--raw' '--state' '--vcpu' '--cpu-total' '--balloon'";
  const file = join(dir, `virsh-only-${name}`);
  writeFileSync(file, `#!/bin/bash
args=() names='' persistent=''
for a in "$@"; do
  args+=("\${a//"${all}"/"${all} '${name}'"}")
  m=$(printf '%s' "$a" | grep -o "@@numaplace-[0-9a-f]*:[0-9]*@@; 'list' '--all' '--uuid' '--name'" | cut -d';' -f1) && names=$m
  m=$(printf '%s' "$a" | grep -o "@@numaplace-[0-9a-f]*:[0-9]*@@; 'list' '--all' '--persistent' '--uuid'" | cut -d';' -f1) && persistent=$m
done
out=$(virsh "\${args[@]}"); rc=$?
printf '%s\\n' "$out" | awk -v names="$names" -v persistent="$persistent" '
  index($0, "@@numaplace-") { mode = (names != "" && index($0, names)) ? "names" : (persistent != "" && index($0, persistent)) ? "uuids" : ""; print; next }
  mode == "names" { if ($0 == "" || $0 ~ /^[0-9a-f-]+ ${name.replace(/\./g, '\\.')}$/) print; next }
  mode == "uuids" { if ($0 == "" || $0 ~ /^[0-9a-f-]+$/) print; next }
  { print }'
exit $rc
`, { mode: 0o755 });
  return file;
}
