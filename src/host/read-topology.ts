/**
 * Reading a real host's topology: through virsh (capabilities + freecell --all), or from a sysfs
 * tree. The parsing is in src/topology (pure); this is the I/O around it.
 */
import { parseCapabilities } from '../topology/capabilities.js';
import { parseFreecell } from '../topology/freecell.js';
import type { HostTopology } from '../core/topology.js';
import { readTopologyFromSysfs } from './read-sysfs.js';
import { runVirsh, type VirshCounters, type VirshOptions } from './virsh-exec.js';

export { readSysfsFiles, readTopologyFromSysfs } from './read-sysfs.js';

export const CAPABILITIES_TIMEOUT_MS = 120_000;

/**
 * `virsh capabilities`, then `virsh freecell --cellno N` for every cell (in parallel), merged into one
 * topology. Not `freecell --all`: on libvirt 9.0 it makes libvirtd rebuild its capabilities, which
 * costs as much as `capabilities` itself (about 9 s measured here), while `--cellno N` takes ~60 ms.
 */
export async function readTopologyFromVirsh(opts: VirshOptions = {}, counters?: VirshCounters): Promise<HostTopology> {
  const source = opts.uri ? `virsh:${opts.uri}` : 'virsh';
  // libvirtd rebuilds capabilities on every call: 9-30 s measured here under load, so more time than
  // runVirsh's 30 s default unless the caller set a timeout.
  const caps = await runVirsh(['capabilities'], { timeoutMs: CAPABILITIES_TIMEOUT_MS, ...opts }, counters);
  const cells = parseCapabilities(caps, { source });
  const free = await Promise.all(cells.nodes.map((n) => runVirsh(['freecell', '--cellno', String(n.id)], opts, counters)));
  return parseCapabilities(caps, { free: parseFreecell(free.join('\n')), source });
}

export interface HostTopologyOptions {
  virsh?: VirshOptions;
  /** sysfs root to fall back on; default /sys. */
  sysfsRoot?: string;
}

/**
 * This host's topology: virsh when libvirtd answers (it is what the daemon manages), otherwise
 * sysfs, with a warning saying why virsh was not used.
 */
export async function readHostTopology(opts: HostTopologyOptions = {}, counters?: VirshCounters): Promise<HostTopology> {
  try {
    return await readTopologyFromVirsh(opts.virsh, counters);
  } catch (e) {
    const t = await readTopologyFromSysfs(opts.sysfsRoot);
    const why = (e as Error).message.split('\n')[0];
    return { ...t, warnings: [`could not use virsh (${why}): read sysfs instead`, ...t.warnings] };
  }
}
