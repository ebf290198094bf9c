/**
 * scripts/numa-lab.sh's engine: boot a lab topology, run one command inside, print its output, power off.
 *   node dist/test/lab/cli.js TOPOLOGY [--numa-balancing] [--keep] -- CMD [ARG...]
 *   node dist/test/lab/cli.js --list
 */
import { NumaLab, LabError, loadTopologies, REPO_ROOT } from './numa-lab.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--list' || argv.length === 0) {
    for (const [k, t] of Object.entries(loadTopologies())) console.log(`${k}\t${t.description ?? ''}`);
    return argv.length === 0 ? 2 : 0;
  }
  const sep = argv.indexOf('--');
  const opts = sep < 0 ? argv : argv.slice(0, sep);
  const cmd = sep < 0 ? ['sh', '-c', 'numactl -H; virsh -c qemu:///system capabilities | grep -A30 "<cells"'] : argv.slice(sep + 1);
  const lab = await NumaLab.start(opts[0], { numaBalancing: opts.includes('--numa-balancing'), verbose: true });
  process.stderr.write(`numa-lab: ready in ${lab.timings.readyS.toFixed(1)} s (guest uptime: root ${lab.timings.rootAtUptimeS} s, libvirtd ${lab.timings.libvirtdAtUptimeS} s)\n`);
  try {
    const r = await lab.exec(cmd, { timeoutMs: 30 * 60_000, cwd: REPO_ROOT });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.stderr.write(`numa-lab: exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''} in ${(r.ms / 1000).toFixed(1)} s\n`);
    return r.code ?? 1;
  } finally {
    const t = Date.now();
    await lab.stop({ keep: opts.includes('--keep') });
    process.stderr.write(`numa-lab: powered off in ${((Date.now() - t) / 1000).toFixed(1)} s${opts.includes('--keep') ? ` (kept ${lab.workDir})` : ''}\n`);
  }
}

main().then((c) => process.exit(c), (e: unknown) => {
  process.stderr.write(`${e instanceof LabError ? e.message : (e as Error).stack}\n`);
  process.exit(1);
});
