/** numaplace command line: a table of subcommands, each in src/cli/commands/. */
import { numaplaceVersion } from '../core/version.js';
import { EXIT_BAD_INPUT, EXIT_FAILURE, UsageError, type Command } from './args.js';
import { closest } from '../core/did-you-mean.js';

export type { Command } from './args.js';

/** Loaded lazily so `numaplace topology` does not pay for the solver or prom-client. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  config: { summary: 'check a configuration file and print the effective configuration', load: async () => (await import('./commands/config.js')).command },
  solve: { summary: 'place VMs on NUMA nodes: problem JSON in, placement JSON out', load: async () => (await import('./commands/solve.js')).command },
  topology: { summary: 'show the host NUMA topology', load: async () => (await import('./commands/topology.js')).command },
  plan: { summary: 'one cycle: print the plan (steps and the gain each brings); nothing applied', load: async () => (await import('./commands/plan.js')).command },
  apply: { summary: 'one cycle: apply the plan now', load: async () => (await import('./commands/apply.js')).command },
  run: { summary: 'run the placement daemon', load: async () => (await import('./commands/run.js')).command },
  status: { summary: 'what the running daemon is doing (last cycle, quality, pending, refused, left alone)', load: async () => (await import('./commands/status.js')).command },
};

const USAGE = () => `usage: numaplace <command> [options]

commands:
${Object.entries(COMMANDS).map(([c, { summary }]) => `  ${c.padEnd(10)} ${summary}`).join('\n')}

Run "numaplace help <command>" (or "numaplace <command> --help") for a command's options;
"numaplace --version" prints the version.
`;

/**
 * Errors that mean bad input from the user (exit status 2). Matched by name so that the lower
 * layers throw their own types without importing the CLI, and so main needs not load them.
 */
const BAD_INPUT_ERRORS: ReadonlySet<string> = new Set(['UsageError', 'ConfigError']);

export function isBadInput(e: unknown): boolean {
  return e instanceof UsageError || (e instanceof Error && BAD_INPUT_ERRORS.has(e.name));
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // `numaplace help COMMAND` is `numaplace COMMAND --help`.
  if (name === 'help' && rest.length > 0) return main([rest[0], '--help']);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`numaplace ${numaplaceVersion()} (node ${process.version})\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const guess = closest(name, Object.keys(COMMANDS));
    process.stderr.write(`numaplace: unknown command ${JSON.stringify(name)}${guess ? `; did you mean ${guess}?` : ''} (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return EXIT_BAD_INPUT;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (e) {
    if (isBadInput(e)) {
      process.stderr.write(`numaplace ${name}: ${(e as Error).message}\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(`numaplace ${name}: ${(e as Error).message}\n`);
    return EXIT_FAILURE;
  }
}
