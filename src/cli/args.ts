/** Shared command-line plumbing: option parsing with clear errors, exit codes. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from '../core/did-you-mean.js';

/** Exit status contract: 0 success, 2 bad input (one-line reason on stderr), 1 other failure. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

/** Bad input from the user: reported as one line on stderr, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A subcommand (src/cli/commands/): runs with its arguments, returns the exit status. */
export interface Command {
  run(argv: string[]): Promise<number>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Host options every command that reads a host accepts (contract). */
export const HOST_OPTIONS = {
  connect: { type: 'string' },
  simulate: { type: 'string' },
  config: { type: 'string' },
  'reserved-cpus': { type: 'string' },
} as const satisfies Options;

export const HOST_OPTIONS_HELP = `host options:
  --connect URI           libvirt URI to manage (e.g. qemu:///system)
  --simulate SCENARIO     use the built-in simulated host running SCENARIO (a name or a scenario file)
  --config FILE           configuration file (default: /etc/numaplace/numaplace.json when it exists,
                          else the built-in defaults; the environment variable NUMAPLACE_CONFIG
                          names another default file, "" for none)
  --reserved-cpus CPUSET  host CPUs no VM may use, e.g. "0,64" (overrides the config)`;

/** parseArgs with strict checking, turning its errors into UsageError. */
export function parseCommandArgs<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (e) {
    const message = (e as Error).message.split('\n')[0];
    const unknown = /^Unknown option '--([^'=]+)'/.exec(message);
    const guess = unknown ? closest(unknown[1], [...Object.keys(options), 'help']) : null;
    throw new UsageError(guess ? `${message}; did you mean --${guess}? (--help lists the options)` : `${message} (--help lists the options)`);
  }
}
