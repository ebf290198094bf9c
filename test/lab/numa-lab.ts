/**
 * The NUMA lab: a real multi-node Linux kernel (Debian's, in QEMU TCG with emulated NUMA nodes) that
 * runs the machine's own root read-only over 9p (tmpfs overlay), starts libvirtd inside, and executes
 * commands for the host through an agent (scripts/numa-lab/agent.mjs) that watches a writable 9p
 * export. Boot once per topology, run many commands:
 *
 *   const lab = await NumaLab.start('four-node');
 *   const r = await lab.exec(['numactl', '-H'], { timeoutMs: 30_000 });
 *   await lab.stop();
 *
 * QEMU runs in its own process group; it is killed (SIGKILL) on any failure, on stop() after a grace
 * period, and when this process exits. Failures are LabErrors naming the stage (kernel, modules,
 * 9p-root, io-export, cgroups, libvirtd, agent, exec...) and the console log (kept on failure).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, renameSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

/** The repository root (this file runs from dist/test/lab/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAB_DIR = join(REPO_ROOT, 'scripts', 'numa-lab');

export interface LabNode { cpus: number; memMiB: number }
export interface LabTopology { name?: string; description?: string; nodes: LabNode[]; distances: number[][] }

export class LabError extends Error {
  constructor(readonly stage: string, message: string, readonly consoleLog?: string) {
    super(`numa lab failed at stage '${stage}': ${message}${consoleLog ? ` (console log: ${consoleLog})` : ''}`);
  }
}

export function loadTopologies(): Record<string, LabTopology> {
  const raw = JSON.parse(readFileSync(join(LAB_DIR, 'topologies.json'), 'utf8')) as Record<string, unknown>;
  const out: Record<string, LabTopology> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('_')) out[k] = { name: k, ...(v as LabTopology) };
  return out;
}

/** CPU ids of each node: given in node order (node 0 gets 0..cpus-1, ...); [] for a memory-only node. */
export function nodeCpus(t: LabTopology): number[][] {
  let next = 0;
  return t.nodes.map((n) => Array.from({ length: n.cpus }, () => next++));
}

export function validateTopology(t: LabTopology): void {
  const n = t.nodes.length;
  if (n < 1) throw new Error('topology: no nodes');
  if (!t.nodes.some((x) => x.cpus > 0)) throw new Error('topology: no node has CPUs');
  for (const [i, x] of t.nodes.entries()) {
    if (!Number.isInteger(x.cpus) || x.cpus < 0) throw new Error(`topology: nodes[${i}].cpus must be an integer >= 0`);
    if (!Number.isInteger(x.memMiB) || x.memMiB < 128) throw new Error(`topology: nodes[${i}].memMiB must be an integer >= 128`);
  }
  if (t.distances.length !== n || t.distances.some((r) => r.length !== n)) throw new Error(`topology: distances must be ${n}x${n}`);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const d = t.distances[i][j];
    if (i === j ? d !== 10 : !(Number.isInteger(d) && d > 10 && d <= 255)) throw new Error(`topology: distances[${i}][${j}]=${d} (10 on the diagonal, 11..255 elsewhere)`);
  }
}

/** QEMU arguments (an argument array, never a shell string) for a topology's machine and NUMA nodes. */
export function qemuTopologyArgs(t: LabTopology): string[] {
  validateTopology(t);
  const cpus = nodeCpus(t);
  const total = cpus.flat().length;
  const mem = t.nodes.reduce((s, x) => s + x.memMiB, 0);
  const args = ['-machine', 'q35', '-accel', 'tcg,thread=multi', '-cpu', 'qemu64', '-m', `${mem}M`,
    '-smp', `${total},sockets=${total},cores=1,threads=1`];
  t.nodes.forEach((x, i) => {
    args.push('-object', `memory-backend-ram,id=m${i},size=${x.memMiB}M`);
    const c = cpus[i];
    args.push('-numa', `node,nodeid=${i}${c.length ? `,cpus=${c[0]}-${c[c.length - 1]}` : ''},memdev=m${i}`);
  });
  for (let i = 0; i < t.nodes.length; i++) for (let j = 0; j < t.nodes.length; j++) {
    if (i !== j) args.push('-numa', `dist,src=${i},dst=${j},val=${t.distances[i][j]}`);
  }
  return args;
}

export interface ExecResult { code: number | null; signal: string | null; timedOut: boolean; ms: number; stdout: string; stderr: string }
export interface StartOptions {
  /** kernel.numa_balancing at boot (default 0: off; Debian's kernel enables it on multi-node hosts). */
  numaBalancing?: boolean;
  bootTimeoutMs?: number;
  /** Log stage lines to stderr as they come. */
  verbose?: boolean;
}

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) killGroup(c); });

