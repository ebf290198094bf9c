/** `numaplace solve --input FILE|- [--json]`: problem JSON in, placement JSON (or a table) out. Pure: reads no host. */
import { BoundedReadError, jsonDepthProblem, readBoundedText, READ_LIMITS } from '../../host/read-bounded.js';
import { problemSizeProblem } from '../problem-limits.js';
import type { Command } from '../args.js';
import { EXIT_BAD_INPUT, EXIT_OK, parseCommandArgs, UsageError } from '../args.js';
import { ProblemError, validateProblem } from '../../../solver/index.js';
import { solve } from '../../../solver/index.js';
import { allLocalCost } from '../../core/quality.js';
import type { Placement, Problem } from '../../../solver/index.js';

const HELP = `usage: numaplace solve --input FILE|- [--json]

Place every VM's vCPUs, emulator threads and memory on NUMA nodes (problem JSON in,
placement JSON out; see README "problem JSON"). Reads no host and changes nothing.

options:
  --input FILE|-   the problem JSON (- reads standard input)
  --json           print the placement JSON instead of a table
  -h, --help       this help

An impossible problem (e.g. memory that fits nowhere) prints status "infeasible"
with the reason and exits 0; malformed input exits 2 naming the bad field.
`;

async function readInput(path: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of process.stdin) {
      size += (c as Buffer).length;
      if (size > READ_LIMITS.problem) throw new UsageError(`--input -: more than a problem may be (${READ_LIMITS.problem} bytes)`);
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return readBoundedText(path, READ_LIMITS.problem, 'problem JSON');
  } catch (e) {
    if (e instanceof BoundedReadError) throw new UsageError(`--input ${e.message}`);
    throw new UsageError(`cannot read --input ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function formatPlacement(problem: Problem, p: Placement): string {
  const lines: string[] = [];
  const fmt = (x: number | undefined, d = 2) => (x === undefined ? '-' : x.toFixed(d));
  lines.push(`status: ${p.status}${p.method ? `   method: ${p.method}` : ''}${p.solveMs !== undefined ? `   time: ${Math.round(p.solveMs)} ms` : ''}`);
  if (p.reason) lines.push(`reason: ${p.reason}`);
  if (p.status === 'infeasible') return lines.join('\n') + '\n';
  lines.push(`quality: ${fmt(p.cost)} (all-local ${fmt(allLocalCost(problem.vms))})   objective: ${fmt(p.objective)}   bound: ${fmt(p.bound)}   gap: ${p.gap === undefined ? '-' : (p.gap * 100).toFixed(2) + '%'}`);
  if (p.moves) lines.push(`moves: ${p.moves.vcpus} vCPUs, ${p.moves.memoryMiB} MiB of memory`);
  const rows = [['VM', 'vCPU nodes', 'cpusets', 'emulator', 'memory MiB by node']];
  for (const vm of p.vms) {
    const nodes = new Map<number, number>();
    for (const v of vm.vcpus) nodes.set(v.node, (nodes.get(v.node) ?? 0) + 1);
    const cpusets = [...new Set(vm.vcpus.map((v) => v.cpuset))];
    rows.push([
      vm.name,
      [...nodes].map(([n, k]) => `${n}x${k}`).join(' '),
      cpusets.length <= 2 ? cpusets.join(' ') : `${cpusets.slice(0, 2).join(' ')} +${cpusets.length - 2}`,
      vm.emulator.cpuset,
      Object.entries(vm.memory.MiB).map(([n, m]) => `${n}:${m}`).join(' ') || '-',
    ]);
  }
  const widths = rows[0].map((_, c) => rows.reduce((m, r) => Math.max(m, r[c].length), 0));
  for (const r of rows) lines.push(r.map((x, c) => x.padEnd(widths[c])).join('  ').trimEnd());
  return lines.join('\n') + '\n';
}

export const command: Command = {
  async run(argv) {
    const { values } = parseCommandArgs(argv, { input: { type: 'string' }, json: { type: 'boolean' } });
    if (values.help) {
      process.stdout.write(HELP);
      return EXIT_OK;
    }
    if (values.input === undefined) throw new UsageError('--input FILE|- is required (the problem JSON)');
    const text = await readInput(values.input as string);
    let raw: unknown;
    const deep = jsonDepthProblem(text);
    if (deep) throw new UsageError(`--input ${values.input}: ${deep}`);
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--input ${values.input} is not JSON: ${(e as Error).message.split('\n')[0].slice(0, 200)}`);
    }
    let problem: Problem;
    const tooBig = problemSizeProblem(raw);
    if (tooBig) throw new UsageError(`--input ${values.input}: ${tooBig}`);
    try {
      problem = validateProblem(raw);
    } catch (e) {
      if (e instanceof ProblemError) {
        process.stderr.write(`numaplace solve: bad problem: ${e.message}\n`);
        return EXIT_BAD_INPUT;
      }
      throw e;
    }
    const placement = await solve(problem);
    process.stdout.write(values.json ? JSON.stringify(placement, null, 2) + '\n' : formatPlacement(problem, placement));
    return EXIT_OK;
  },
};
