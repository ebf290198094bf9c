/** `numaplace apply`: one cycle, applied. */
import type { Command } from '../args.js';
import { runOneShot } from '../one-shot.js';

export const command: Command = { run: (argv) => runOneShot('apply', argv) };