function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try { process.kill(-c.pid, 'SIGKILL'); } catch { try { c.kill('SIGKILL'); } catch { /* gone */ } }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class NumaLab {
  /** Seconds from QEMU start to: the agent ready; and guest uptime when root was mounted / libvirtd answered. */
  readonly timings: Record<string, number> = {};
  private seq = 0;
  private exited = false;
  private constructor(
    readonly topology: LabTopology,
    readonly workDir: string,
    readonly ioDir: string,
    readonly consoleLog: string,
    private readonly qemu: ChildProcess,
  ) {
    qemu.on('exit', () => { this.exited = true; live.delete(qemu); });
  }

  static async start(topology: string | LabTopology, opts: StartOptions = {}): Promise<NumaLab> {
    const t = typeof topology === 'string' ? loadTopologies()[topology] : topology;
    if (!t) throw new LabError('setup', `no topology named ${String(topology)} in scripts/numa-lab/topologies.json`);
    const t0 = Date.now();
    // The lab mounts its own tmpfs on /run: a tree there is invisible inside (/tmp is the machine's).
    if (/^\/run(\/|$)/.test(REPO_ROOT)) throw new LabError('setup', `the repository (${REPO_ROOT}) must not be under /run: the lab sees the machine's root with its own tmpfs there`);
    let cache: string;
    try {
      cache = execFileSync('bash', [join(REPO_ROOT, 'scripts/guest-kernel/fetch.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      throw new LabError('fetch-kernel', `scripts/guest-kernel/fetch.sh failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
    }
    const workDir = mkdtempSync(join(tmpdir(), `numa-lab-${t.name ?? 'custom'}-`));
    const ioDir = join(workDir, 'io');
    for (const d of ['req', 'res', 'kill']) mkdirSync(join(ioDir, d), { recursive: true });
    const initrd = join(workDir, 'initrd.gz');
    try {
      execFileSync('bash', [join(REPO_ROOT, 'scripts/guest-kernel/build-initramfs.sh'), initrd, join(LAB_DIR, 'initramfs-init.sh'),
        '--module', '9p', '--module', '9pnet_virtio', '--module', 'virtio_pci', '--module', 'overlay'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new LabError('initramfs', `build-initramfs.sh failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
    }
    const consoleLog = join(workDir, 'console.log');
    const append = ['console=ttyS0', 'quiet', 'panic=-1', `lab_stage2=${join(LAB_DIR, 'guest-stage2.sh')}`,
      `lab_numa_balancing=${opts.numaBalancing ? 1 : 0}`, 'lab_9p_cache=loose'].join(' ');
    const args = [...qemuTopologyArgs(t), '-kernel', join(cache, 'vmlinuz'), '-initrd', initrd, '-append', append,
      '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap',
      '-virtfs', `local,path=${ioDir},mount_tag=labio,security_model=none`,
      '-display', 'none', '-monitor', 'none', '-serial', `file:${consoleLog}`, '-no-reboot'];
    writeFileSync(join(workDir, 'qemu-args.json'), JSON.stringify(args, null, 1));
    const qemu = spawn('qemu-system-x86_64', args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(qemu);
    let qemuErr = '';
    qemu.stderr!.on('data', (b: Buffer) => { qemuErr += b.toString(); });
    qemu.on('error', (e) => { qemuErr += String(e); });
    const lab = new NumaLab(t, workDir, ioDir, consoleLog, qemu);
    const deadline = Date.now() + (opts.bootTimeoutMs ?? 600_000);
    let lastStage = '';
    for (;;) {
      const stage = lab.stage();
      if (opts.verbose && stage !== lastStage) process.stderr.write(`numa-lab: ${t.name}: stage ${stage} after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      lastStage = stage;
      if (existsSync(join(ioDir, 'ready'))) break;
      const failed = existsSync(join(ioDir, 'failed')) ? readFileSync(join(ioDir, 'failed'), 'utf8').trim() : null;
      if (failed || lab.exited || Date.now() > deadline) {
        const why = failed ?? (lab.exited ? `QEMU exited (${qemu.exitCode ?? qemu.signalCode}) ${qemuErr.trim().split('\n').filter((l) => !/warning/i.test(l)).slice(-3).join(' | ')}` : `not ready within ${opts.bootTimeoutMs ?? 600_000} ms`);
        killGroup(qemu);
        throw new LabError(failed ? failed.split(':')[0] : stage, `${why}; last console lines: ${lab.consoleTail(5)}`, consoleLog);
      }
      await sleep(250);
    }
    lab.timings.readyS = (Date.now() - t0) / 1000;
    try {
      const bt = JSON.parse(readFileSync(join(ioDir, 'boot-times.json'), 'utf8')) as { rootAtUptime: number; libvirtdAtUptime: number };
      lab.timings.rootAtUptimeS = bt.rootAtUptime;
      lab.timings.libvirtdAtUptimeS = bt.libvirtdAtUptime;
    } catch { /* optional */ }
    return lab;
  }

  /** The last stage the guest announced on its console ("kernel" before the first). */
  stage(): string {
    let s = 'kernel';
    try {
      for (const m of readFileSync(this.consoleLog, 'utf8').matchAll(/numa-lab: (?:stage (\S+)|FAILED (\S+):)/g)) s = m[1] ?? m[2];
    } catch { /* no log yet */ }
    return s;
  }

  consoleTail(n: number): string {
    try {
      return readFileSync(this.consoleLog, 'utf8').split('\n').filter((l) => l.trim()).slice(-n).join(' | ');
    } catch { return '(no console output)'; }
  }

  get running(): boolean { return !this.exited; }

  /** Run argv inside the lab (no shell unless argv names one). Throws LabError if the lab dies or the host-side wait runs out; a non-zero exit is returned, not thrown. */
  async exec(argv: string[], opts: { timeoutMs?: number; env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Promise<ExecResult> {
    if (this.exited) throw new LabError('exec', `lab is not running; cannot run ${JSON.stringify(argv)}`, this.consoleLog);
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const id = `${++this.seq}-${randomBytes(4).toString('hex')}`;
    const tmp = join(this.ioDir, 'req', `.${id}.tmp`);
    writeFileSync(tmp, JSON.stringify({ argv, timeoutMs, env: opts.env, stdin: opts.stdin, cwd: opts.cwd }));
    renameSync(tmp, join(this.ioDir, 'req', `${id}.json`));
    const res = join(this.ioDir, 'res', `${id}.json`);
    const hostDeadline = Date.now() + timeoutMs + 60_000;   // the agent kills at timeoutMs; this covers a dead agent
    for (;;) {
      if (existsSync(res)) {
        const r = JSON.parse(readFileSync(res, 'utf8')) as ExecResult;
        rmSync(res, { force: true });
        return r;
      }
      if (this.exited) throw new LabError('exec', `the lab exited while running ${JSON.stringify(argv)}; last console lines: ${this.consoleTail(5)}`, this.consoleLog);
      if (Date.now() > hostDeadline) {
        writeFileSync(join(this.ioDir, 'kill', id), '');
        throw new LabError('exec', `no answer for ${JSON.stringify(argv)} within ${timeoutMs + 60_000} ms (agent hung?)`, this.consoleLog);
      }
      await sleep(100);
    }
  }

  /** exec that throws unless the command exits 0. */
  async run(argv: string[], opts: { timeoutMs?: number; env?: Record<string, string>; stdin?: string } = {}): Promise<string> {
    const r = await this.exec(argv, opts);
    if (r.code !== 0) {
      throw new LabError('exec', `${JSON.stringify(argv)} exited ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
    }
    return r.stdout;
  }

  /** Power the lab off (agent -> sysrq), then SIGKILL QEMU's process group if it is still there after graceMs. Removes the work dir unless keep. */
  async stop(opts: { graceMs?: number; keep?: boolean } = {}): Promise<void> {
    if (!this.exited) {
      try {
        const id = `poweroff-${randomBytes(4).toString('hex')}`;
        writeFileSync(join(this.ioDir, 'req', `${id}.json`), JSON.stringify({ argv: ['@poweroff'] }));
      } catch { /* io dir gone */ }
      const deadline = Date.now() + (opts.graceMs ?? 60_000);
      while (!this.exited && Date.now() < deadline) await sleep(200);
      if (!this.exited) killGroup(this.qemu);
      while (!this.exited) await sleep(50);
    }
    if (!opts.keep) rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Kill QEMU now (no power-off); keeps the work dir (console log) for a post-mortem. */
  kill(): void { killGroup(this.qemu); }

  /** Write a file into the I/O export; returns the path the lab sees it at. */
  putFile(name: string, content: string): string {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`putFile: bad name ${name}`);
    writeFileSync(join(this.ioDir, name), content);
    return `/lab/io/${name}`;
  }
}

/** Why the lab cannot run here (null when it can): QEMU, apt (to fetch the kernel), root. */
export function labUnavailableReason(): string | null {
  try { execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }); } catch { return 'qemu-system-x86_64 not installed (scripts/hypervisor-up.sh installs it)'; }
  if (process.getuid?.() !== 0) return 'not root (the lab exports / over 9p with passthrough and runs libvirtd inside)';
  const cache = process.env.NUMAPLACE_GUEST_CACHE ?? '/var/cache/numaplace/guest-kernel';
  if (!existsSync(join(cache, 'vmlinuz'))) {
    try { execFileSync('apt-get', ['--version'], { stdio: 'ignore' }); } catch { return 'no cached guest kernel and no apt-get to fetch one'; }
  }
  return null;
}

export function listLabWorkDirs(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('numa-lab-')).map((f) => join(tmpdir(), f));
}
