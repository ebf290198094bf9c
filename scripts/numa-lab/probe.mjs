// NUMA lab probe: kernel facts about QEMU processes, read inside the lab, not through numaplace or libvirt.
//   node probe.mjs [VM...]        (default: every running domain: /run/libvirt/qemu/NAME.pid and NAME.xml)
// Prints JSON: { nodes: {N: [cpus]}, clkTck, vms: [{ vm, pid, pagesByNode, anonPagesByNode,
//   vmas: [{ start, sizeKiB, anon, pagesByNode }] (VMAs >= 16 MiB: guest RAM blocks),
//   threads: [{ tid, comm, allowed: [cpus], lastCpu, ticks }] }] }
// Pages are 4 KiB units (huge pages are converted). lastCpu = /proc/PID/task/TID/stat field 39;
// ticks = utime + stime (fields 14, 15).
import { readFileSync, readdirSync, existsSync } from 'node:fs';

const nodes = {};
for (const d of readdirSync('/sys/devices/system/node').filter((d) => /^node\d+$/.test(d))) {
  nodes[d.slice(4)] = expand(readFileSync(`/sys/devices/system/node/${d}/cpulist`, 'utf8').trim());
}
function expand(list) {
  const out = [];
  for (const part of list.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}
function add(m, n, v) { m[n] = (m[n] ?? 0) + v; }
function probe(vm) {
  const pidFile = `/run/libvirt/qemu/${vm}.pid`;
  if (!existsSync(pidFile)) return { vm, error: 'no pid file (not running)' };
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const pagesByNode = {}, anonPagesByNode = {}, vmas = [];
  const sizes = new Map();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)/.exec(line);
    if (m) sizes.set(m[1], (parseInt(m[2], 16) - parseInt(m[1], 16)) / 1024);
  }
  for (const line of readFileSync(`/proc/${pid}/numa_maps`, 'utf8').split('\n')) {
    if (!line) continue;
    const start = line.split(' ')[0];
    const kps = Number(/kernelpagesize_kB=(\d+)/.exec(line)?.[1] ?? 4);
    const anon = !/ file=/.test(line);
    const per = {};
    for (const m of line.matchAll(/ N(\d+)=(\d+)/g)) {
      const pages = Number(m[2]) * (kps / 4);
      add(per, m[1], pages); add(pagesByNode, m[1], pages);
      if (anon) add(anonPagesByNode, m[1], pages);
    }
    const sizeKiB = sizes.get(start) ?? 0;
    if (sizeKiB >= 16384) vmas.push({ start, sizeKiB, anon, pagesByNode: per });
  }
  const threads = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const allowed = expand(/Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? '');
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');   // f[0] is field 3
      threads.push({ tid: Number(tid), comm, allowed, lastCpu: Number(f[36]), ticks: Number(f[11]) + Number(f[12]) });
    } catch { /* thread gone */ }
  }
  return { vm, pid, pagesByNode, anonPagesByNode, vmas, threads };
}
let names = process.argv.slice(2);
// A running domain has NAME.pid and its status NAME.xml there (driver.pid is libvirtd's own).
if (names.length === 0) names = existsSync('/run/libvirt/qemu') ? readdirSync('/run/libvirt/qemu').filter((f) => f.endsWith('.pid') && existsSync(`/run/libvirt/qemu/${f.slice(0, -4)}.xml`)).map((f) => f.slice(0, -4)) : [];
const out = { at: Date.now(), uptime: Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]), nodes, clkTck: 100, vms: [] };
for (const vm of names) { try { out.vms.push(probe(vm)); } catch (e) { out.vms.push({ vm, error: String(e) }); } }
process.stdout.write(JSON.stringify(out) + '\n');
