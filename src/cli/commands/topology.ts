/** `numaplace topology`: show the host NUMA topology from one source. Host readers load lazily (execa is not needed to parse a file). */
import { BoundedReadError, readBoundedText, READ_LIMITS } from '../../host/read-bounded.js';
import { parseCapabilities } from '../../topology/capabilities.js';
import { formatTopologyText, stringifyCompact, topologyJson } from '../../topology/format.js';
import { type FreeMemory, parseFreecell } from '../../topology/freecell.js';
import { parseNumactl } from '../../topology/numactl.js';
import { SYNTHETIC_TOPOLOGY_NAMES } from '../../topology/synthetic.js';
import { type HostTopology, TopologyError } from '../../core/topology.js';
import { EXIT_OK, parseCommandArgs, UsageError } from '../args.js';
import type { Command } from '../args.js';

const OPTIONS = {
  connect: { type: 'string' },
  capabilities: { type: 'string' },
  freecell: { type: 'string' },
  sysfs: { type: 'string' },
  numactl: { type: 'string' },
  simulate: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const SOURCES = ['connect', 'capabilities', 'sysfs', 'numactl', 'simulate'] as const;

const HELP = `usage: numaplace topology [--connect URI | --capabilities FILE [--freecell FILE] | --sysfs DIR
                          | --numactl FILE | --simulate SCENARIO] [--json]

Show the host's NUMA nodes (CPUs, memory total/free), the distance matrix and what the source
left out. With no source it reads this host: virsh (capabilities + freecell --all) when libvirtd
answers, otherwise sysfs at /sys.

  --connect URI         ask libvirt at URI (virsh -c URI capabilities; virsh freecell --all)
  --capabilities FILE   a saved "virsh capabilities" output
  --freecell FILE       with --capabilities: a saved "virsh freecell --all" output (free memory)
  --sysfs DIR           a sysfs tree: DIR/devices/system/{node,cpu} (DIR=/sys for this host)
  --numactl FILE        a saved "numactl -H" output
  --simulate SCENARIO   a simulated host: a built-in scenario (steady-4x16, ...), a bare synthetic
                        topology (${SYNTHETIC_TOPOLOGY_NAMES.join(', ')}) or a scenario JSON file
  --json                print the topology JSON ({nodes:[{id,cpus,memoryMiB,freeMemoryMiB,distances}],
                        cpus, warnings, source})
`;

/**
 * The topology of a simulated host: a built-in scenario (e.g. steady-4x16, its VMs' memory taken
 * out of the free memory), gen-TOPOLOGY-N, a bare synthetic topology (2x8, 4x16, ...) or a scenario
 * file. The one place --simulate is resolved for this command.
 */
export async function simulatedTopology(name: string): Promise<HostTopology> {
  const { createSimulatedBackend, ScenarioError } = await import('../../sim/index.js');
  let backend;
  try {
    backend = createSimulatedBackend(name);
  } catch (e) {
    if (e instanceof ScenarioError) throw new UsageError(`--simulate ${JSON.stringify(name)}: ${e.message}`);
    throw e;
  }
  try {
    return await backend.topology();
  } finally {
    await backend.close();
  }
}

async function readInput(option: string, file: string): Promise<string> {
  try {
    return readBoundedText(file, READ_LIMITS.capabilities, option === 'capabilities' ? 'capabilities XML' : `${option} output`);
  } catch (e) {
    if (e instanceof BoundedReadError) throw new UsageError(`--${option} ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new UsageError(`--${option} ${file}: ${why}`);
  }
}

/** Parse a user-given file; its inconsistencies are bad input (exit 2), named with the option. */
function parseInput<T>(option: string, file: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof TopologyError) throw new UsageError(`--${option} ${file}: ${e.message}`);
    throw e;
  }
}

async function load(values: Record<string, string | boolean | undefined>): Promise<HostTopology> {
  const given = SOURCES.filter((s) => values[s] !== undefined);
  if (given.length > 1) throw new UsageError(`give one source, not ${given.map((s) => `--${s}`).join(' and ')}`);
  if (values.freecell !== undefined && values.capabilities === undefined) {
    throw new UsageError('--freecell goes with --capabilities FILE (virsh reads free memory itself)');
  }
  const str = (k: string) => values[k] as string;
  switch (given[0]) {
    case 'simulate':
      return simulatedTopology(str('simulate'));
    case 'connect':
      return (await import('../../host/read-topology.js')).readTopologyFromVirsh({ uri: str('connect') });
    case 'capabilities': {
      const xml = await readInput('capabilities', str('capabilities'));
      let free: FreeMemory | undefined;
      if (values.freecell !== undefined) {
        const text = await readInput('freecell', str('freecell'));
        free = parseInput('freecell', str('freecell'), () => parseFreecell(text));
      }
      return parseInput('capabilities', str('capabilities'), () => parseCapabilities(xml, { free }));
    }
    case 'numactl': {
      const text = await readInput('numactl', str('numactl'));
      return parseInput('numactl', str('numactl'), () => parseNumactl(text));
    }
    case 'sysfs': {
      const dir = str('sysfs');
      try {
        return await (await import('../../host/read-sysfs.js')).readTopologyFromSysfs(dir);
      } catch (e) {
        throw new UsageError(`--sysfs ${dir}: ${(e as Error).message}`);
      }
    }
    default:
      return (await import('../../host/read-topology.js')).readHostTopology();
  }
}

export const command: Command = {
  async run(argv) {
    const { values } = parseCommandArgs(argv, OPTIONS);
    if (values.help) {
      process.stdout.write(HELP);
      return EXIT_OK;
    }
    const topo = await load(values);
    process.stdout.write(values.json ? `${stringifyCompact(topologyJson(topo))}\n` : formatTopologyText(topo));
    return EXIT_OK;
  },
};
