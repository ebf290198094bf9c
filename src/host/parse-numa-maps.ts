/**
 * /proc/PID/numa_maps of a QEMU process -> MiB resident on each host NUMA node. Each line is
 * "ADDRESS POLICY [key=value ...]" with Nn=PAGES per node and kernelpagesize_kB=SIZE
 * (real capture: test/fixtures/virsh/*numa_maps*). All mappings count (guest RAM dominates; QEMU's
 * own few MiB are the VM's host memory too). Pages not yet touched are on no node and not counted.
 */
import { VirshOutputError } from './virsh-errors.js';

export function parseNumaMaps(text: string): Record<string, number> {
  const kib = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    if (!/^[0-9a-f]+$/.test(fields[0]) || fields.length < 2) {
      throw new VirshOutputError('numa_maps', 'a line that does not start with a hex address and a policy', line);
    }
    let pageKiB = 4;
    const perNode: [number, number][] = [];
    for (const f of fields.slice(2)) {
      const eq = f.indexOf('=');
      if (eq < 0) continue; // flags such as "huge", "heap", "stack"
      const key = f.slice(0, eq);
      const val = f.slice(eq + 1);
      if (key === 'kernelpagesize_kB') {
        if (!/^\d+$/.test(val)) throw new VirshOutputError('numa_maps', `kernelpagesize_kB=${val} is not a number`, line);
        pageKiB = Number(val);
      } else if (/^N\d+$/.test(key)) {
        if (!/^\d+$/.test(val)) throw new VirshOutputError('numa_maps', `${key}=${val} is not a page count`, line);
        perNode.push([Number(key.slice(1)), Number(val)]);
      }
    }
    for (const [node, pages] of perNode) kib.set(node, (kib.get(node) ?? 0) + pages * pageKiB);
  }
  const out: Record<string, number> = {};
  for (const [node, k] of [...kib].sort((a, b) => a[0] - b[0])) out[String(node)] = Math.round((k / 1024) * 100) / 100;
  return out;
}
