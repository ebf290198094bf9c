/**
 * A sysfs tree -> HostTopology. Pure: it takes the contents of the files that matter, keyed by
 * their path under the sysfs root, so tests feed captured trees and src/host reads the real one.
 *
 *   devices/system/node/nodeN/{cpulist,distance,meminfo}   node CPUs (online ones), SLIT row, memory
 *   devices/system/node/nodeN/cpuM                          a symlink: CPU M belongs to node N (kept
 *                                                           for offline CPUs; its value is the target)
 *   devices/system/cpu/online                               online CPUs
 *   devices/system/cpu/cpuM/online                          "0"/"1" (absent for CPU 0 on x86)
 *   devices/system/cpu/cpuM/topology/{physical_package_id,die_id,core_id,thread_siblings_list}
 *                                                           absent while CPU M is offline
 */
import { byId, DEFAULT_DISTANCE_WARNING, defaultDistances, distanceRow, parseCpuList, parseDistances, parseId, parseTopologyId, resolveMemory } from './parse-util.js';
import { type CpuInfo, type HostTopology, type NumaNode, TopologyError } from '../core/topology.js';
import { validateTopology } from '../core/topology-validate.js';

/** File contents keyed by path relative to the sysfs root, e.g. "devices/system/node/node0/cpulist". */
export type SysfsFiles = Record<string, string>;

export const NODE_DIR = 'devices/system/node';
export const CPU_DIR = 'devices/system/cpu';
export const NODE_FILES = ['cpulist', 'distance', 'meminfo'] as const;
export const CPU_TOPOLOGY_FILES = ['physical_package_id', 'die_id', 'core_id', 'thread_siblings_list'] as const;

const NODE_ENTRY = /^devices\/system\/node\/node(\d+)\/(.+)$/;
const CPU_ENTRY = /^devices\/system\/cpu\/cpu(\d+)\/(.+)$/;
const NODE_CPU_LINK = /^cpu(\d+)$/;

function parseMeminfo(text: string, nodeId: number, path: string): { totalKiB?: number; freeKiB?: number } {
  const out: { totalKiB?: number; freeKiB?: number } = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^Node\s+(\S+)\s+([^:\s]+):\s+(\S+)(?:\s+kB)?\s*$/.exec(line);
    if (!m) throw new TopologyError(`${path}: line ${JSON.stringify(line)} is not "Node N Key: value kB"`);
    const n = parseId(m[1], `${path}: node number`);
    if (n !== nodeId) throw new TopologyError(`${path} describes node ${n}, not node ${nodeId}`);
    if (m[2] === 'MemTotal') out.totalKiB = parseId(m[3], `${path}: MemTotal`);
    if (m[2] === 'MemFree') out.freeKiB = parseId(m[3], `${path}: MemFree`);
  }
  return out;
}

