/**
 * `numaplace config`: validate a configuration file and print the configuration the daemon
 * would run with (file + defaults + flags), as JSON. Check a file before `systemctl reload`.
 */
import { configFromFlags } from '../../daemon/config.js';
import { EXIT_OK, parseCommandArgs } from '../args.js';
import type { Command } from '../args.js';

const HELP = `usage: numaplace config [--config FILE] [--connect URI] [--reserved-cpus CPUSET] [--mode advisory|apply]

Validates the configuration and prints the effective one (file, defaults for the keys it leaves
out, then the flags) as JSON. Exit status 2 with the problems on one line when it is invalid.
Keys: config/README.md.

options:
  --config FILE           configuration file (default: the built-in defaults)
  --connect URI           overrides connect
  --reserved-cpus CPUSET  overrides reservedCpus
  --mode MODE             overrides mode (advisory or apply)
`;

export const command: Command = {
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      config: { type: 'string' },
      connect: { type: 'string' },
      'reserved-cpus': { type: 'string' },
      mode: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return EXIT_OK;
    }
    process.stdout.write(`${JSON.stringify(configFromFlags(values), null, 2)}\n`);
    return EXIT_OK;
  },
};
