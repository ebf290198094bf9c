/** numaplace command line: dispatches to the subcommands. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write('usage: numaplace <topology|solve|plan|apply|run> [options]\n');
    return 0;
  }
  process.stderr.write(`numaplace: unknown command ${JSON.stringify(argv[0])}; run numaplace --help\n`);
  return 2;
}