export function parseSysfs(files: SysfsFiles): HostTopology {
  const warnings: string[] = [];
  const nodeEntries = new Map<number, Map<string, string>>();
  const cpuEntries = new Map<number, Map<string, string>>();
  for (const [path, content] of Object.entries(files)) {
    let m = NODE_ENTRY.exec(path);
    if (m) {
      const id = parseId(m[1], 'node directory number');
      if (!nodeEntries.has(id)) nodeEntries.set(id, new Map());
      nodeEntries.get(id)!.set(m[2], content);
      continue;
    }
    m = CPU_ENTRY.exec(path);
    if (m) {
      const id = parseId(m[1], 'cpu directory number');
      if (!cpuEntries.has(id)) cpuEntries.set(id, new Map());
      cpuEntries.get(id)!.set(m[2], content);
    }
  }
  if (nodeEntries.size === 0) {
    throw new TopologyError(`no ${NODE_DIR}/node* entries: not a sysfs tree (give the directory holding devices/, e.g. /sys), or a kernel without NUMA`);
  }
  const nodeIds = [...nodeEntries.keys()].sort((a, b) => a - b);

  // Node CPU lists; a CPU in two of them is an inconsistent tree.
  const cpulists = new Map<number, number[]>();
  const nodeOf = new Map<number, number>();
  const linkedNode = new Map<number, number>();
  for (const id of nodeIds) {
    const entries = nodeEntries.get(id)!;
    const path = `${NODE_DIR}/node${id}/cpulist`;
    const text = entries.get('cpulist');
    if (text === undefined) throw new TopologyError(`${path} is missing`);
    const list = parseCpuList(text, path);
    for (const c of list) {
      const prev = nodeOf.get(c);
      if (prev !== undefined) throw new TopologyError(`CPU ${c} is in node ${prev} and node ${id} (${path})`);
      nodeOf.set(c, id);
    }
    cpulists.set(id, list);
    for (const name of entries.keys()) {
      const link = NODE_CPU_LINK.exec(name);
      if (link) linkedNode.set(Number(link[1]), id);
    }
  }

  // Which CPUs are online: the host-wide list when present, else each CPU's own flag.
  const onlineText = files[`${CPU_DIR}/online`];
  const onlineSet = onlineText === undefined ? undefined : new Set(parseCpuList(onlineText, `${CPU_DIR}/online`));
  const isOnline = (id: number): boolean => {
    if (onlineSet) return onlineSet.has(id);
    const flag = cpuEntries.get(id)?.get('online')?.trim();
    if (flag === undefined) return true; // CPU 0 on x86 cannot be offlined and has no online file
    if (flag !== '0' && flag !== '1') throw new TopologyError(`${CPU_DIR}/cpu${id}/online is ${JSON.stringify(flag)}, expected 0 or 1`);
    return flag === '1';
  };

  const cpuIds = [...new Set([...cpuEntries.keys(), ...nodeOf.keys()])].sort((a, b) => a - b);
  const cpus: CpuInfo[] = [];
  let noDie = false;
  for (const id of cpuIds) {
    const entries = cpuEntries.get(id) ?? new Map<string, string>();
    const online = isOnline(id);
    const node = nodeOf.get(id) ?? linkedNode.get(id) ?? -1;
    if (online && !nodeOf.has(id)) throw new TopologyError(`CPU ${id} is online but no ${NODE_DIR}/node*/cpulist lists it`);
    const topo = (name: string) => entries.get(`topology/${name}`);
    if (!online || topo('core_id') === undefined) {
      if (online) warnings.push(`CPU ${id} is online but ${CPU_DIR}/cpu${id}/topology is missing: its socket and core are unknown`);
      cpus.push({ id, node, socket: -1, die: -1, core: -1, siblings: [id], online });
      continue;
    }
    const where = `${CPU_DIR}/cpu${id}/topology`;
    const siblingsText = topo('thread_siblings_list');
    if (siblingsText === undefined) throw new TopologyError(`${where}/thread_siblings_list is missing`);
    const siblings = parseCpuList(siblingsText, `${where}/thread_siblings_list`);
    if (!siblings.includes(id)) throw new TopologyError(`${where}/thread_siblings_list is "${siblingsText.trim()}", which does not include CPU ${id}`);
    const dieText = topo('die_id');
    if (dieText === undefined) noDie = true;
    cpus.push({
      id,
      node,
      socket: parseTopologyId(topo('physical_package_id'), `${where}/physical_package_id`),
      die: dieText === undefined ? 0 : parseTopologyId(dieText, `${where}/die_id`),
      core: parseId(topo('core_id'), `${where}/core_id`),
      siblings,
      online: true,
    });
  }
  if (noDie) warnings.push('no topology/die_id (kernel older than 5.2): one die per package assumed');

  // Distances: every node has a row or none has.
  const withDistance = nodeIds.filter((id) => nodeEntries.get(id)!.has('distance'));
  let defaultRows: Map<number, Record<string, number>> | undefined;
  if (withDistance.length === 0) {
    defaultRows = defaultDistances(nodeIds);
    warnings.push(DEFAULT_DISTANCE_WARNING('sysfs'));
  } else if (withDistance.length !== nodeIds.length) {
    const missing = nodeIds.filter((id) => !withDistance.includes(id));
    throw new TopologyError(`${missing.map((id) => `${NODE_DIR}/node${id}/distance`).join(', ')} missing while other nodes have one: the distance matrix is incomplete`);
  }

  const onlineIds = new Set(cpus.filter((c) => c.online).map((c) => c.id));
  const nodes: NumaNode[] = nodeIds.map((id) => {
    const entries = nodeEntries.get(id)!;
    const distancePath = `${NODE_DIR}/node${id}/distance`;
    const distances = defaultRows
      ? defaultRows.get(id)!
      : distanceRow(id, parseDistances(entries.get('distance')!, distancePath), nodeIds, distancePath);
    const meminfoPath = `${NODE_DIR}/node${id}/meminfo`;
    const meminfo = entries.has('meminfo') ? parseMeminfo(entries.get('meminfo')!, id, meminfoPath) : {};
    const memory = resolveMemory(id, meminfo.totalKiB, meminfo.freeKiB, warnings, {
      total: `no MemTotal in ${meminfoPath}`,
      free: `no MemFree in ${meminfoPath}`,
    });
    return { id, cpus: cpulists.get(id)!.filter((c) => onlineIds.has(c)), ...memory, distances };
  });
  nodes.sort(byId);
  return validateTopology({ nodes, cpus, warnings, source: 'sysfs' });
}
