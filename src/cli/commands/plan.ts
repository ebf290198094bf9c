/** `numaplace plan`: one cycle, nothing applied. */
import type { Command } from '../args.js';
import { runOneShot } from '../one-shot.js';

export const command: Command = { run: (argv) => runOneShot('plan', argv) };
